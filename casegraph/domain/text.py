"""Words of free text, for knowledge search and duplicate detection. Pure: standard library only.

Text is folded (accents stripped, lower-cased), split on anything that is not a letter or a
digit, stop words dropped, and each word cut to a light English stem so that "potholes",
"repaired" and "flooding" meet "pothole", "repair" and "flood". The same function indexes and
queries, so what matters is that it is consistent, not that the stems are real words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final

MAX_TERM_LENGTH: Final = 64
_WORD: Final = re.compile(r"[a-z0-9]+")
STOP_WORDS: Final = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "please",
        "hi",
        "hello",
        "thanks",
        "thank",
    ]
)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def stem(word: str) -> str:
    """A light suffix strip (plurals, then -ing/-ed, then a final e); short words stay as they are."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 5 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def terms(text: str | None) -> list[str]:
    """The stems of ``text`` in order, stop words and one-letter words left out."""
    if not text:
        return []
    found = []
    for word in _WORD.findall(fold(text)):
        if len(word) < 2 or word in STOP_WORDS:
            continue
        found.append(stem(word)[:MAX_TERM_LENGTH])
    return found


def term_counts(text: str | None) -> Counter[str]:
    return Counter(terms(text))


def weighted_terms(parts: Iterable[tuple[str | None, int]]) -> Counter[str]:
    """Term frequencies over several fields, each counted ``weight`` times (a title counts more)."""
    counts: Counter[str] = Counter()
    for text, weight in parts:
        for term, count in term_counts(text).items():
            counts[term] += count * weight
    return counts


def cosine(left: Mapping[str, int], right: Mapping[str, int]) -> float:
    """Cosine similarity of two term-frequency vectors, 0 (nothing shared) … 1 (same words)."""
    if not left or not right:
        return 0.0
    shared = set(left) & set(right)
    dot = sum(left[t] * right[t] for t in shared)
    if dot == 0:
        return 0.0
    norm = math.sqrt(sum(v * v for v in left.values())) * math.sqrt(sum(v * v for v in right.values()))
    return dot / norm


EARTH_RADIUS_METERS: Final = 6_371_008.8


def distance_meters(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance between two WGS 84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_meters: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) of a box holding every point within the radius."""
    dlat = math.degrees(radius_meters / EARTH_RADIUS_METERS)
    cos_lat = math.cos(math.radians(lat))
    dlon = 180.0 if cos_lat < 1e-6 else min(180.0, math.degrees(radius_meters / (EARTH_RADIUS_METERS * cos_lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
