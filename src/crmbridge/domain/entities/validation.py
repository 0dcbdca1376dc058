"""Validate and normalise record input against core and custom fields (pure)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from crmbridge.domain.entities.errors import FieldError, RecordValidationError
from crmbridge.domain.entities.fields import RECORD_META_FIELDS, FieldSpec, FieldType
from crmbridge.domain.entities.registry import EntityType

#: JSON numbers beyond this lose precision in JavaScript clients; refuse them.
MAX_SAFE_INTEGER = 2**53 - 1
_PHONE = re.compile(r"^[0-9+()\-. /xX#*]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FLAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_MAX_FLAGS = 50

#: In an update, ``version`` carries the version the caller last read (optimistic locking).
VERSION_FIELD = "version"


#: A part before the @ made of RFC 5322 ``atext`` and single inner dots, in ASCII.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_ASCII_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")


def check_email(text: str) -> None:
    """Raise ``EmailNotValidError`` unless ``text`` is an e-mail address (syntax only).

    The verdict is email-validator's. Most addresses are a plain ASCII part before the
    @ and a domain shared by many others: those are judged by the part's syntax and
    lengths (the library's limits: 64 before the @, 254 in all) and the domain's
    verdict, asked once per domain. Every other address goes to the library whole
    (a sync page validated 2,000 addresses one by one: 9% of its time).
    """
    local, at, domain = text.rpartition("@")
    if (
        at
        and len(local) <= 64
        and len(text) <= 254
        and _PLAIN_LOCAL.fullmatch(local)
        and _ASCII_DOMAIN.fullmatch(domain)
        and _valid_domain(domain)
    ):
        return
    validate_email(text, check_deliverability=False)


@functools.lru_cache(maxsize=4096)
def _valid_domain(domain: str) -> bool:
    try:
        validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def record_fields(
    entity: EntityType, custom_fields: Iterable[FieldSpec] = ()
) -> dict[str, FieldSpec]:
    """Every field a record of ``entity`` has for one tenant: core first, then custom."""
    fields = {spec.name: spec for spec in entity.fields}
    for spec in custom_fields:
        fields.setdefault(spec.name, spec)
    return fields


def validate_record_input(
    entity: EntityType,
    payload: Mapping[str, Any],
    *,
    custom_fields: Iterable[FieldSpec] = (),
    fields: Mapping[str, FieldSpec] | None = None,
    partial: bool,
) -> dict[str, Any]:
    """Check a create (``partial=False``) or update (``partial=True``) body.

    Args:
        entity: the entity type written.
        payload: the decoded JSON object the caller sent.
        custom_fields: the tenant's custom fields of this entity type.
        fields: every field of the record as :func:`record_fields` gives them, when
            the caller holds them already (a sync page validates thousands of records);
            ``custom_fields`` is then not read.
        partial: ``True`` for an update, where absent fields stay as they are.

    Returns:
        The normalised values by field name (``None`` clears a field). On create,
        defaults fill absent fields.

    Raises:
        RecordValidationError: listing every problem found, not just the first.
    """
    if fields is None:
        fields = record_fields(entity, custom_fields)
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, raw in payload.items():
        if partial and name == VERSION_FIELD:
            continue
        spec = fields.get(name)
        if spec is None:
            if name in RECORD_META_FIELDS:
                errors.append(FieldError(field=name, message="is read-only"))
            else:
                errors.append(FieldError(field=name, message="is not a field of this record"))
            continue
        if raw is None:
            if spec.required:
                errors.append(FieldError(field=name, message="is required and cannot be null"))
            else:
                values[name] = None
            continue
        try:
            values[name] = normalize_value(spec, raw)
        except ValueError as exc:
            errors.append(FieldError(field=name, message=str(exc)))
    if not partial:
        for name, spec in fields.items():
            if name in payload:
                continue
            if spec.default is not None:
                values[name] = spec.default
            elif spec.required:
                errors.append(FieldError(field=name, message="is required"))
    if errors:
        raise RecordValidationError(errors)
    return values


def normalize_value(spec: FieldSpec, raw: Any) -> Any:
    """Return ``raw`` in the canonical form of ``spec``'s type, or raise ``ValueError``."""
    kind = spec.type
    if kind in (FieldType.STRING, FieldType.TEXT, FieldType.REFERENCE):
        return _check_length(spec, _require_str(raw))
    if kind is FieldType.EMAIL:
        text = _check_length(spec, _require_str(raw))
        try:
            check_email(text)
        except EmailNotValidError as exc:
            raise ValueError(f"is not a valid e-mail address ({exc})") from None
        return text
    if kind is FieldType.PHONE:
        text = _check_length(spec, _require_str(raw))
        if not _PHONE.match(text):
            raise ValueError("is not a phone number (digits, spaces and + ( ) - . / x # *)")
        return text
    if kind is FieldType.URL:
        text = _check_length(spec, _require_str(raw))
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("is not an absolute http(s) URL")
        return text
    if kind is FieldType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            else:
                raise ValueError("must be an integer")
        if abs(raw) > MAX_SAFE_INTEGER:
            raise ValueError(f"must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}")
        return raw
    if kind is FieldType.DECIMAL:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError("must be a number")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError("must be a finite number")
        return raw
    if kind is FieldType.BOOLEAN:
        if not isinstance(raw, bool):
            raise ValueError("must be true or false")
        return raw
    if kind is FieldType.DATE:
        text = _require_str(raw)
        try:
            if not _DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None
    if kind is FieldType.DATETIME:
        return normalize_datetime(_require_str(raw))
    if kind is FieldType.PICKLIST:
        text = _require_str(raw)
        if text not in spec.values:
            raise ValueError(f"must be one of {', '.join(spec.values)}")
        return text
    if kind is FieldType.MULTI_PICKLIST:
        return _normalize_multi_picklist(spec, raw)
    if kind is FieldType.FLAGS:
        return _normalize_flags(raw)
    raise ValueError(f"has an unsupported type {kind}")  # pragma: no cover


def normalize_datetime(text: str) -> str:
    """ISO 8601 with an offset → UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2025-01-31T09:30:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("must include a time-zone offset, e.g. Z or +02:00")
    utc = parsed.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat() + "Z"


def _require_str(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    return raw


def _check_length(spec: FieldSpec, text: str) -> str:
    limit = spec.effective_max_length
    if limit is not None and len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (got {len(text)})")
    if spec.required and not text.strip():
        raise ValueError("must not be empty")
    return text


def _normalize_multi_picklist(spec: FieldSpec, raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError("must be a list of strings")
    unknown = [item for item in raw if item not in spec.values]
    if unknown:
        raise ValueError(f"has unknown values {', '.join(unknown)}")
    # Keep the catalog's order and drop repeats, so equal sets compare equal.
    chosen = set(raw)
    return [value for value in spec.values if value in chosen]


def _normalize_flags(raw: Any) -> dict[str, bool]:
    if not isinstance(raw, dict):
        raise ValueError("must be an object of named booleans")
    if len(raw) > _MAX_FLAGS:
        raise ValueError(f"must have at most {_MAX_FLAGS} entries")
    for key, value in raw.items():
        if not _FLAG_NAME.match(key):
            raise ValueError(f"has an invalid name {key!r}")
        if not isinstance(value, bool):
            raise ValueError(f"entry {key!r} must be true or false")
    return {key: raw[key] for key in sorted(raw)}
