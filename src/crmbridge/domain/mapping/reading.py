"""Reading JSON-able mapping definitions while collecting every problem at once.

``from_dict`` functions read through a :class:`DefinitionReader`, which never raises:
each wrong or missing value is recorded with its path (``fields[2].steps[0].params``)
and a safe placeholder is returned, so one pass reports every problem and the caller
raises a single :class:`~crmbridge.domain.mapping.errors.MappingDefinitionError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from crmbridge.domain.mapping.errors import MappingDefinitionError

E = TypeVar("E", bound=enum.Enum)

#: JSON scalar types accepted as field values in definitions.
SCALAR_TYPES = (str, int, float, bool, type(None))


class DefinitionReader:
    """A cursor over one JSON object of a definition, sharing a problem list."""

    def __init__(self, data: Any, *, path: str = "", problems: list[str] | None = None) -> None:
        self.path = path
        self.problems: list[str] = [] if problems is None else problems
        if isinstance(data, Mapping):
            self.data: Mapping[str, Any] = data
        else:
            self.data = {}
            self.problem(f"must be an object, not {type(data).__name__}")

    def problem(self, message: str, key: str | None = None) -> None:
        """Record a problem at this object's path (or at ``key`` inside it)."""
        where = self._path(key) if key is not None else (self.path or "mapping")
        self.problems.append(f"{where}: {message}")

    def _path(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        """Whether the key is present (even with a ``null`` value)."""
        return key in self.data

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as stored, unchecked."""
        return self.data.get(key, default)

    def string(self, key: str, default: str | None = None) -> str:
        """A non-empty string; required when ``default`` is ``None``."""
        value = self.data.get(key)
        if value is None:
            if default is None:
                self.problem("is required", key)
                return ""
            return default
        if not isinstance(value, str) or (default is None and not value.strip()):
            self.problem("must be a non-empty string", key)
            return default or ""
        return value

    def optional_string(self, key: str) -> str | None:
        """A string, or ``None`` when absent or null."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem("must be a string", key)
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """A boolean, ``default`` when absent."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.problem("must be true or false", key)
            return default
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        """An integer, ``default`` when absent."""
        value = self.data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem("must be an integer", key)
            return default
        return value

    def choice(self, key: str, enum_type: type[E], default: E | None = None) -> E:
        """A member of ``enum_type`` given by its value; required without a default."""
        value = self.data.get(key)
        if value is None and default is not None:
            return default
        for member in enum_type:
            if member.value == value:
                return member
        allowed = ", ".join(repr(m.value) for m in enum_type)
        self.problem(f"must be one of {allowed}", key)
        return default if default is not None else next(iter(enum_type))

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings (a single string counts as a list of one)."""
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem("is required", key)
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem("must be a list of non-empty strings", key)
            return ()
        return tuple(value)

    def child(self, key: str) -> DefinitionReader:
        """A reader over the object stored under ``key``."""
        return DefinitionReader(self.data.get(key), path=self._path(key), problems=self.problems)

    def children(self, key: str) -> list[DefinitionReader]:
        """Readers over each object of the list stored under ``key`` (absent: none)."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem("must be a list", key)
            return []
        base = self._path(key)
        return [
            DefinitionReader(item, path=f"{base}[{i}]", problems=self.problems)
            for i, item in enumerate(value)
        ]

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        """Record a problem for every key that is not in ``allowed``."""
        known = set(allowed)
        for key in self.data:
            if key not in known:
                self.problem(f"unknown key (expected one of: {', '.join(sorted(known))})", key)

    def raise_if_problems(self) -> None:
        """Raise :class:`MappingDefinitionError` listing every problem recorded."""
        if self.problems:
            raise MappingDefinitionError(self.problems)


def is_json_scalar(value: Any) -> bool:
    """Whether ``value`` is a JSON scalar (string, number, boolean or null)."""
    return isinstance(value, SCALAR_TYPES)
