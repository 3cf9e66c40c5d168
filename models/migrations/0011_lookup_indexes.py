from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_event_action_description')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['assignment_group_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['assigned_to_id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['requester_id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['parent_id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['duplicate_of_id']),
        ),
        ops.AddIndex(
            model_name='CaseTask',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='CaseTask',
            index=Index(fields=['assignee_id']),
        ),
        ops.AddIndex(
            model_name='Comment',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='GroupMembership',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='WorkNote',
            index=Index(fields=['case_id']),
        ),
    ]
