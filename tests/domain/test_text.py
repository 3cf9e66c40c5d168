"""The word stems, similarity and distance behind knowledge search and duplicate detection."""

from __future__ import annotations

import pytest

from casegraph.domain.text import bounding_box, cosine, distance_meters, term_counts, terms


@pytest.mark.parametrize(
    ("forms", "stem"),
    [
        (["pothole", "potholes", "Potholes"], "pothol"),
        (["repair", "repairs", "repaired", "repairing"], "repair"),
        (["flood", "floods", "flooded", "flooding"], "flood"),
        (["city", "cities"], "city"),
        (["box", "boxes"], "box"),
        (["case", "cases"], "cas"),
        (["café", "cafe", "CAFÉS"], "caf"),
    ],
)
def test_word_forms_share_one_stem(forms: list[str], stem: str) -> None:
    # given / when
    stems = {term for form in forms for term in terms(form)}
    # then
    assert stems == {stem}


def test_stop_words_punctuation_and_single_letters_are_left_out() -> None:
    # given / when
    found = terms("The pothole, on Elm St. — it's a *huge* one! #12")
    # then
    assert found == ["pothol", "elm", "st", "hug", "one", "12"]


def test_cosine_is_one_for_the_same_words_and_zero_for_none_shared() -> None:
    # given
    left = term_counts("Pothole on Elm Street")
    # when / then
    assert cosine(left, term_counts("elm street potholes")) == pytest.approx(1.0)
    assert cosine(left, term_counts("Broken lamp")) == 0.0
    assert 0 < cosine(left, term_counts("Pothole on Oak Avenue")) < 1
    assert cosine(left, {}) == 0.0


def test_distance_and_bounding_box_agree() -> None:
    # given a point and one a kilometre north
    lat, lon = 52.37, 4.89
    north = lat + 1_000 / 111_195.0
    # when
    south_edge, north_edge, west_edge, east_edge = bounding_box(lat, lon, 1_000)
    # then
    assert distance_meters(lat, lon, north, lon) == pytest.approx(1_000, rel=1e-3)
    assert south_edge < lat < north_edge and west_edge < lon < east_edge
    assert distance_meters(lat, lon, north_edge, lon) == pytest.approx(1_000, rel=1e-3)
    assert distance_meters(lat, lon, lat, east_edge) == pytest.approx(1_000, rel=1e-2)
