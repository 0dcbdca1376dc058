"""SOQL text → AST (ast.py), with Salesforce's MALFORMED_QUERY messages.

The grammar (soql.lark) is parsed by lark's LALR parser; this module decodes literals
(string escapes, dates, dateTimes, numbers), builds the AST and turns every lark error
into a :class:`SoqlError`. Nothing else ever escapes :func:`parse_soql`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.dates import is_date_literal, is_date_literal_with_n
from crmbridge.emulator.soql.errors import Position, SoqlError, located_message, malformed

#: SOQL and SOSL Reference, "Implementation Tips for SELECT Statement".
MAX_QUERY_LENGTH = 100_000
_MAX_INT = 2**31 - 1

#: SOQL and SOSL Reference, "Quoted String Escape Sequences" (\b as in Java: backspace).
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))$"
)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("crmbridge.emulator.soql").joinpath("soql.lark").read_text()
    # Building the LALR tables takes about 400 ms, paid by the first query of every
    # emulator process, so they are kept in a file keyed by the grammar and lark's
    # version. The file is a pickle: it lives in the user's own cache directory
    # (never a shared /tmp) and is replaced atomically.
    cache = _cache_file(grammar)
    if cache is not None and cache.exists():
        # A stale or damaged file is rebuilt below.
        with contextlib.suppress(Exception), cache.open("rb") as f:
            return Lark.load(f)
    parser = Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=False)
    if cache is not None:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        try:
            with partial.open("wb") as f:
                parser.save(f)
            os.replace(partial, cache)
        except OSError:
            partial.unlink(missing_ok=True)
    return parser


def _cache_file(grammar: str) -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "crmbridge"
    digest = hashlib.sha256(f"{grammar}|lark {lark.__version__}".encode()).hexdigest()[:16]
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_uid != os.getuid() or not os.access(directory, os.W_OK):
            return None
    except OSError:
        return None  # no writable home (a read-only container): build in memory
    return directory / f"soql-{digest}.lark"


def _pos(token: Token) -> Position:
    return Position(token.line or 1, token.column or 1)


class _Builder(Transformer[Token, Any]):
    """Builds the AST bottom-up; keyword tokens are dropped where they carry nothing."""

    def __init__(self, soql: str) -> None:
        super().__init__()
        self.soql = soql

    # --- helpers ------------------------------------------------------------------
    def _error(self, pos: Position, text: str) -> SoqlError:
        return malformed(self.soql, pos, text)

    def _int(self, token: Token) -> int:
        value = int(token)
        if value < 0:
            raise self._error(_pos(token), f"unexpected token: '{token}'")
        if value > _MAX_INT:
            raise self._error(_pos(token), f"numeric value out of range: {token}")
        return value

    def decode_string(self, token: Token, *, like: bool) -> str:
        """Decode a quoted string; with ``like`` keep ``\\%``/``\\_`` as SQL LIKE escapes."""
        raw = str(token)[1:-1]
        out: list[str] = []
        i = 0
        while i < len(raw):
            char = raw[i]
            if char != "\\":
                out.append(char)
                i += 1
                continue
            nxt = raw[i + 1]  # the STRING terminal guarantees a character follows
            lowered = nxt.lower()
            if lowered in _ESCAPES or nxt in _ESCAPES:
                decoded = _ESCAPES.get(nxt, _ESCAPES.get(lowered, ""))
                out.append("\\\\" if like and decoded == "\\" else decoded)
                i += 2
            elif lowered == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2 : i + 6]):
                out.append(chr(int(raw[i + 2 : i + 6], 16)))
                i += 6
            elif like and nxt in "%_":
                out.append("\\" + nxt)
                i += 2
            else:
                raise self._error(
                    _pos(token),
                    f"Invalid string literal '{raw}'. Illegal character sequence "
                    f"'\\{nxt}' in string literal.",
                )
        return "".join(out)

    def _string(self, value: Any) -> Any:
        if isinstance(value, Token) and value.type == "STRING":
            return ast.StringValue(self.decode_string(value, like=False), _pos(value))
        return value

    # --- values -------------------------------------------------------------------
    def string_value(self, children: list[Token]) -> Token:
        # Decoded by the rule that uses it: LIKE patterns decode differently.
        return children[0]

    def number_value(self, children: list[Token]) -> ast.NumberValue:
        token = children[0]
        text = str(token)
        number: int | float = float(text) if "." in text else int(text)
        return ast.NumberValue(number, text, _pos(token))

    def true_value(self, children: list[Token]) -> ast.BooleanValue:
        return ast.BooleanValue(True, _pos(children[0]))

    def false_value(self, children: list[Token]) -> ast.BooleanValue:
        return ast.BooleanValue(False, _pos(children[0]))

    def null_value(self, children: list[Token]) -> ast.NullValue:
        return ast.NullValue(_pos(children[0]))

    def date_value(self, children: list[Token]) -> ast.DateValue:
        token = children[0]
        try:
            value = dt.date.fromisoformat(str(token))
        except ValueError:
            raise self._error(_pos(token), f"Invalid date: {token}") from None
        return ast.DateValue(value, str(token), _pos(token))

    def datetime_value(self, children: list[Token]) -> ast.DateTimeValue:
        token = children[0]
        match = _DATETIME.match(str(token))
        try:
            if match is None:
                raise ValueError(token)
            year, month, day, hour, minute, second, fraction, zulu, sign, oh, om = match.groups()
            micro = int((fraction or "0")[:6].ljust(6, "0"))
            offset = dt.timedelta(0)
            if not zulu:
                if int(oh) > 23 or int(om) > 59:
                    raise ValueError(token)
                offset = dt.timedelta(hours=int(oh), minutes=int(om))
                offset = -offset if sign == "-" else offset
            local = dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
                tzinfo=dt.timezone(offset),
            )  # fmt: skip
        except ValueError:
            raise self._error(_pos(token), f"Invalid datetime: {token}") from None
        return ast.DateTimeValue(local.astimezone(dt.UTC), str(token), _pos(token))

    def date_literal(self, children: list[Token]) -> ast.DateLiteral:
        token = children[0]
        if not is_date_literal(str(token)):
            raise self._error(_pos(token), f"unexpected token: '{token}'")
        return ast.DateLiteral(str(token).upper(), None, _pos(token))

    def date_literal_n(self, children: list[Token]) -> ast.DateLiteral:
        token, number = children
        if not is_date_literal_with_n(str(token)):
            raise self._error(_pos(token), f"unexpected token: '{token}'")
        return ast.DateLiteral(str(token).upper(), self._int(number), _pos(token))

    def value_list(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(self._string(child) for child in children)

    # --- paths and functions ---------------------------------------------------------
    def field_path(self, children: list[Token]) -> ast.FieldPath:
        return ast.FieldPath(tuple(str(c) for c in children), _pos(children[0]))

    def function_call(self, children: list[Any]) -> ast.FunctionCall:
        name = children[0]
        arg = children[1] if len(children) > 1 else None
        return ast.FunctionCall(str(name), arg, _pos(name))

    def alias(self, children: list[Token]) -> str:
        return str(children[0])

    # --- SELECT ---------------------------------------------------------------------
    def select_field(self, children: list[Any]) -> ast.SelectField:
        return ast.SelectField(children[0], children[1] if len(children) > 1 else None)

    def select_function(self, children: list[Any]) -> ast.SelectFunction:
        return ast.SelectFunction(children[0], children[1] if len(children) > 1 else None)

    def select_subquery(self, children: list[Any]) -> ast.SelectSubquery:
        query: ast.Query = children[0]
        return ast.SelectSubquery(query, query.pos)

    def select_clause(self, children: list[Any]) -> tuple[Position, tuple[Any, ...]]:
        return _pos(children[0]), tuple(children[1:])

    def field_list(self, children: list[ast.FieldPath]) -> tuple[ast.FieldPath, ...]:
        return tuple(children)

    def when_clause(self, children: list[Any]) -> ast.TypeOfWhen:
        name = children[1]
        return ast.TypeOfWhen(str(name), children[3], _pos(name))

    def else_clause(self, children: list[Any]) -> tuple[ast.FieldPath, ...]:
        fields: tuple[ast.FieldPath, ...] = children[1]
        return fields

    def typeof_clause(self, children: list[Any]) -> ast.SelectTypeOf:
        whens = tuple(c for c in children if isinstance(c, ast.TypeOfWhen))
        else_fields: tuple[ast.FieldPath, ...] = ()
        for child in children:
            if isinstance(child, tuple):
                else_fields = child
        return ast.SelectTypeOf(children[1], whens, else_fields, _pos(children[0]))

    # --- conditions -----------------------------------------------------------------
    def compare(self, children: list[Any]) -> ast.Comparison:
        left, op, value = children
        operator = "!=" if str(op) == "<>" else str(op)
        return ast.Comparison(left, operator, self._string(value), left.pos)

    def like(self, children: list[Any]) -> ast.Like:
        left, _keyword, value = children
        if not isinstance(value, Token) or value.type != "STRING":
            raise self._error(value.pos, f"unexpected token: '{_value_text(value)}'")
        pattern = ast.LikePattern(
            self.decode_string(value, like=True), str(value)[1:-1], _pos(value)
        )
        return ast.Like(left, pattern, left.pos)

    def in_list(self, children: list[Any]) -> ast.InList:
        return ast.InList(children[0], children[-1], False, children[0].pos)

    def not_in_list(self, children: list[Any]) -> ast.InList:
        return ast.InList(children[0], children[-1], True, children[0].pos)

    def semi_join(self, children: list[Any]) -> ast.SemiJoin:
        field, name = children[1], children[3]
        where = children[4][1] if len(children) > 4 else None
        return ast.SemiJoin(field, str(name), _pos(name), where)

    def in_semi_join(self, children: list[Any]) -> ast.InSemiJoin:
        return ast.InSemiJoin(children[0], children[-1], False, children[0].pos)

    def not_in_semi_join(self, children: list[Any]) -> ast.InSemiJoin:
        return ast.InSemiJoin(children[0], children[-1], True, children[0].pos)

    def includes(self, children: list[Any]) -> ast.Includes:
        return ast.Includes(children[0], children[-1], False, children[0].pos)

    def excludes(self, children: list[Any]) -> ast.Includes:
        return ast.Includes(children[0], children[-1], True, children[0].pos)

    def and_condition(self, children: list[Any]) -> ast.And:
        return ast.And(tuple(c for c in children if not isinstance(c, Token)))

    def or_condition(self, children: list[Any]) -> ast.Or:
        return ast.Or(tuple(c for c in children if not isinstance(c, Token)))

    def not_condition(self, children: list[Any]) -> ast.Not:
        return ast.Not(children[1])

    def where_clause(self, children: list[Any]) -> tuple[str, Any]:
        return "where", children[1]

    def having_clause(self, children: list[Any]) -> tuple[str, Any]:
        return "having", children[1]

    # --- other clauses ----------------------------------------------------------------
    def from_clause(self, children: list[Any]) -> tuple[str, Any]:
        name = children[1]
        alias = children[2] if len(children) > 2 else None
        return "from", (ast.FieldPath((str(name),), _pos(name)), alias)

    def subquery_from(self, children: list[Any]) -> tuple[str, Any]:
        alias = children[2] if len(children) > 2 else None
        return "from", (children[1], alias)

    def scope_clause(self, children: list[Token]) -> tuple[str, Any]:
        return "scope", str(children[2])

    def with_clause(self, children: list[Token]) -> tuple[str, Any]:
        name = children[1]
        # WITH SECURITY_ENFORCED / USER_MODE only mean something inside Apex.
        raise self._error(_pos(name), f"unexpected token: '{name}'")

    def group_clause(self, children: list[Any]) -> tuple[str, Any]:
        operands = tuple(c for c in children[2:] if not isinstance(c, tuple))
        having = next((c[1] for c in children if isinstance(c, tuple)), None)
        return "group", (operands, having)

    def direction(self, children: list[Token]) -> bool:
        return str(children[0]).upper() == "DESC"

    def nulls(self, children: list[Token]) -> tuple[str, bool]:
        return "nulls", str(children[1]).upper() == "FIRST"

    def order_item(self, children: list[Any]) -> ast.OrderItem:
        descending = False
        nulls_first: bool | None = None
        for child in children[1:]:
            if isinstance(child, tuple):
                nulls_first = child[1]
            else:
                descending = bool(child)
        return ast.OrderItem(children[0], descending, nulls_first)

    def order_clause(self, children: list[Any]) -> tuple[str, Any]:
        return "order", tuple(children[2:])

    def limit_clause(self, children: list[Token]) -> tuple[str, Any]:
        return "limit", self._int(children[1])

    def offset_clause(self, children: list[Token]) -> tuple[str, Any]:
        return "offset", self._int(children[1])

    def for_view(self, children: list[Token]) -> tuple[str, Any]:
        return "ignored", None

    for_reference = for_view

    def for_update(self, children: list[Token]) -> tuple[str, Any]:
        return "for_update", True

    def update_tracking(self, children: list[Token]) -> tuple[str, Any]:
        name = children[1]
        if str(name).upper() not in ("TRACKING", "VIEWSTAT"):
            raise self._error(_pos(name), f"unexpected token: '{name}'")
        return "ignored", None

    def all_rows(self, children: list[Token]) -> tuple[str, Any]:
        return "all_rows", True

    def _query(self, children: list[Any]) -> ast.Query:
        (pos, select), *clauses = children
        parts: dict[str, Any] = {}
        for key, value in clauses:
            parts[key] = value
        sobject, alias = parts["from"]
        group_by, having = parts.get("group", ((), None))
        return ast.Query(
            select=select,
            sobject=sobject,
            alias=alias,
            where=parts.get("where"),
            group_by=group_by,
            having=having,
            order_by=parts.get("order", ()),
            limit=parts.get("limit"),
            offset=parts.get("offset"),
            scope=parts.get("scope"),
            all_rows=bool(parts.get("all_rows")),
            for_update=bool(parts.get("for_update")),
            pos=pos,
        )

    def query(self, children: list[Any]) -> ast.Query:
        return self._query(children)

    def subquery(self, children: list[Any]) -> ast.Query:
        return self._query(children)

    def start(self, children: list[Any]) -> ast.Query:
        query: ast.Query = children[0]
        return query


def _value_text(value: Any) -> str:
    """A literal as the query wrote it (for "unexpected token" messages)."""
    if isinstance(value, ast.NullValue):
        return "null"
    if isinstance(value, ast.BooleanValue):
        return "true" if value.value else "false"
    if isinstance(value, ast.DateLiteral):
        return value.name if value.n is None else f"{value.name}:{value.n}"
    return str(getattr(value, "text", value))


def _token_text(token: Token) -> str:
    if token.type == "$END":
        return "<EOF>"
    return str(token)


def _end_position(soql: str) -> Position:
    lines = soql.split("\n")
    return Position(len(lines), len(lines[-1]) + 1)


def _syntax_error(soql: str, error: UnexpectedInput) -> SoqlError:
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            return malformed(soql, _end_position(soql), "unexpected token: '<EOF>'")
        return malformed(soql, _pos(token), f"unexpected token: '{_token_text(token)}'")
    if isinstance(error, UnexpectedCharacters):
        index = error.pos_in_stream or 0
        char = soql[index] if index < len(soql) else "<EOF>"
        # Salesforce reports lexer errors as "line L:C" with a 0-based column.
        col0 = int(error.column) - 1
        text = f"line {error.line}:{col0} unexpected token: '{char}'"
        return SoqlError("MALFORMED_QUERY", located_message(soql, Position(error.line, col0), text))
    if isinstance(error, UnexpectedEOF):
        return malformed(soql, _end_position(soql), "unexpected token: '<EOF>'")
    return malformed(soql, None, "unexpected token")


def parse_soql(soql: str) -> ast.Query:
    """Parse a SOQL statement.

    Args:
        soql: the query text as the client sent it.

    Returns:
        The query's syntax tree; names are not yet checked against the schema.

    Raises:
        SoqlError: ``MALFORMED_QUERY`` with Salesforce's positioned message, for any
            text that is not a SOQL statement; never any other exception.
    """
    if len(soql) > MAX_QUERY_LENGTH:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"SOQL statements cannot be longer than {MAX_QUERY_LENGTH} characters",
        )
    try:
        tree = _lark().parse(soql)
        query: ast.Query = _Builder(soql).transform(tree)
    except SoqlError:
        raise
    except UnexpectedInput as error:
        raise _syntax_error(soql, error) from None
    except RecursionError:
        raise SoqlError("MALFORMED_QUERY", "Query is too complicated") from None
    except Exception as error:  # a transformer callback wraps our SoqlError in VisitError
        inner = getattr(error, "orig_exc", None)
        if isinstance(inner, SoqlError):
            raise inner from None
        if isinstance(inner, RecursionError):
            raise SoqlError("MALFORMED_QUERY", "Query is too complicated") from None
        raise
    return query
