"""Structured logs (structlog): JSON in production, readable console in development.

Every log line passes :func:`redact_secrets`, so passwords, tokens, API keys and
cookies never reach the output, whoever logs them (crmbridge, uvicorn, libraries).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

#: Keys whose values are secrets wherever they appear in an event.
SECRET_KEY_PATTERN = re.compile(
    r"pass(word|wd)?|secret|token|authorization|api[_-]?key|cookie|session|csrf|"
    r"credential|private[_-]?key|signature",
    re.IGNORECASE,
)
#: Secrets recognisable by their shape inside free text: our API keys, bearer tokens,
#: and the secret segment of an Outbound Message receiver URL (crmbridge.push).
_SECRET_IN_TEXT = re.compile(
    r"(crmb_)[A-Za-z0-9_\-]{8,}|(Bearer\s+)[A-Za-z0-9._~+/=\-]{8,}"
    r"|(/outbound-messages/[^/\s]+/)[^/\s?#\"']+"
)
REDACTED = "***"


def _redact_text(text: str) -> str:
    return _SECRET_IN_TEXT.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + REDACTED, text)


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, MutableMapping | dict):
        return {
            k: (REDACTED if SECRET_KEY_PATTERN.search(str(k)) else _redact(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v, depth + 1) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-looking keys and secret-shaped text."""
    for key in list(event_dict):
        if SECRET_KEY_PATTERN.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


def configure_logging(
    *, level: str = "INFO", json: bool = False, stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's logging through one redacting pipeline.

    Args:
        level: minimum level name (``CRMBRIDGE_LOG_LEVEL``).
        json: one JSON object per line (production) instead of console output.
        stream: where to write (default ``sys.stderr``).
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared[:1],
            structlog.stdlib.filter_by_level,
            *shared[1:],
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    handler.set_name("crmbridge")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "crmbridge":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own handlers would bypass redaction; let its records reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    # crmbridge writes its own access log line with the request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
