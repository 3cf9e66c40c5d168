"""Dates and times in a mail, written the way the recipient's language writes them (CLDR, through
Babel): ``7 de diciembre de 2026, 13:01 -0600`` in Spanish, ``December 7, 2026, 1:01 PM CST`` in
English. The clock is the agency's (CASEGRAPH_MAIL_TIMEZONE): a mail cannot know the reader's,
so the time carries its zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format

from casegraph.mail.catalogs import FALLBACK


@lru_cache(maxsize=32)
def babel_locale(language: str) -> Locale:
    """The CLDR locale of a catalogue's language; English for one CLDR does not know."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)


def _moment(value: str | datetime, zone: str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the database's datetimes are UTC
    return moment.astimezone(ZoneInfo(zone))


def written_date(value: str | datetime, language: str, zone: str) -> str:
    """The day alone, long form: ``10 de diciembre de 2026``."""
    return format_date(_moment(value, zone), "long", locale=babel_locale(language))


def written_date_time(value: str | datetime, language: str, zone: str) -> str:
    """The day in long form and the time to the minute, with its zone."""
    moment = _moment(value, zone)
    locale = babel_locale(language)
    time = f"{format_time(moment, 'short', locale=locale)} {format_time(moment, 'z', locale=locale)}"
    # How the language joins a day and a time ("{1}, {0}"), as babel.dates.format_datetime does.
    pattern = str(get_datetime_format("long", locale=locale)).replace("'", "")
    return pattern.replace("{0}", time).replace("{1}", format_date(moment, "long", locale=locale))
