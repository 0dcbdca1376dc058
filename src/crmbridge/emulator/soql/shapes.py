"""SELECT list → selected SQL columns plus the record shape that renders them.

Parent fields nest under their relationship (``Account: {attributes, Name}``) in the
order the query first names them; every parent also selects its id (hidden) so an empty
lookup renders as null and each nested record gets its ``attributes.url``.
"""

from __future__ import annotations

from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.errors import SoqlError, malformed, unsupported_type
from crmbridge.emulator.soql.functions import FunctionColumn, compile_function
from crmbridge.emulator.soql.plans import (
    AddressOut,
    ChildOut,
    ChildPlan,
    Entry,
    FieldOut,
    ParentOut,
    RecordShape,
    TypeOfOut,
)
from crmbridge.emulator.soql.records import CONVERTED_TYPES
from crmbridge.emulator.soql.resolve import Address, Column, JoinNode, Scope


class ShapeBuilder:
    """Collects the columns of one statement and the shape of its records."""

    def __init__(self, scope: Scope, soql: str) -> None:
        self.scope = scope
        self.soql = soql
        self.columns: list[str] = []
        self._indexes: dict[str, int] = {}
        self.shape = RecordShape(scope.sobject.name, self.hidden(scope.root.id_sql))
        self.children: list[ChildOut] = []
        #: (flattened name, column index, describe type) for Bulk API CSV.
        self.flat: list[tuple[str, int, str]] = []
        self._seen: set[tuple[str, ...]] = set()
        self._typeof: set[str] = set()

    def hidden(self, sql: str) -> int:
        """The column index of ``sql``, selecting it once."""
        index = self._indexes.get(sql)
        if index is None:
            index = len(self.columns)
            self.columns.append(sql)
            self._indexes[sql] = index
        return index

    # --- select items ------------------------------------------------------------
    def add_path(self, path: ast.FieldPath) -> None:
        """A plain or parent field (``Name``, ``Account.Owner.Name``, ``BillingAddress``)."""
        self._add(self.scope.resolve(path))

    def add_function(self, call: ast.FunctionCall) -> None:
        """``toLabel(Status)``, ``convertCurrency(Amount)``: the field under its own name."""
        value = compile_function(self.scope, call)
        if value.source is None or value.sql != value.source.sql:
            raise malformed(
                self.soql, call.pos, f"{call.name} is only allowed in aggregate queries"
            )
        self._add(value.source)

    def _add(self, resolved: Column | Address | FunctionColumn) -> None:
        assert not isinstance(resolved, FunctionColumn)
        canonical = resolved.path
        key = tuple(p.lower() for p in canonical)
        if key in self._seen:
            # SOQL and SOSL Reference, "SELECT": the error FIELDS() duplicates give.
            raise SoqlError("INVALID_FIELD", f"duplicate field selected: {'.'.join(canonical)}")
        if canonical[0].lower() in self._typeof:
            raise malformed(
                self.soql, None, f"TYPEOF field {canonical[0]} can not also be in the field list"
            )
        self._seen.add(key)
        entries = self._place(self.shape.entries, self.scope.root, canonical[:-1])
        entries[canonical[-1].lower()] = self._entry(resolved)
        if isinstance(resolved, Column):
            self.flat.append((".".join(canonical), self.hidden(resolved.sql), resolved.type))

    def _entry(self, resolved: Column | Address) -> Entry:
        if isinstance(resolved, Address):
            components = sorted(
                (key, self.hidden(column.sql)) for key, column in resolved.components
            )
            return AddressOut(resolved.path[-1], components)
        plain = resolved.type not in CONVERTED_TYPES
        return FieldOut(resolved.path[-1], self.hidden(resolved.sql), resolved.type, plain)

    def _place(
        self, entries: dict[str, Entry], base: JoinNode, relationships: tuple[str, ...]
    ) -> dict[str, Entry]:
        """The entries dict of the parent record at ``relationships`` below ``base``."""
        node = base
        for name in relationships:
            node = node.children[name.lower()]
            entry = entries.get(name.lower())
            if not isinstance(entry, ParentOut):
                type_name = node.sobject.name if node.sobject is not None else "Name"
                entry = ParentOut(name, type_name, self.hidden(node.id_sql))
                entries[name.lower()] = entry
            entries = entry.entries
        return entries

    def add_typeof(self, item: ast.SelectTypeOf) -> None:
        """``TYPEOF What WHEN Account THEN Phone ... ELSE Name END``."""
        parts = self.scope.strip_prefix(item.field.parts)
        if len(parts) != 1:
            raise malformed(self.soql, item.field.pos, f"unexpected token: '{item.field.text}'")
        node = self.scope.relationship_node(parts[0], item.field.pos)
        if node.sobject is not None:
            raise malformed(
                self.soql,
                item.field.pos,
                f"TYPEOF can only be used with a polymorphic relationship: {parts[0]}",
            )
        relationship = node.path[-1]
        if relationship.lower() in self._typeof or any(
            k[0] == relationship.lower() for k in self._seen
        ):
            raise malformed(
                self.soql,
                item.pos,
                f"TYPEOF field {relationship} can not also be in the field list",
            )
        self._typeof.add(relationship.lower())
        branches: dict[str, dict[str, Entry]] = {}
        for when in item.whens:
            target = next(
                (t for t, _ in node.targets if t.name.lower() == when.sobject.lower()), None
            )
            if target is None:
                raise unsupported_type(self.soql, when.pos, when.sobject)
            typed = self.scope.typed_node(node, target)
            branches[target.name] = self._branch(typed, when.fields)
        else_entries = self._branch(node, item.else_fields) if item.else_fields else None
        type_sql = self.scope.resolve_from(node, ("Type",), item.pos)
        assert isinstance(type_sql, Column)
        self.shape.entries[relationship.lower()] = TypeOfOut(
            relationship,
            self.hidden(node.id_sql),
            self.hidden(type_sql.sql),
            branches,
            else_entries,
        )

    def _branch(self, node: JoinNode, fields: tuple[ast.FieldPath, ...]) -> dict[str, Entry]:
        entries: dict[str, Entry] = {}
        seen: set[tuple[str, ...]] = set()
        for path in fields:
            resolved = self.scope.resolve_from(node, path.parts, path.pos)
            relative = resolved.path[len(node.path) :]
            key = tuple(p.lower() for p in relative)
            if key in seen:
                raise SoqlError("INVALID_FIELD", f"duplicate field selected: {'.'.join(relative)}")
            seen.add(key)
            target = self._place(entries, node, relative[:-1])
            target[relative[-1].lower()] = self._entry(resolved)
        return entries

    def add_child(self, key: str, child: ChildPlan) -> None:
        """A parent-to-child subquery under its relationship name."""
        if key.lower() in self.shape.entries:
            raise SoqlError("INVALID_FIELD", f"duplicate field selected: {key}")
        out = ChildOut(key, child)
        self.shape.entries[key.lower()] = out
        self.children.append(out)
