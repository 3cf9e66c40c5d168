"""The portal speaks the visitor's language: its words come from one catalogue per language
(``portal/i18n/<code>.json``), none are written into its scripts (issue 17, "Their language").
So do the server's own pages the mails link to (sign-in link, unsubscribe, identity-provider
problems): their words come from ``casegraph/pages/catalogs/<code>.json``, none from their modules.

The guard reads every string literal of ``portal/*.js`` (template literals by their fixed parts)
and refuses one that reads as words for people: a capitalised word, two words with a space, or an
ellipsis. Strings for machines (enum values, test ids, CSS classes, selectors, URLs) are lower
case or UPPER_CASE without spaces; the CSS class lists given to ``class:`` are the exception
allowed by position. Needs Node.js for the catalogue list (skipped without it; CI refuses to).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

import pytest

from casegraph.pages import BUILT_IN as PAGE_CATALOGUES
from casegraph.web import STATIC
from tests.conftest import IN_CI

PORTAL: Final = STATIC / "portal"
CATALOGUES: Final = PORTAL / "i18n"
ENGLISH: Final = CATALOGUES / "en.json"
PACKAGE: Final = STATIC.parents[1]
# The modules that write the server's own pages.
PAGE_MODULES: Final = ("sign_in_pages.py", "oidc_pages.py", "mail/unsubscribe.py", "pages/__init__.py")
MARKUP: Final = re.compile(r"<[^>]*>|\{[^}]*\}")
PAGE_KEY_USE: Final = re.compile(r"""\btext\(\s*f?["']([^"']+)["']""")
# A literal that reads as words for people.
WORDS: Final = re.compile(r"\b[A-Z][a-z]+|[A-Za-z]{2,}[,.:;!?]? +[A-Za-z]{2,}|…")
# A CSS class list (`class: "panel welcome"`, `class: ["badge", …]`): lower-case names.
CLASS_LIST: Final = re.compile(r"[a-z0-9-]+(?: [a-z0-9-]+)*")
CLASS_POSITION: Final = re.compile(r"\bclass:\s*\[?\s*$")
# A programming error's message is for developers (a missing catalogue text, an unknown language);
# a CSS selector is for the DOM.
MACHINE_POSITION: Final = re.compile(r"(?:\bnew Error|\.querySelector(?:All)?)\(\s*$")
PLACEHOLDER: Final = re.compile(r"\{(\w+)\}")
KEY_USE: Final = re.compile(r"""\bt\(\s*["']([^"']+)["']""")
# A script telling a server's refusal by its (English) message, or showing the message itself:
# refusals are told by code, field and reason (portal/refusals.js).
MESSAGE_MATCHED: Final = re.compile(
    r"\bmessage\b[\w?.]*\s*\.\s*(?:includes|startsWith|endsWith|match|search|indexOf)\s*\("
)
MESSAGE_SHOWN: Final = re.compile(
    r"\berrors\b[\w?.\[\]0-9]*\.map\(\s*\(?(\w+)\)?\s*=>\s*\1\.message\b|\berrors\[0\]\.message\b"
)
LANGUAGES_SCRIPT: Final = """
const { LANGUAGES } = await import(process.argv[1] + "/portal/i18n.js");
console.log(JSON.stringify(Object.keys(LANGUAGES)));
"""
# The portal in Spanish as Node runs its modules: the language a browser's list picks, a status,
# a date, and the shared GraphQL client's English messages said in Spanish.
SPANISH_SCRIPT: Final = """
const i18n = await import(process.argv[1] + "/portal/i18n.js");
const { statusLabel, formatTime } = await import(process.argv[1] + "/portal/labels.js");
const { clientMessage } = await import(process.argv[1] + "/portal/chrome.js");
const picked = [i18n.languageFromBrowser(["fr-FR", "es-MX", "en"]), i18n.languageFromBrowser(["de"])];
const formatting = [i18n.formattingLocale("es", ["fr-FR", "es-MX"]), i18n.formattingLocale("es", ["en-GB"])];
await i18n.useLanguage("es");
console.log(JSON.stringify({
  picked,
  formatting,
  status: statusLabel("AWAITING_INFO"),
  unknownStatus: statusLabel("SOMETHING_NEW"),
  date: formatTime("2026-12-07T16:05:00Z"),
  intlDate: new Intl.DateTimeFormat("es", { dateStyle: "medium", timeStyle: "short" }).format(new Date("2026-12-07T16:05:00Z")),
  messages: ["Your sign-in was refused.", "The server answered 502.", "Case not found"].map(clientMessage),
}));
"""


def string_literals(source: str) -> list[tuple[str, str]]:
    """(literal, code before it on its line) for each string literal; comments are skipped."""
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if source.startswith("//", index):
            index = source.find("\n", index)
            index = len(source) if index < 0 else index
        elif source.startswith("/*", index):
            index = source.index("*/", index) + 2
        elif char in "'\"`":
            end = index + 1
            parts: list[str] = []
            start = end
            depth = 0
            while source[end] != char or depth:
                if source[end] == "\\":
                    end += 2
                    continue
                if char == "`" and source.startswith("${", end) and not depth:
                    parts.append(source[start:end])
                    depth = 1
                    end += 2
                    continue
                if depth and source[end] == "{":
                    depth += 1
                elif depth and source[end] == "}":
                    depth -= 1
                    if not depth:
                        start = end + 1
                end += 1
            parts.append(source[start:end])
            line_start = source.rfind("\n", 0, index) + 1
            found.append(("\u0000".join(parts), source[line_start:index]))
            index = end + 1
        else:
            index += 1
    return found


def reads_as_words(literal: str, before: str) -> bool:
    if CLASS_POSITION.search(before) and CLASS_LIST.fullmatch(literal):
        return False
    return WORDS.search(literal) is not None and not MACHINE_POSITION.search(before)


def written_words(source: str) -> list[str]:
    return [literal for literal, before in string_literals(source) if reads_as_words(literal, before)]


# The portal's words for a server's refusals, in Spanish, from refusals whose messages are English.
REFUSALS_SCRIPT: Final = """
const i18n = await import(process.argv[1] + "/portal/i18n.js");
const refusals = await import(process.argv[1] + "/portal/refusals.js");
await i18n.useLanguage("es");
const english = (reason) => ({ code: "VALIDATION_FAILED", field: "file", reason, message: "The file is over the limit." });
console.log(JSON.stringify({
  version: refusals.refusalWords({ code: "VERSION_CONFLICT", message: "The case is at version 3, not 2." }),
  unknown: refusals.refusalWords({ code: "SOMETHING_NEW", message: "Something new happened." }),
  files: [english("TOO_LARGE"), english("CASE_FULL"), english("TYPE"), { code: "VALIDATION_FAILED", field: "comment" }].map(refusals.fileRefusal),
}));
"""


def portal_scripts() -> list[Path]:
    scripts = sorted(PORTAL.glob("*.js"))
    assert scripts
    return scripts


def catalogue(path: Path) -> dict[str, str]:
    texts: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return texts


def test_no_words_for_people_are_written_into_the_portal_scripts() -> None:
    # given: the portal's scripts; the GraphQL documents are for the server, i18n.js names each
    # language in itself (in no catalogue, so a visitor can always find theirs), and chrome.js
    # recognises the shared GraphQL client's own English refusal to say it from the catalogue, as
    # uploads.js recognises the server's refusals of a file (never shown: it says them from the catalogue)
    allowed = {
        ("uploads.js", "case's files"),
        ("uploads.js", "over the limit"),
        ("uploads.js", "kind of file"),
        ("documents.js", None),
        ("i18n.js", "English"),
        ("i18n.js", "Español"),
        ("chrome.js", "Your sign-in was refused."),
    }
    # when: their string literals are read
    offenders = [
        f"{path.name}: {literal!r}"
        for path in portal_scripts()
        for literal in written_words(path.read_text(encoding="utf-8"))
        if (path.name, None) not in allowed and (path.name, literal) not in allowed
    ]
    # then: every text shown comes from the catalogue
    assert offenders == []


class UntranslatedText(HTMLParser):
    """Text of a page not in an element the portal translates (``data-i18n``), nor in
    ``<noscript>`` (no script, no catalogue: it says it in every language) or ``<title>`` (set
    from ``page.title``); attributes shown to people (``title``) need ``data-i18n-title``."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # (tag, translated)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if "title" in named and tag != "link" and "data-i18n-title" not in named:
            self.found.append(f"title={named['title']!r}")
        if tag not in {"meta", "link", "br", "img", "input"}:
            self.open.append((tag, "data-i18n" in named or tag in {"noscript", "title", "script", "style"}))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(translated for _, translated in self.open):
            self.found.append(data.strip())


def untranslated_text(page: str) -> list[str]:
    parser = UntranslatedText()
    parser.feed(page)
    return parser.found


def test_every_text_of_the_portal_page_is_translated() -> None:
    assert untranslated_text((STATIC / "portal.html").read_text(encoding="utf-8")) == []
    # the check sees a text and a tooltip left in English
    assert untranslated_text('<p>Hello <b data-i18n="x">Hi</b></p><span title="Tip">x</span>') == [
        "Hello",
        "title='Tip'",
        "x",
    ]


def test_the_guard_finds_words_in_a_script() -> None:
    # given: a script with a label, a sentence, an ellipsis, a message with a value, and strings
    # for machines and developers
    script = """
    h("button", { class: "primary link", testid: "file-submit" }, "Send");  // "Not this"
    replace(list, h("li", { class: ["badge", `status-${item.status}`] }, "you have none"));
    h("p", {}, "Loading…", `Request ${item.number}`, "AWAITING_INFO", '[data-testid="sign-out"]', t("signin.pasteToken"));
    if (!found) throw new Error(`no text "${key}"`);
    for (const control of form.querySelectorAll("input, textarea")) control.value = "";
    """
    # when: its literals are read
    words = written_words(script)
    # then: the four texts are found, nothing else
    assert words == ["Send", "you have none", "Loading…", "Request \u0000"]


def words_in_markup(source: str) -> list[str]:
    """The text of HTML written into a Python module: what is left of its literals holding markup
    once tags and ``{placeholders}`` are taken out (docstrings are for readers of the code)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    literals: list[str] = []
    parts_of_f_strings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            # An f-string is one literal: its values read as placeholders.
            parts_of_f_strings.update(id(part) for part in node.values)
            literals.append("".join(str(p.value) if isinstance(p, ast.Constant) else "{}" for p in node.values))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings | parts_of_f_strings:
            continue
        if isinstance(node.value, str):
            literals.append(node.value)
    texts = (" ".join(MARKUP.sub(" ", literal).split()) for literal in literals if "<" in literal)
    return [text for text in texts if re.search(r"[A-Za-z]{2,}", text)]


def test_no_words_for_people_are_written_into_the_servers_own_pages() -> None:
    # given: the modules that write the pages a mail's links open
    for name in PAGE_MODULES:
        source = (PACKAGE / name).read_text(encoding="utf-8")
        # then: their HTML holds no text of its own (it all comes from the pages' catalogues)
        assert words_in_markup(source) == [], name
    # and: the guard sees a heading, a title and a button written in English
    written = """PAGE = '<title>Sign in</title><h1>{title}</h1>'\nx = f'<button>{b}</button><p>Nothing changed.</p>'"""
    assert sorted(words_in_markup(written)) == ["Nothing changed.", "Sign in"]


def test_every_text_the_servers_pages_ask_for_is_in_every_page_catalogue() -> None:
    english = catalogue(PAGE_CATALOGUES / "en.json")
    asked = {key for name in PAGE_MODULES for key in PAGE_KEY_USE.findall((PACKAGE / name).read_text(encoding="utf-8"))}
    # the keys named whole, and those built from a reason or a step (oidc.{reason}.title)
    literal = {key for key in asked if "{" not in key}
    built = {re.compile(re.sub(r"\\\{\w+\\\}", r"[a-z_]+", re.escape(key))) for key in asked if "{" in key}
    assert literal and built
    assert sorted(literal - set(english)) == []
    for pattern in built:
        assert any(pattern.fullmatch(key) for key in english), pattern.pattern
    others = sorted(path for path in PAGE_CATALOGUES.glob("*.json") if path.name != "en.json")
    assert [path.name for path in others] == ["es.json"]
    for path in others:
        texts = catalogue(path)
        assert sorted(texts) == sorted(english), path.name
        for key, text in texts.items():
            assert text.strip(), f"{path.name}: {key} is empty"
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), f"{path.name}: {key}"


def test_every_catalogue_has_the_texts_of_the_english_one_with_the_same_placeholders() -> None:
    # given: the English catalogue, which the portal falls back to
    english = catalogue(ENGLISH)
    others = sorted(path for path in CATALOGUES.glob("*.json") if path != ENGLISH)
    assert others, "only English"
    for path in others:
        # when: another language's catalogue is compared with it
        texts = catalogue(path)
        # then: the same keys, each text non-empty with the same {placeholders}
        assert sorted(texts) == sorted(english), path.name
        for key, text in texts.items():
            assert text.strip(), f"{path.name}: {key} is empty"
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), f"{path.name}: {key}"


def test_every_text_the_scripts_ask_for_is_in_the_catalogue() -> None:
    english = catalogue(ENGLISH)
    asked = {key for path in portal_scripts() for key in KEY_USE.findall(path.read_text(encoding="utf-8"))}
    assert asked
    assert sorted(asked - set(english)) == []


def run_portal_modules(script: str) -> Any:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("CI must have Node.js to run the portal's modules")
        pytest.skip("node is not installed")
    completed = subprocess.run(
        [node, "--input-type=module", "-e", script, STATIC.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_the_languages_offered_are_the_catalogues_there_are() -> None:
    offered = run_portal_modules(LANGUAGES_SCRIPT)
    assert sorted(offered) == sorted(path.stem for path in CATALOGUES.glob("*.json"))


def test_in_spanish_the_portal_words_statuses_dates_and_the_clients_messages_in_spanish() -> None:
    # given: the Spanish catalogue
    spanish = catalogue(CATALOGUES / "es.json")
    # when: Node runs the portal's modules in Spanish
    said = run_portal_modules(SPANISH_SCRIPT)
    # then: a browser asking for es-MX gets Spanish, one asking for German English
    assert said["picked"] == ["es", "en"]
    # and writes dates for the browser's region of that language, if it names one
    assert said["formatting"] == ["es-MX", "es"]
    # and statuses, dates and the client's messages are Spanish; an unknown status shows its value
    assert said["status"] == spanish["status.AWAITING_INFO"]
    assert said["unknownStatus"] == "SOMETHING_NEW"
    assert said["date"] == said["intlDate"]
    assert "dic" in said["date"]
    assert said["messages"] == [
        spanish["error.signInRefused"],
        spanish["error.httpStatus"].replace("{status}", "502"),
        "Case not found",
    ]


def refusal_text_uses(source: str) -> list[str]:
    """Where a script tells or shows a server's refusal by its English message."""
    return [found.group(0) for pattern in (MESSAGE_MATCHED, MESSAGE_SHOWN) for found in pattern.finditer(source)]


def test_no_portal_script_tells_a_refusal_by_its_english_message() -> None:
    # given: every portal script
    # when
    found = {path.name: refusal_text_uses(path.read_text(encoding="utf-8")) for path in portal_scripts()}
    # then: refusals are told by code, field and reason, and worded from the catalogues
    assert {name: uses for name, uses in found.items() if uses} == {}


def test_the_refusal_guard_finds_a_message_told_by_its_words() -> None:
    # given: what the portal used to do
    told = 'const message = error.message ?? "";\n  if (message.includes("over the limit")) return "tooLarge";'
    shown = 'page.banner.show(payload.errors.map((e) => e.message).join("; "));'
    first = "return errors.length ? errors[0].message : null;"
    # then
    assert refusal_text_uses(told) and refusal_text_uses(shown) and refusal_text_uses(first)
    assert refusal_text_uses("if (error.field !== 'file') return fileRefusal(error);") == []


def test_in_spanish_a_servers_refusals_are_worded_by_code_and_reason() -> None:
    # given: the Spanish catalogue
    spanish = catalogue(CATALOGUES / "es.json")
    # when: Node runs portal/refusals.js in Spanish on refusals whose messages are English
    said = run_portal_modules(REFUSALS_SCRIPT)
    # then
    assert said["version"] == spanish["refusal.VERSION_CONFLICT"]
    assert said["unknown"] == spanish["refusal.generic"]
    assert said["files"] == ["tooLarge", "caseFull", "type", "notAttached"]
