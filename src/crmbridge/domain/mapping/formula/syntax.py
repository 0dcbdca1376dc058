"""Parsing formulas into a small AST, with errors that point at the bad token.

The grammar lives in ``formula.lark``. The LALR parser builds the AST while it parses
(a transformer attached to the parser), so no step of parsing recurses over the input
and no input, however nested, can crash it: anything it cannot accept is reported as a
:class:`~crmbridge.domain.mapping.errors.FormulaSyntaxError` naming the offending
token and its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from crmbridge.domain.mapping.errors import FormulaSyntaxError

#: Longest formula accepted (Salesforce's own formula fields stop at 3,900 characters).
MAX_FORMULA_LENGTH = 5000
#: Deepest nesting accepted, which keeps evaluation far from Python's recursion limit.
MAX_DEPTH = 100

_TOKEN_NAMES = {
    "NUMBER": "a number",
    "STRING": "text in quotes",
    "NAME": "a field or function name",
    "SF_FIELD": "a Salesforce field (sf.Name)",
    "TRUE": "TRUE",
    "FALSE": "FALSE",
    "NULL": "NULL",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "COMPARE": "a comparison",
    "AMPERSAND": "'&'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "$END": "the end of the formula",
}


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of AST nodes; ``depth`` is computed bottom-up while parsing."""

    #: 1-based line where the node starts (0 when unknown).
    line: int = 0
    #: 1-based column where the node starts (0 when unknown).
    column: int = 0
    #: Height of the subtree rooted here.
    depth: int = field(default=1, compare=False)


@dataclass(frozen=True, kw_only=True)
class Literal(Node):
    """A text, number (``Decimal``), boolean or null literal."""

    #: The literal's value.
    value: Any


@dataclass(frozen=True, kw_only=True)
class FieldRef(Node):
    """A field reference: ``first_name`` (platform) or ``sf.FirstName`` (Salesforce)."""

    #: Field name or dotted Salesforce path (without the ``sf.`` prefix).
    name: str
    #: ``platform`` or ``salesforce``.
    side: str


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    """A function call; ``name`` is upper-cased (function names ignore case)."""

    #: The function's name, upper-case.
    name: str
    #: The arguments, unevaluated.
    args: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Unary(Node):
    """``-x``, ``+x`` or ``NOT x``."""

    #: ``-``, ``+`` or ``not``.
    operator: str
    #: The operand.
    operand: Node


@dataclass(frozen=True, kw_only=True)
class Binary(Node):
    """An infix operation; ``operator`` is normalised (``==`` → ``=``, ``&&`` → ``and``)."""

    #: One of ``+ - * / & = != < <= > >= and or``.
    operator: str
    #: Left operand.
    left: Node
    #: Right operand.
    right: Node


#: How an unexpected token is named in messages (punctuation is just quoted).
_TOKEN_KINDS = {
    "NUMBER": "number ",
    "STRING": "text ",
    "NAME": "name ",
    "SF_FIELD": "Salesforce field ",
    "COMPARE": "comparison ",
    "TRUE": "keyword ",
    "FALSE": "keyword ",
    "NULL": "keyword ",
    "AND": "keyword ",
    "OR": "keyword ",
    "NOT": "keyword ",
}

_OPERATOR_ALIASES = {"==": "=", "<>": "!=", "&&": "and", "||": "or", "!": "not"}


def _unescape(body: str) -> str:
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
    return "".join(out)


def _depth(*nodes: Node) -> int:
    return 1 + max((n.depth for n in nodes), default=0)


