"""Log lines: one JSON object per line (``CASEGRAPH_LOG_FORMAT=json``) or plain text for humans.

Every record emitted while a request is served carries its request id. Fields passed with
``extra=`` become keys of the object. Nothing here reads headers or variables: what callers pass
is what is logged, and they pass neither tokens nor GraphQL variables (personal data).
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Final

from casegraph.observability.request_context import current_request_id
from casegraph.settings import Settings

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
    }


def _request_id(record: logging.LogRecord) -> str | None:
    # An explicit one wins: the access line is written as the request's scope is left.
    given = getattr(record, "request_id", None)
    return given if isinstance(given, str) else current_request_id()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in _extras(record).items():
            entry.setdefault(key, value)  # an extra never overwrites the fields above
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines: a traceback cannot break the one-object-per-line framing.
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-11-02T09:00:00.000Z INFO casegraph.access [req-1] POST /graphql 200 status=200 …``"""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), record.levelname, record.name]
        request_id = _request_id(record)
        if request_id is not None:
            parts.append(f"[{request_id}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={value}" for key, value in _extras(record).items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document; also given to uvicorn, whose workers apply it."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    uvicorn = {"level": settings.log_level, "handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"casegraph": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            # Standard output, one line per record: what container runtimes collect.
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "casegraph"},
        },
        "root": {"level": settings.log_level, "handlers": ["stdout"]},
        "loggers": {
            # uvicorn's own records go through our handler, in our format.
            "uvicorn": dict(uvicorn),
            "uvicorn.error": dict(uvicorn),
            # Requests are logged by casegraph.access, with the request id and the operation.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Replace the process's log handlers with ours; safe to call again."""
    logging.config.dictConfig(logging_config(settings))
