"""``/mail/unsubscribe``: the link every mail carries to stop non-essential mail.

GET shows a page with one button, because mail scanners follow links and must not unsubscribe
anyone; POST (the button, or a mail client's RFC 8058 one-click request) turns the person's
non-essential mail off. A user id with a wrong token is refused and changes nothing. The page
speaks the language of the mail that carried the link (its ``lang``), else the browser's.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from casegraph.mail.catalogs import Texts
from casegraph.pages import page, paragraph, reader_texts
from casegraph.runtime import Runtime
from casegraph.services.mail_preferences import stop_non_essential_mail, token_matches


def _said(texts: Texts, step: str, *, status: int = 200, form: str = "") -> Response:
    body = paragraph(texts.text(f"unsubscribe.{step}.text", {})) + form
    return page(texts, texts.text(f"unsubscribe.{step}.title", {}), body, status=status)


def unsubscribe_endpoint(runtime: Runtime) -> Any:
    override = runtime.settings.mail_templates

    async def unsubscribe(request: Request) -> Response:
        # The form posts to this same address, query and its language included.
        texts = reader_texts(request, override)
        user_id = request.query_params.get("user", "")
        token = request.query_params.get("token", "")
        if not user_id or not token_matches(runtime.settings.mail_signing_secret, user_id, token):
            return _said(texts, "refused", status=400)
        if request.method == "GET":
            button = escape(texts.text("unsubscribe.ask.button", {}))
            return _said(
                texts, "ask", form=f'<form method="post"><button type="submit" class="primary">{button}</button></form>'
            )
        if not await stop_non_essential_mail(user_id=user_id, now=runtime.clock()):
            return _said(texts, "refused", status=400)
        return _said(texts, "done")

    return unsubscribe
