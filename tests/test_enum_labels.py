"""Every value the API names by an enum has a label in plain words, in every language of the
pages (issue 19, "Words"): the one label table, ``lib/labels/<code>.json``, that the dashboard and
the portal read (``lib/labels.js``). The enums are read from the schema itself, so a new value —
or a new enum — fails here until it has its words; so do a notification kind and a priority.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest
from graphql import GraphQLEnumType

from casegraph.services.notifications import NotificationKind
from casegraph.web import STATIC
from schema import build_schema

LABELS: Final = STATIC / "lib" / "labels"
PORTAL_LANGUAGES: Final = STATIC / "portal" / "i18n"
# Enums no page shows by a label, each with why.
UNLABELLED: Final = {
    "ErrorCode": "a refusal is shown by its message (domain/refusals.py), never by its code",
}
PRIORITIES: Final = ("1", "2", "3", "4", "5")


def schema_enums() -> dict[str, list[str]]:
    types = build_schema()._schema.type_map
    return {
        name: list(kind.values)
        for name, kind in types.items()
        # "__Type…" are introspection's, "link__…" federation's: the machinery's, not the API's.
        if isinstance(kind, GraphQLEnumType) and "__" not in name
    }


def expected_keys() -> set[str]:
    keys = {f"{name}.{value}" for name, values in schema_enums().items() if name not in UNLABELLED for value in values}
    keys |= {f"NotificationKind.{kind.value}" for kind in NotificationKind}
    keys |= {f"Priority.{priority}" for priority in PRIORITIES}
    return keys


def tables() -> list[Path]:
    return sorted(LABELS.glob("*.json"))


def test_there_is_a_label_table_for_every_language_of_the_pages() -> None:
    assert {path.stem for path in tables()} == {path.stem for path in PORTAL_LANGUAGES.glob("*.json")}


def test_the_unlabelled_enums_are_enums_of_the_schema() -> None:
    assert set(UNLABELLED) <= set(schema_enums())


@pytest.mark.parametrize("table", tables(), ids=lambda path: path.stem)
def test_every_enum_value_has_a_label_in_plain_words(table: Path) -> None:
    # given the table of one language
    labels: dict[str, str] = json.loads(table.read_text(encoding="utf-8"))
    # then every value has one, and no label is a raw value (INSPECTION_IN_PROGRESS) or empty
    missing = sorted(expected_keys() - set(labels))
    assert missing == [], f"{table.name} has no label for {missing}"
    raw = sorted(key for key, text in labels.items() if not text.strip() or "_" in text or text == key.split(".")[1])
    assert raw == [], f"{table.name} labels these with their raw values: {raw}"


@pytest.mark.parametrize("table", tables(), ids=lambda path: path.stem)
def test_the_table_labels_nothing_the_api_does_not_name(table: Path) -> None:
    labels: dict[str, str] = json.loads(table.read_text(encoding="utf-8"))
    assert sorted(set(labels) - expected_keys()) == []


# The portal words these for the requester ("Waiting for your answer", not "Awaiting info"): its
# catalogues hold them under its own keys (portal/labels.js), for every value as well.
PORTAL_WORDED: Final = {"CaseStatus": "status", "CaseStage": "stage", "ResolutionCode": "resolution"}


@pytest.mark.parametrize("catalogue", sorted(PORTAL_LANGUAGES.glob("*.json")), ids=lambda path: path.stem)
def test_the_portal_words_every_status_stage_and_resolution_for_the_requester(catalogue: Path) -> None:
    texts: dict[str, str] = json.loads(catalogue.read_text(encoding="utf-8"))
    enums = schema_enums()
    wanted = {f"{prefix}.{value}" for name, prefix in PORTAL_WORDED.items() for value in enums[name]}
    assert sorted(wanted - set(texts)) == []
