"""Structured JSON logs with personal data and secrets redacted (the one line per request is
written by ``app.api.middleware.RequestLogMiddleware``).

Every string that reaches a log line (message, exception, extra fields) passes through
``redact``: NIKs, passport numbers, phone numbers, long digit runs, bearer tokens, JWTs, API
keys (``sng_…``), webhook secrets (``whsec_…``), and the values of fields that carry names
(``"name": …``, ``nama=…``, pydantic's ``input_value=…``, SQL parameters). UU PDP: a log line
never identifies a person.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from app.config import Settings

REDACTED = "[REDACTED]"

# Field names whose values are personal data or secrets, in English and Indonesian.
_SENSITIVE_KEYS = (
    r"(?:full_?|first_?|last_?|given_?|family_?|middle_?|mother_?|father_?|sur|nick|user_?)?names?"
    r"|nama(?:_\w+)?|alias(?:es)?|nik|no_?ktp|ktp|passport(?:_?(?:no|number))?|paspor"
    r"|phones?(?:_?number)?|telepon|telp|hp|no_?hp|mobile|msisdn|email|address|alamat"
    r"|date_?of_?birth|dob|birth_?(?:date|place)|tanggal_lahir|tempat_lahir"
    r"|password|secret|client_secret|client_assertion|api_?key|token|access_token|authorization"
)

_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # "name": "Siti Aminah"  /  'nama': 'Siti'  (JSON, dict reprs)
    (
        re.compile(
            rf"""(?i)(["']?\b(?:{_SENSITIVE_KEYS})\b["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""
        ),
        rf"\1\2{REDACTED}\2",
    ),
    # name=Siti Aminah&…  /  nama: Siti, …  (query strings, key=value text)
    (
        re.compile(rf"""(?i)(\b(?:{_SENSITIVE_KEYS})\b\s*[:=]\s*)(?!["'\[{{])[^&,;}}\]\n"']+"""),
        rf"\1{REDACTED}",
    ),
    # pydantic: input_value='…', input_value={…}
    (
        re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.MULTILINE),
        f"input_value={REDACTED}",
    ),
    # SQLAlchemy errors and echo: [parameters: (…)]
    (
        re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL),
        f"[parameters: {REDACTED}]",
    ),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    # JWTs (access tokens, client assertions)
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*"), REDACTED),
    # API keys and webhook secrets
    (re.compile(r"\b(?:sng|whsec)_[A-Za-z0-9_+/=-]+"), REDACTED),
    # Indonesian passport numbers (A1234567, X 1234567, AB123456)
    (re.compile(r"\b[A-Z]{1,2}\s?\d{6,8}\b"), REDACTED),
    # phone numbers: +62 812-3456-7890, 0812 3456 7890, (021) 555-1234, +1 415 555 0100
    (
        re.compile(
            r"(?<![\w.])(?:\+\d{1,3}[\s.-]?|\(0\d{1,3}\)\s?|0)\d{2,4}(?:[\s.-]?\d{2,5}){1,4}(?![\w.])"
        ),
        lambda m: REDACTED if sum(c.isdigit() for c in m.group()) >= 8 else m.group(),
    ),
    # NIKs (16 digits) and any other long digit run
    (re.compile(r"(?<![\d])\d{9,}(?![\d])"), REDACTED),
    # what reads like a person's name in free text: two or more capitalised words
    # ("Siti Aminah", "Ahmad bin Yusuf"); all-caps codes such as IMIGRASI-DUMAI are kept
    (
        re.compile(r"\b[A-Z][a-z]+(?:[ \t]+(?:(?:bin|binti|van|de|al)[ \t]+)?[A-Z][a-z]+)+\b"),
        REDACTED,
    ),
]
_SENSITIVE_KEY = re.compile(rf"(?i)(?:{_SENSITIVE_KEYS})")


#: Request ids and object ids are UUIDs, which can hold digit runs that look like phones.
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)


