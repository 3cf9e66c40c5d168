"""``/mail/unsubscribe``: the link every mail carries to stop non-essential mail.

GET shows a page with one button, because mail scanners follow links and must not unsubscribe
anyone; POST (the button, or a mail client's RFC 8058 one-click request) turns the person's
non-essential mail off. A user id with a wrong token is refused and changes nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from casegraph.runtime import Runtime
from casegraph.services.mail_preferences import stop_non_essential_mail, token_matches

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Casegraph mail</title></head>
<body><main>{body}</main></body></html>
"""
ASK = """<h1>Stop optional mail?</h1>
<p>You will no longer get satisfaction surveys and other optional mails. Mails about the cases you filed keep coming.</p>
<form method="post"><button type="submit">Stop optional mail</button></form>"""
DONE = "<h1>Done</h1><p>You will get no more optional mails. Mails about your cases keep coming.</p>"
REFUSED = "<h1>This link is not valid</h1><p>Nothing was changed.</p>"


def unsubscribe_endpoint(runtime: Runtime) -> Any:
    async def unsubscribe(request: Request) -> Response:
        user_id = request.query_params.get("user", "")
        token = request.query_params.get("token", "")
        if not user_id or not token_matches(runtime.settings.mail_signing_secret, user_id, token):
            return HTMLResponse(PAGE.format(body=REFUSED), status_code=400)
        if request.method == "GET":
            return HTMLResponse(PAGE.format(body=ASK))
        if not await stop_non_essential_mail(user_id=user_id, now=runtime.clock()):
            return HTMLResponse(PAGE.format(body=REFUSED), status_code=400)
        return HTMLResponse(PAGE.format(body=DONE))

    return unsubscribe
