"""Logging: one format for the whole process (Django, the request log, gunicorn), time in UTC.

`LOG_FORMAT=json` (the default) writes one JSON object per line, `LOG_FORMAT=text` a readable line;
both carry the time as ISO 8601 UTC (`2026-11-30T21:15:49.123Z`), whatever the machine's zone.
The settings (LOGGING) and the gunicorn configuration both take `logging_config()`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os

#: LogRecord attributes that are not extra fields of a record.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
#: Extras Django puts on records that are objects, not data (the request, a socket).
_DROPPED = {"request", "server_time", "connection"}


def utc_timestamp(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JSONFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", ...extra fields, "exception"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": utc_timestamp(record.created), "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key in _STANDARD or key in _DROPPED or key.startswith("_") or key in out:
                continue
            out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2026-11-30T21:15:49.123Z INFO logger: message key=value ...` (the extra fields in the end)."""

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={v}" for k, v in record.__dict__.items()
                         if k not in _STANDARD and k not in _DROPPED and not k.startswith("_"))
        line = f"{utc_timestamp(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        if extra:
            line += " " + extra
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class OneLinePerEvent(logging.Filter):
    """On the handler, so that it sees the records of every logger:

    - `django.security.*` (a disallowed Host header, a bad CSRF token) is a client's error: one line,
      without the traceback Django attaches to it;
    - `django.request` writes a line for every 4xx and 5xx response, which the request log
      (opendata.request) already has: kept are unhandled exceptions (500, with their traceback),
      dropped are 4xx and a 503 answered on purpose (its cause is logged once per interval).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security"):
            record.exc_info = None
            record.exc_text = None
        elif record.name == "django.request":
            status = getattr(record, "status_code", None)
            if status is not None and (status < 500 or status == 503):
                return False
        return True


def logging_config(level: str | None = None, fmt: str | None = None) -> dict:
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "json").lower()
    formatter = {"json": "opendata.config.logs.JSONFormatter", "text": "opendata.config.logs.TextFormatter"}.get(fmt)
    if formatter is None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "filters": {"one_line_per_event": {"()": "opendata.config.logs.OneLinePerEvent"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default",
                                 "filters": ["one_line_per_event"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own console handler (DEBUG only) would write its records a second time, in its format.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.db.backends": {"level": "WARNING"},
            # gunicorn's own messages (boot, worker timeouts), in the same format; no access log (the app's).
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
