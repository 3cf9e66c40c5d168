"""Files on cases (issue 18): addAttachment over the GraphQL multipart request spec, removeAttachment."""

from __future__ import annotations

import strawberry

from resolvers import attachments
from schema.context import Info
from schema.inputs import AddAttachmentInput, RemoveAttachmentInput
from schema.payloads import AttachmentPayload


@strawberry.type
class AttachmentMutation:
    @strawberry.mutation(
        description="Attach a file (multipart request): the requester on their own case, staff who may update it; "
        "an ADD_ATTACHMENT event. Images are stored without their metadata (EXIF, GPS)."
    )
    async def add_attachment(self, info: Info, input: AddAttachmentInput) -> AttachmentPayload:
        return await attachments.add_attachment(info, input)

    @strawberry.mutation(
        description="Remove a file (staff handling the case): kept in the history, its content purged; "
        "a REMOVE_ATTACHMENT event."
    )
    async def remove_attachment(self, info: Info, input: RemoveAttachmentInput) -> AttachmentPayload:
        return await attachments.remove_attachment(info, input)