def redact(text: str) -> str:
    """``text`` with personal identifiers and secrets replaced by ``[REDACTED]`` (UUIDs kept)."""
    parts: list[str] = []
    last = 0
    for uuid_match in _UUID.finditer(text):
        parts.append(_redact_plain(text[last : uuid_match.start()]))
        parts.append(uuid_match.group())
        last = uuid_match.end()
    parts.append(_redact_plain(text[last:]))
    return "".join(parts)


def _redact_plain(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {
            str(k): REDACTED if _SENSITIVE_KEY.fullmatch(str(k)) else _redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return redact(str(value))


#: Fields this formatter writes itself (never personal data).
_OWN_FIELDS = frozenset({"time", "level", "logger"})
#: Extras other libraries attach that only repeat the message (uvicorn's ANSI-coloured copy).
_DROPPED_EXTRAS = frozenset({"color_message"})
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _withheld(exc: BaseException) -> str:
    return (
        f"{type(exc).__module__}.{type(exc).__qualname__}: "
        f"[message withheld, {len(str(exc))} characters]"
    )


def format_exception_without_messages(exc: BaseException) -> str:
    """A traceback (frames and source lines) whose exception messages, which may carry the
    data being processed, are left out; causes and contexts included."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause of:"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception:"
        else:
            current = None
    parts: list[str] = []
    for error, following in reversed(chain):
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{_withheld(error)}")
        if following:
            parts.append(following)
    return "\n".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string in it is redacted, exception messages left out."""

    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        if isinstance(exc, BaseException):
            return format_exception_without_messages(exc)
        return "(exception details withheld)"

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.document(record), ensure_ascii=False, default=str)

    def document(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record's fields, every string redacted: what either format writes."""
        if record.name.startswith("sqlalchemy.engine") and record.args:
            message = "[SQL parameters hidden]"
        else:
            message = record.getMessage()
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES | _DROPPED_EXTRAS and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return {
            key: value if key in _OWN_FIELDS else _redact_value(value)
            for key, value in document.items()
        }


class TextFormatter(JsonFormatter):
    """The same redacted fields as one readable line: ``time LEVEL logger: message key=value``.

    For a terminal or a journal read by people (``SINERGI_LOG_FORMAT=text``); JSON is the default
    because log collectors parse it.
    """

    def format(self, record: logging.LogRecord) -> str:
        document = self.document(record)
        head = (
            f"{document.pop('time')} {document.pop('level')} {document.pop('logger')}: "
            f"{document.pop('message')}"
        )
        exception = document.pop("exception", None)
        stack = document.pop("stack", None)
        fields = " ".join(f"{key}={value}" for key, value in document.items())
        lines = [f"{head} {fields}".rstrip()]
        lines.extend(str(extra) for extra in (exception, stack) if extra)
        return "\n".join(lines)


class RedactionFilter(logging.Filter):
    """Rewrites a record's message in place, for handlers that do not use ``JsonFormatter``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the write."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_HANDLER_NAME = "sinergi-json"


def configure_logging(settings: Settings) -> None:
    """Send every logger, uvicorn's included, through one redacting handler on stderr.

    ``serve`` and ``worker`` both call this, so both write ``SINERGI_LOG_FORMAT`` (JSON lines
    by default, or plain text) and neither writes a name or NIK.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _StderrHandler()
        handler.set_name(_HANDLER_NAME)
        root.addHandler(handler)
    handler.setFormatter(TextFormatter() if settings.log_format == "text" else JsonFormatter())
    for existing in root.handlers:
        if existing is not handler and not any(
            isinstance(f, RedactionFilter) for f in existing.filters
        ):
            existing.addFilter(RedactionFilter())
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        named = logging.getLogger(name)
        named.handlers = []
        named.propagate = True
    # Our request line replaces uvicorn's access line, which would log raw paths and queries.
    logging.getLogger("uvicorn.access").disabled = True
