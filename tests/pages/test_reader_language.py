"""The server's own pages pick the reader's language from the catalogues there are: a language is
a file, and an agency's file replaces the built-in one of its language (casegraph/pages)."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request

from casegraph.pages import reader_texts


def opened(query: str = "", accept_language: str | None = None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": headers})


def test_the_link_names_the_language_then_the_browser_by_quality_then_english() -> None:
    assert reader_texts(opened("lang=es", "en"), None).language == "es"
    assert reader_texts(opened("lang=xx", "de, es-AR;q=0.7, en;q=0.5"), None).language == "es"
    assert reader_texts(opened(accept_language="en;q=0.4, es;q=0.9"), None).language == "es"
    assert reader_texts(opened(accept_language="es;q=0, fr"), None).language == "en"
    assert reader_texts(opened(accept_language="es;q=zero, *"), None).language == "en"
    assert reader_texts(opened(), None).language == "en"


def test_adding_a_language_is_adding_a_file_and_an_agency_rewords_a_text(tmp_path: Path) -> None:
    # given: an agency's template directory with a French catalogue and one Spanish text of its own
    folder = tmp_path / "page_catalogs"
    folder.mkdir()
    (folder / "fr.json").write_text(json.dumps({"sign_in.title": "Connexion"}), encoding="utf-8")
    (folder / "es.json").write_text(json.dumps({"sign_in.title": "Entrar"}), encoding="utf-8")
    # when
    french = reader_texts(opened(accept_language="fr-CA, en;q=0.5"), str(tmp_path))
    spanish = reader_texts(opened("lang=es"), str(tmp_path))
    # then: French where it has a text, English beneath (a catalogue is filled in bit by bit)
    assert french.language == "fr" and french.text("sign_in.title", {}) == "Connexion"
    assert french.text("sign_in.button", {}) == "Sign in"
    # and: the agency's Spanish file replaces the built-in one, as its mail catalogues do
    assert spanish.text("sign_in.title", {}) == "Entrar"
