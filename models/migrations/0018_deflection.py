"""Helping themselves (issue 17): the draft sessions of the portal's filing form and the articles
read in them, which the deflection figure of ``analytics`` counts; and an index on a word's
rows by weight, which bounds the portal's article suggestions."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from casegraph.domain.self_service import DraftOutcome
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0017_oidc')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SelfServiceDraft',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('requester', fields.ForeignKeyField('models.User', source_field='requester_id', db_constraint=True, to_field='id', related_name='self_service_drafts', on_delete=OnDelete.RESTRICT)),
                ('draft_key', fields.UUIDField()),
                ('case_type_id', fields.IntField()),
                ('assignment_group_id', fields.IntField()),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_step_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharEnumField(null=True, description='ABANDONED: ABANDONED\nFILED: FILED', enum_type=DraftOutcome, max_length=16)),
                ('case_id', fields.UUIDField(null=True)),
            ],
            options={'table': 'self_service_drafts', 'app': 'models', 'unique_together': (('requester', 'draft_key'),), 'pk_attr': 'id', 'table_description': "One opening of the portal's filing form by a constituent (``draft_key`` is drawn by the browser)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SelfServiceRead',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('draft', fields.ForeignKeyField('models.SelfServiceDraft', source_field='draft_id', db_constraint=True, to_field='id', related_name='reads', on_delete=OnDelete.CASCADE)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='self_service_reads', on_delete=OnDelete.CASCADE)),
                ('read_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'self_service_reads', 'app': 'models', 'unique_together': (('draft', 'article'),), 'pk_attr': 'id', 'table_description': 'A published article opened during a draft session (once per article and session).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='ArticleTerm',
            index=Index(fields=['term', 'weight']),
        ),
    ]