class _AstBuilder(Transformer[Token, Node]):
    """Builds AST nodes bottom-up; called by the LALR parser as rules reduce."""

    def number(self, items: list[Token]) -> Node:
        (token,) = items
        return Literal(value=Decimal(str(token)), line=token.line or 0, column=token.column or 0)

    def string(self, items: list[Token]) -> Node:
        (token,) = items
        text = _unescape(str(token)[1:-1])
        return Literal(value=text, line=token.line or 0, column=token.column or 0)

    def true(self, items: list[Token]) -> Node:
        return Literal(value=True, line=items[0].line or 0, column=items[0].column or 0)

    def false(self, items: list[Token]) -> Node:
        return Literal(value=False, line=items[0].line or 0, column=items[0].column or 0)

    def null(self, items: list[Token]) -> Node:
        return Literal(value=None, line=items[0].line or 0, column=items[0].column or 0)

    def platform_field(self, items: list[Token]) -> Node:
        (token,) = items
        return FieldRef(
            name=str(token), side="platform", line=token.line or 0, column=token.column or 0
        )

    def salesforce_field(self, items: list[Token]) -> Node:
        (token,) = items
        return FieldRef(
            name=str(token)[3:], side="salesforce", line=token.line or 0, column=token.column or 0
        )

    def arguments(self, items: list[Any]) -> Any:
        return tuple(item for item in items if isinstance(item, Node))

    def call(self, items: list[Any]) -> Node:
        name: Token = items[0]
        args: tuple[Node, ...] = next((i for i in items[1:] if isinstance(i, tuple)), ())
        return Call(
            name=str(name).upper(),
            args=args,
            line=name.line or 0,
            column=name.column or 0,
            depth=_depth(*args),
        )

    def group(self, items: list[Any]) -> Node:
        return next(i for i in items if isinstance(i, Node))

    def negative(self, items: list[Any]) -> Node:
        sign, operand = items
        return Unary(
            operator="-", operand=operand, line=sign.line, column=sign.column, depth=_depth(operand)
        )

    def positive(self, items: list[Any]) -> Node:
        sign, operand = items
        return Unary(
            operator="+", operand=operand, line=sign.line, column=sign.column, depth=_depth(operand)
        )

    def negate(self, items: list[Any]) -> Node:
        keyword, operand = items
        return Unary(
            operator="not",
            operand=operand,
            line=keyword.line,
            column=keyword.column,
            depth=_depth(operand),
        )

    def binary(self, items: list[Any]) -> Node:
        left, operator, right = items
        text = str(operator).lower()
        return Binary(
            operator=_OPERATOR_ALIASES.get(text, text),
            left=left,
            right=right,
            line=operator.line or left.line,
            column=operator.column or left.column,
            depth=_depth(left, right),
        )

    logical = binary


@cache
def _parser() -> Lark:
    grammar = resources.files("crmbridge.domain.mapping.formula").joinpath("formula.lark")
    return Lark(
        grammar.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        transformer=_AstBuilder(),
        maybe_placeholders=False,
    )


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _expected(names: set[str] | frozenset[str]) -> str:
    readable = sorted({_TOKEN_NAMES.get(n, n) for n in names if n in _TOKEN_NAMES})
    if not readable:
        return ""
    if len(readable) > 6:
        readable = [*readable[:6], "…"]
    return f"; expected {', '.join(readable)}"


def _syntax_error(text: str, exc: UnexpectedInput) -> FormulaSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        char = text[position] if position < len(text) else ""
        message = (
            f"unterminated text: the closing {char} is missing"
            if char and char in "\"'"
            else f"unexpected character {char!r}"
        )
        return FormulaSyntaxError(message, line=exc.line, column=exc.column, token=char)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        return FormulaSyntaxError(
            f"unexpected {_TOKEN_KINDS.get(token.type, '')}{str(token)!r}"
            + _expected(exc.expected),
            line=token.line or 1,
            column=token.column or 1,
            token=str(token),
        )
    line, column = _end_position(text)
    expected: set[str] = set()
    if isinstance(exc, UnexpectedToken | UnexpectedEOF):
        expected = {str(name) for name in exc.expected}
    return FormulaSyntaxError(
        "the formula ends too early" + _expected(expected), line=line, column=column
    )


def parse_formula(text: str) -> Node:
    """Parse a formula into its AST.

    Args:
        text: the formula, e.g. ``IF(ISBLANK(phone), mobile_phone, phone)``.

    Returns:
        The root node.

    Raises:
        FormulaSyntaxError: naming the bad token and its line and column, for any input
            the grammar does not accept (including empty, over-long or over-nested ones).
    """
    if not isinstance(text, str) or not text.strip():
        return _raise(FormulaSyntaxError("the formula is empty", line=1, column=1))
    if len(text) > MAX_FORMULA_LENGTH:
        return _raise(
            FormulaSyntaxError(
                f"the formula is longer than {MAX_FORMULA_LENGTH} characters", line=1, column=1
            )
        )
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except LarkError as exc:  # pragma: no cover - any other parser failure, kept clear
        raise FormulaSyntaxError(f"the formula cannot be read: {exc}", line=1, column=1) from None
    if not isinstance(tree, Node):  # pragma: no cover - the grammar always yields a node
        raise FormulaSyntaxError("the formula cannot be read", line=1, column=1)
    if tree.depth > MAX_DEPTH:
        raise FormulaSyntaxError(
            f"the formula is nested more than {MAX_DEPTH} levels deep; simplify it",
            line=tree.line or 1,
            column=tree.column or 1,
        )
    return tree


def _raise(error: FormulaSyntaxError) -> Node:
    raise error
