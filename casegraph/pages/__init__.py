"""The server's own short pages (sign-in link, unsubscribe, identity-provider problems) in the
reader's language, from one catalogue per language: ``pages/catalogs/<language>.json``.

Adding a language is adding a file here (and one beside the mail catalogues); an agency's
template directory (CASEGRAPH_MAIL_TEMPLATES) may hold ``page_catalogs/<language>.json`` that
replaces the built-in file of its language, as its ``catalogs/`` does for mails. The language is the one
the link names (``?lang=``, written by the mail that carried it, so the page speaks the mail's
language), else the first of the browser's Accept-Language we have, else English.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse

from casegraph.mail.catalogs import Catalogs, Texts
from casegraph.web import PAGE_HEADERS

BUILT_IN: Final = Path(__file__).resolve().parent / "catalogs"
OVERRIDE_FOLDER: Final = "page_catalogs"
LANGUAGE_PARAMETER: Final = "lang"
# A language tag is short; anything longer is not one and is not looked at.
MAX_TAG: Final = 35

# The look of the portal (its stylesheet), one panel in the middle of the page.
SHELL: Final = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/lib/style.css"></head>
<body><main class="server-page"{attributes}><section class="panel"><h1>{title}</h1>
{body}</section></main></body></html>
"""


@lru_cache(maxsize=4)
def page_catalogs(override: str | None) -> Catalogs:
    """The pages' catalogues, read once per agency template directory."""
    return Catalogs(Path(override) if override is not None else None, built_in=BUILT_IN, folder=OVERRIDE_FOLDER)


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, best first (by quality, then by position)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and tag.strip() != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()[:MAX_TAG]))
    return [tag for _, _, tag in sorted(ranked)]


def reader_language(request: Request, catalogs: Catalogs, named: object = None) -> str:
    """The language named (by the link, or a form it led to) when we have it, else the browser's
    first we have, else English."""
    if not isinstance(named, str):
        named = request.query_params.get(LANGUAGE_PARAMETER, "")
    for tag in [named[:MAX_TAG], *_accepted(request.headers.get("accept-language", ""))]:
        language = catalogs.find(tag) if tag else None
        if language is not None:
            return language
    return catalogs.choose(None)


def reader_texts(request: Request, override: str | None, named: object = None) -> Texts:
    catalogs = page_catalogs(override)
    return catalogs.texts(reader_language(request, catalogs, named))


def page(texts: Texts, title: str, body: str, *, status: int = 200, attributes: str = "") -> HTMLResponse:
    """A page in ``texts``' language; ``title`` is plain text, ``body`` is HTML already escaped."""
    return HTMLResponse(
        SHELL.format(lang=texts.language, title=escape(title), body=body, attributes=attributes),
        status_code=status,
        # The portal's headers (no framing, no inline code), never kept in a cache. The referrer
        # (a link's token in its query) goes to this site only: "no-referrer" would make the
        # browser post the form with ``Origin: null``, which the sign-in endpoint refuses.
        headers={
            **PAGE_HEADERS,
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
            "Content-Language": texts.language,
        },
    )


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def link(href: str, text: str) -> str:
    return f'<p><a href="{escape(href)}">{escape(text)}</a></p>'
