"""The emulator's SOQL engine: grammar, parser, compiler to SQLite and paged queries."""

from __future__ import annotations

from crmbridge.emulator.soql.engine import QueryEngine, QueryPage
from crmbridge.emulator.soql.errors import SoqlError
from crmbridge.emulator.soql.parser import parse_soql

__all__ = ["QueryEngine", "QueryPage", "SoqlError", "parse_soql"]
