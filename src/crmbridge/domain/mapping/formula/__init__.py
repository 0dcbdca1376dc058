"""A small, safe expression language for formula field mappings (no ``eval``).

>>> formula = compile_formula('first_name & " " & UPPER(last_name)')
>>> formula.evaluate(platform={"first_name": "Ada", "last_name": "Lovelace"})
'Ada LOVELACE'

Syntax errors are raised by :func:`compile_formula` with the bad token's position;
unknown functions, wrong argument counts and unknown fields are found by
:meth:`Formula.check` (at validation time, not when records flow); evaluation errors
concern one record.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from crmbridge.domain.mapping.errors import FormulaValidationError
from crmbridge.domain.mapping.formula.evaluate import Environment, evaluate
from crmbridge.domain.mapping.formula.functions import FUNCTIONS
from crmbridge.domain.mapping.formula.syntax import (
    Binary,
    Call,
    FieldRef,
    Node,
    Unary,
    parse_formula,
)
from crmbridge.domain.mapping.values import decimal_to_json


def _walk(root: Node) -> Iterator[Node]:
    """Every node, parents before children, left to right (no recursion)."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        children: tuple[Node, ...] = ()
        if isinstance(node, Call):
            children = node.args
        elif isinstance(node, Binary):
            children = (node.left, node.right)
        elif isinstance(node, Unary):
            children = (node.operand,)
        stack.extend(reversed(children))


def _suggest(name: str, candidates: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.75)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" (did you mean {', '.join(close)}?)" if close else ""


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text and AST."""

    #: The formula as written.
    text: str
    #: The parsed expression.
    root: Node

    def field_refs(self) -> tuple[FieldRef, ...]:
        """Every field reference, in order of appearance."""
        return tuple(n for n in _walk(self.root) if isinstance(n, FieldRef))

    def platform_fields(self) -> frozenset[str]:
        """The platform fields the formula reads."""
        return frozenset(r.name for r in self.field_refs() if r.side == "platform")

    def salesforce_fields(self) -> frozenset[str]:
        """The Salesforce fields (or dotted paths) the formula reads."""
        return frozenset(r.name for r in self.field_refs() if r.side == "salesforce")

    def check(
        self,
        *,
        platform_fields: Collection[str] | None,
        salesforce_fields: Collection[str] | None,
    ) -> list[str]:
        """Every problem that would make the formula fail on all records.

        Args:
            platform_fields: the platform fields it may read; ``None`` forbids them.
            salesforce_fields: the Salesforce fields it may read (``sf.Name``); ``None``
                forbids them. Dotted paths are accepted when their first part is a
                known field or relationship.

        Returns:
            Human-readable problems, each with its line and column; empty when valid.
        """
        problems: list[str] = []
        sf_known = {name.lower(): name for name in salesforce_fields or ()}
        for node in _walk(self.root):
            where = f"(line {node.line}, column {node.column})"
            if isinstance(node, Call):
                spec = FUNCTIONS.get(node.name)
                if spec is None:
                    hint = _suggest(node.name, FUNCTIONS)
                    problems.append(f"unknown function {node.name}{hint} {where}")
                    continue
                count = len(node.args)
                too_many = spec.max_args is not None and count > spec.max_args
                uneven_case = node.name == "CASE" and count % 2 != 0
                if count < spec.min_args or too_many or uneven_case:
                    problems.append(
                        f"{node.name} takes {_arity(spec.min_args, spec.max_args, node.name)}, "
                        f"got {count}: use {spec.usage} {where}"
                    )
            elif isinstance(node, FieldRef) and node.side == "platform":
                if platform_fields is None:
                    problems.append(
                        f"platform field {node.name} cannot be used here; this formula "
                        f"reads Salesforce fields (sf.Name) {where}"
                    )
                elif node.name not in platform_fields:
                    hint = _suggest(node.name, platform_fields)
                    problems.append(f"unknown platform field {node.name}{hint} {where}")
            elif isinstance(node, FieldRef):
                head = node.name.split(".")[0]
                if salesforce_fields is None:
                    problems.append(
                        f"Salesforce field sf.{node.name} cannot be used here; this formula "
                        f"reads platform fields {where}"
                    )
                elif head not in salesforce_fields and head.lower() not in sf_known:
                    hint = _suggest(head, list(sf_known.values()))
                    problems.append(f"unknown Salesforce field sf.{node.name}{hint} {where}")
        return problems

    def validate(
        self,
        *,
        platform_fields: Collection[str] | None,
        salesforce_fields: Collection[str] | None,
    ) -> None:
        """Like :meth:`check`, but raise.

        Raises:
            FormulaValidationError: listing every problem.
        """
        problems = self.check(platform_fields=platform_fields, salesforce_fields=salesforce_fields)
        if problems:
            raise FormulaValidationError(problems)

    def evaluate(
        self,
        *,
        platform: Mapping[str, Any] | None = None,
        salesforce: Mapping[str, Any] | None = None,
        today: date | None = None,
    ) -> Any:
        """The formula's value for one record.

        Args:
            platform: the platform record.
            salesforce: the Salesforce record (for ``sf.`` references).
            today: today's date in the tenant's time zone (``TODAY()``).

        Returns:
            ``str``, ``int``/``float``, ``bool``, ``date``/``datetime`` or ``None``.

        Raises:
            FormulaEvaluationError: when the formula fails on this record.
        """
        env = Environment(platform=platform or {}, salesforce=salesforce or {}, today=today)
        value = evaluate(self.root, env)
        return decimal_to_json(value) if isinstance(value, Decimal) else value


@lru_cache(maxsize=1024)
def parse_cached(text: str) -> Formula:
    """The parsed formula for ``text``, parsed once per process (formulas repeat per record).

    Raises:
        FormulaSyntaxError: when the text does not parse (not cached).
    """
    return Formula(text=text, root=parse_formula(text))


def _arity(low: int, high: int | None, name: str) -> str:
    if name == "CASE":
        return "an expression, value/result pairs and an else result (an even count, 4 or more)"
    if high is None:
        return f"{low} or more arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def compile_formula(
    text: str,
    *,
    platform_fields: Collection[str] | None = None,
    salesforce_fields: Collection[str] | None = None,
    check_fields: bool = False,
) -> Formula:
    """Parse a formula, and check its functions (and fields, if asked).

    Args:
        text: the formula.
        platform_fields: platform fields it may read (with ``check_fields``).
        salesforce_fields: Salesforce fields it may read (with ``check_fields``).
        check_fields: also reject unknown or forbidden field references.

    Raises:
        FormulaSyntaxError: when the text does not parse.
        FormulaValidationError: for unknown functions, wrong argument counts, and (with
            ``check_fields``) unknown fields.
    """
    formula = Formula(text=text, root=parse_formula(text))
    problems = formula.check(
        platform_fields=platform_fields if check_fields else _Everything(),
        salesforce_fields=salesforce_fields if check_fields else _Everything(),
    )
    if problems:
        raise FormulaValidationError(problems)
    return formula


class _Everything(Collection[str]):
    """A collection that contains every name (used when fields are not checked)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


__all__ = ["Formula", "compile_formula", "parse_cached"]
