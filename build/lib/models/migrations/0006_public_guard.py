from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_desk_features')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedQuery',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('document', fields.TextField(unique=False)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'persisted_queries', 'app': 'models', 'pk_attr': 'sha256', 'table_description': "An operation registered for the allow-list, by the SHA-256 of its text (APQ's hash)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateLimitBucket',
            fields=[
                ('bucket', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('hits', fields.IntField()),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_limit_buckets', 'app': 'models', 'pk_attr': 'bucket', 'table_description': 'Hits in one fixed window for one key (e.g. ``mutation:user:<sub>:<window start>``).'},
            bases=['Model'],
        ),
    ]
