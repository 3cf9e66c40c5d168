"""What a search box's text means, the same on PostgreSQL and SQLite (``cases(filter: {text})``).

The text is never handed to a query language as written: it is cut into terms — a "quoted
phrase" or a word — of letters and digits only, all of which a case must contain (in any of its
searched texts). A term's last word is a prefix ("street" finds "streetlight", "pot" finds
"pothole"), as people type into a search box and as the title filter this replaced matched. Punctuation separates words, as both backends' tokenizers split them, so
"e-mail" is the phrase "e mail" and an FTS5 operator or quote the user typed is just a separator.
A text that is a single word is also tried as a case number: the case with that number comes
first, ahead of cases that merely mention it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# A quoted phrase (closed or running to the end) or a run of anything but spaces and quotes.
_PARTS: Final = re.compile(r'"([^"]*)"?|([^\s"]+)')
# Letters and digits in any script; "_" separates, as it does for both tokenizers.
_WORD: Final = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchText:
    """The terms of a search, each a word or a phrase of words (lowercase, space-separated)."""

    terms: tuple[str, ...]
    # The case number the text may be (a single word, uppercased as numbers are), else None.
    number: str | None

    @property
    def matches_nothing(self) -> bool:
        """Only punctuation: no term any case could contain."""
        return not self.terms

    def tsquery(self) -> str:
        """The terms as PostgreSQL ``to_tsquery`` text: a phrase's words follow one another
        (``<->``), its last word a prefix (``:*``), terms ANDed. Words hold letters and digits
        only, none of ``to_tsquery``'s operators."""
        return " & ".join("(" + " <-> ".join(term.split(" ")) + ":*)" for term in self.terms)

    def fts5(self, columns: tuple[str, ...] | None = None) -> str:
        """An FTS5 MATCH expression: each term a quoted string (holding only letters, digits and
        spaces, so nothing in it is FTS5 syntax), its last word a prefix, ANDed; limited to
        ``columns`` when given."""
        expression = " AND ".join(f'"{term}"*' for term in self.terms)
        if columns is None:
            return expression
        return "{" + " ".join(columns) + "} : (" + expression + ")"


def search_text(text: str) -> SearchText:
    terms: list[str] = []
    for phrase, bare in _PARTS.findall(text):
        words = _WORD.findall((phrase or bare).lower())
        if words:
            terms.append(" ".join(words))
    number = terms[0].upper() if len(terms) == 1 and " " not in terms[0] else None
    return SearchText(tuple(dict.fromkeys(terms)), number)
