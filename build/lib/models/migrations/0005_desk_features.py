from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from casegraph.domain.enums import CaseStage
from casegraph.domain.knowledge import ArticleStatus
from casegraph.domain.sla import Phase, TimerKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_case_desk_fields')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Article',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(db_index=True, description='DRAFT: DRAFT\nPUBLISHED: PUBLISHED', enum_type=ArticleStatus, max_length=16)),
                ('case_type', fields.ForeignKeyField('models.CaseType', source_field='case_type_id', null=True, db_constraint=True, to_field='id', related_name='articles', on_delete=OnDelete.RESTRICT)),
                ('keywords', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', db_constraint=True, to_field='id', related_name='authored_articles', on_delete=OnDelete.RESTRICT)),
                ('source_case', fields.ForeignKeyField('models.Case', source_field='source_case_id', null=True, db_constraint=True, to_field='id', related_name='source_of_articles', on_delete=OnDelete.RESTRICT)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name='published_articles', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'kb_articles', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A knowledge-base article. ``version`` is bumped by exactly one per change (optimistic lock).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ArticleTerm',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='terms', on_delete=OnDelete.CASCADE)),
                ('term', fields.CharField(db_index=True, max_length=64)),
                ('weight', fields.IntField()),
            ],
            options={'table': 'kb_article_terms', 'app': 'models', 'unique_together': (('article', 'term'),), 'pk_attr': 'id', 'table_description': 'The search index: one row per (article, word stem), weighted by where and how often it occurs.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseAlert',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='sla_alerts', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('key', fields.CharField(max_length=64)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_alerts', 'app': 'models', 'unique_together': (('case', 'kind', 'key'),), 'pk_attr': 'id', 'table_description': 'A wall-clock alert of one case (stage dwell, unanswered comment, auto-close reminder or'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseArticleLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='article_links', on_delete=OnDelete.RESTRICT)),
                ('article', fields.ForeignKeyField('models.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='case_links', on_delete=OnDelete.RESTRICT)),
                ('linked_by', fields.ForeignKeyField('models.User', source_field='linked_by_id', db_constraint=True, to_field='id', related_name='article_links', on_delete=OnDelete.RESTRICT)),
                ('event_sequence', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_article_links', 'app': 'models', 'unique_together': (('case', 'article'),), 'pk_attr': 'id', 'table_description': 'An article linked to a case, written with the case event that recorded it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.CharEnumField(description='DRAFT: DRAFT\nINTAKE: INTAKE\nREVIEW: REVIEW\nPROCESS: PROCESS\nDECISION: DECISION', enum_type=CaseStage, max_length=16)),
                ('position', fields.SmallIntField()),
                ('title', fields.CharField(max_length=200)),
                ('required', fields.BooleanField(default=True)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by', fields.ForeignKeyField('models.User', source_field='done_by_id', null=True, db_constraint=True, to_field='id', related_name='done_steps', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_steps', 'app': 'models', 'unique_together': (('case', 'stage', 'position'),), 'pk_attr': 'id', 'table_description': "A case's own copy of a playbook step, made when the case is submitted, and its progress."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('case_type', fields.ForeignKeyField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='templates', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(null=True, max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('impact', fields.SmallIntField(null=True)),
                ('urgency', fields.SmallIntField(null=True)),
                ('required_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_templates', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Pre-fills a new case of its case type and names the fields it requires at submission.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseIntake',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.OneToOneField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='intake', on_delete=OnDelete.RESTRICT)),
                ('template', fields.ForeignKeyField('models.CaseTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_intakes', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The template a case was filed from (its required fields apply when the case is submitted).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseTimer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='sla_timers', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='RESPONSE: RESPONSE\nRESOLUTION: RESOLUTION', enum_type=TimerKind, max_length=16)),
                ('target_minutes', fields.IntField()),
                ('elapsed_us', fields.BigIntField(default=0)),
                ('running_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('phase', fields.CharEnumField(description='RUNNING: RUNNING\nPAUSED: PAUSED\nSTOPPED: STOPPED', enum_type=Phase, max_length=16)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('warned_50_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('warned_75_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_due_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_timers', 'app': 'models', 'unique_together': (('case', 'kind'),), 'pk_attr': 'id', 'table_description': 'One SLA clock of one case, kept up to date by a change hook on every recorded event.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseTypeRequirement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_type', fields.OneToOneField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='requirement', on_delete=OnDelete.RESTRICT)),
                ('required_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case_type_requirements', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The fields every case of a case type must have when it is submitted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Playbook',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_type', fields.OneToOneField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='playbook', on_delete=OnDelete.RESTRICT)),
                ('enforce_required_steps', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'playbooks', 'app': 'models', 'pk_attr': 'id', 'table_description': "A case type's checklist definition. ``enforce_required_steps`` holds cases in a stage."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlaybookStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('playbook', fields.ForeignKeyField('models.Playbook', source_field='playbook_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('stage', fields.CharEnumField(description='DRAFT: DRAFT\nINTAKE: INTAKE\nREVIEW: REVIEW\nPROCESS: PROCESS\nDECISION: DECISION', enum_type=CaseStage, max_length=16)),
                ('position', fields.SmallIntField()),
                ('title', fields.CharField(max_length=200)),
                ('required', fields.BooleanField(default=True)),
            ],
            options={'table': 'playbook_steps', 'app': 'models', 'unique_together': (('playbook', 'stage', 'position'),), 'pk_attr': 'id', 'table_description': 'One step of a playbook: ordered by ``position`` within its stage.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceDefinition',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('case_type', fields.ForeignKeyField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='service_definitions', on_delete=OnDelete.RESTRICT)),
                ('template', fields.ForeignKeyField('models.CaseTemplate', source_field='template_id', null=True, db_constraint=True, to_field='id', related_name='service_definitions', on_delete=OnDelete.RESTRICT)),
                ('public', fields.BooleanField(default=True)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'service_definitions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A service offered to the public ("Report a pothole"): files a case of its case type.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_type', fields.ForeignKeyField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='sla_policies', on_delete=OnDelete.CASCADE)),
                ('priority', fields.SmallIntField()),
                ('response_minutes', fields.IntField(null=True)),
                ('resolution_minutes', fields.IntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sla_policies', 'app': 'models', 'unique_together': (('case_type', 'priority'),), 'pk_attr': 'id', 'table_description': 'Targets for cases of one case type and priority. a null target means no timer of that kind.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_type', fields.OneToOneField('models.CaseType', source_field='case_type_id', db_constraint=True, to_field='id', related_name='sla_settings', on_delete=OnDelete.CASCADE)),
                ('dwell_intake_minutes', fields.IntField(null=True)),
                ('dwell_review_minutes', fields.IntField(null=True)),
                ('dwell_process_minutes', fields.IntField(null=True)),
                ('dwell_decision_minutes', fields.IntField(null=True)),
                ('unanswered_comment_minutes', fields.IntField(null=True)),
                ('auto_close_enabled', fields.BooleanField(default=False)),
                ('auto_close_reminder_minutes', fields.IntField(null=True)),
                ('auto_close_minutes', fields.IntField(null=True)),
                ('business_hours', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sla_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "A case type's alert settings and business hours. a null value means the default."},
            bases=['Model'],
        ),
    ]
