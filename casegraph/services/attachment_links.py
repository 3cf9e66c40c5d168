"""Short-lived download links for attachments, bound to the person they were made for.

A link names the attachment, the variant, when it expires and a signature (HMAC-SHA256, with a
key derived from the server's link secret) over those *and the user it was made for*. The user is
not in the link: the download route takes it from the session token the request must carry, so
a link passed on to someone else does not verify for them, and one used after its time does not
verify at all. Verifying is not authorizing: the route then asks again whether that user may see
the case and the file now.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from casegraph.domain.attachments import Variant

ROUTE: Final = "/attachments"
KEY_LABEL: Final = b"casegraph attachment download links v1"


class AttachmentLinks:
    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._key = hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()
        self.lifetime = lifetime

    def url(self, *, attachment_id: str, user_id: str, variant: Variant, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        query = {"expires": str(expires), "signature": self._sign(attachment_id, user_id, variant, expires)}
        if variant is not Variant.ORIGINAL:
            query = {"variant": variant.value, **query}
        return f"{ROUTE}/{attachment_id}?{urlencode(query)}"

    def verify(
        self, *, attachment_id: str, user_id: str, variant: Variant, expires: str, signature: str, now: datetime
    ) -> bool:
        if not expires.isdigit() or int(expires) < now.timestamp():
            return False
        expected = self._sign(attachment_id, user_id, variant, int(expires))
        return hmac.compare_digest(expected, signature)

    def _sign(self, attachment_id: str, user_id: str, variant: Variant, expires: int) -> str:
        message = "\n".join((attachment_id, variant.value, user_id, str(expires))).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
