from tortoise import migrations
from tortoise.migrations import operations as ops
from casegraph.domain.enums import CaseAction
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Case',
            name='auto_close_excluded',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='duplicate_of',
            field=fields.ForeignKeyField('models.Case', source_field='duplicate_of_id', null=True, db_constraint=True, to_field='id', related_name='duplicates', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Case',
            name='escalated',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Case',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Case',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Case',
            name='parent',
            field=fields.ForeignKeyField('models.Case', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Case',
            name='service_definition_code',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AlterField(
            model_name='CaseEvent',
            name='action',
            field=fields.CharEnumField(description='CREATE: CREATE\nSUBMIT: SUBMIT\nASSIGN: ASSIGN\nACCEPT: ACCEPT\nASSIGN_TO_ME: ASSIGN_TO_ME\nUPDATE: UPDATE\nBEGIN_REVIEW: BEGIN_REVIEW\nREQUEST_INFO: REQUEST_INFO\nRESUME: RESUME\nREQUEST_INSPECTION: REQUEST_INSPECTION\nCOMPLETE_INSPECTION: COMPLETE_INSPECTION\nSTART_WORK: START_WORK\nASSIGN_WORK: ASSIGN_WORK\nCOMPLETE_WORK: COMPLETE_WORK\nPROPOSE_SOLUTION: PROPOSE_SOLUTION\nACCEPT_SOLUTION: ACCEPT_SOLUTION\nREJECT_SOLUTION: REJECT_SOLUTION\nCLOSE: CLOSE\nCANCEL: CANCEL\nDELETE: DELETE\nSUBMIT_SURVEY: SUBMIT_SURVEY\nRESTORE: RESTORE\nCOMPLETE_TASK: COMPLETE_TASK\nCANCEL_TASK: CANCEL_TASK\nSTART_TASK: START_TASK\nCOMPLETE_STEP: COMPLETE_STEP\nLINK_ARTICLE: LINK_ARTICLE\nMARK_DUPLICATE: MARK_DUPLICATE\nSPLIT_CASE: SPLIT_CASE\nSLA_TIMER: SLA_TIMER\nAUTO_CLOSE: AUTO_CLOSE', enum_type=CaseAction, max_length=32),
        ),
    ]
