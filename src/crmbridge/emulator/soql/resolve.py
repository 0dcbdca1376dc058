"""Field paths → SQL expressions over the store's tables, with the LEFT JOINs they need.

One :class:`Scope` per SQL statement: the queried object is ``t0``; every parent
relationship a path walks (``Account``, ``Account.Owner``) becomes one LEFT JOIN, shared
by every path that walks it. Names are resolved case-insensitively against the schema
and only schema names (validated identifiers) are ever quoted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crmbridge.emulator.schema import FieldDef, Schema, SObjectDef
from crmbridge.emulator.soql import ast
from crmbridge.emulator.soql.errors import (
    Position,
    bad_relationship,
    invalid_field,
    no_such_column,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Fields of the ``Name`` pseudo-object that polymorphic relationships (Task.Who,
#: Event.What) expose (SOQL and SOSL Reference, "Understanding Relationship Fields and
#: Polymorphic Fields"), with their describe types.
NAME_OBJECT_FIELDS: dict[str, str] = {
    "Id": "id",
    "Name": "string",
    "Type": "string",
    "FirstName": "string",
    "LastName": "string",
    "Alias": "string",
    "Email": "email",
    "Phone": "phone",
    "Title": "string",
    "IsActive": "boolean",
    "Username": "string",
    "UserRoleId": "reference",
    "ProfileId": "reference",
    "RecordTypeId": "reference",
    "CommunityNickname": "string",
    "LastReferencedDate": "datetime",
    "LastViewedDate": "datetime",
}


def quote(identifier: str) -> str:
    """``identifier`` double-quoted for SQLite; only schema names ever get here."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"not an identifier: {identifier!r}")
    return f'"{identifier}"'


@dataclass(frozen=True, slots=True)
class Column:
    """A resolved scalar: its SQL, its describe type and where it came from."""

    sql: str
    #: Describe type of the value (``string``, ``boolean``, ``datetime`` ...).
    type: str
    #: Canonical path: relationship names then the field name (``("Account", "Name")``).
    path: tuple[str, ...]
    #: The field definition, when the value is a real field (None for ``Who.Type``).
    field: FieldDef | None
    #: Object owning the field (``Name`` for polymorphic relationships).
    sobject: str
    #: Join node the value hangs off (None for the queried object itself).
    node: JoinNode | None = None

    @property
    def text(self) -> bool:
        """True when SOQL compares the value case-insensitively."""
        return self.type in _TEXT_COMPARED and not (self.field and self.field.case_sensitive)

    @property
    def name(self) -> str:
        """The field's canonical API name."""
        return self.path[-1]


_TEXT_COMPARED = frozenset(
    {"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
     "encryptedstring", "time"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Address:
    """A compound address field: its components as (JSON key, Column) pairs."""

    path: tuple[str, ...]
    components: tuple[tuple[str, Column], ...]
    node: JoinNode | None


@dataclass(slots=True)
class JoinNode:
    """One parent relationship joined into the statement."""

    #: Canonical relationship names from the root (``("Account", "Owner")``).
    path: tuple[str, ...]
    #: Table alias of the parent (or, for a polymorphic relationship, of the reference).
    alias: str
    #: The parent object; None for a polymorphic relationship (several objects).
    sobject: SObjectDef | None
    #: SQL of the id of the parent record (null when there is no parent).
    id_sql: str
    #: For a polymorphic relationship: (object, alias) of each joined target.
    targets: tuple[tuple[SObjectDef, str], ...] = ()
    children: dict[str, JoinNode] = field(default_factory=dict)


class Scope:
    """Resolution context of one SQL statement (the query, a subquery, a semi-join)."""

    def __init__(
        self,
        schema: Schema,
        sobject: SObjectDef,
        soql: str,
        *,
        alias_prefix: str = "t",
        user_alias: str | None = None,
    ) -> None:
        self.schema = schema
        self.sobject = sobject
        self.soql = soql
        self.user_alias = user_alias.lower() if user_alias else None
        self._prefix = alias_prefix
        self._count = 0
        self.root_alias = self._new_alias()
        self.root = JoinNode((), self.root_alias, sobject, f'{self.root_alias}."Id"')
        #: LEFT JOIN clauses in the order they were needed.
        self.joins: list[str] = []

    def _new_alias(self) -> str:
        alias = f"{self._prefix}{self._count}"
        self._count += 1
        return alias

    @property
    def from_sql(self) -> str:
        """``"Contact" AS t0 LEFT JOIN ...`` with every join registered so far."""
        return " ".join([f"{quote(self.sobject.name)} AS {self.root_alias}", *self.joins])

    def from_sql_upto(self, count: int) -> str:
        """The FROM clause with only the first ``count`` joins (those WHERE needs)."""
        return " ".join([f"{quote(self.sobject.name)} AS {self.root_alias}", *self.joins[:count]])

    # --- paths ----------------------------------------------------------------------
    def strip_prefix(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """Drop a leading alias or object name (``c.Name``, ``Contact.Name``)."""
        if len(parts) < 2:
            return parts
        head = parts[0].lower()
        if self.user_alias and head == self.user_alias:
            return parts[1:]
        if head == self.sobject.name.lower() and self.sobject.relationship(head) is None:
            return parts[1:]
        return parts

    def resolve(self, path: ast.FieldPath) -> Column | Address:
        """The column (or compound address) a field path names."""
        return self.resolve_from(self.root, self.strip_prefix(path.parts), path.pos)

    def resolve_from(
        self, node: JoinNode, parts: tuple[str, ...], pos: Position
    ) -> Column | Address:
        """The column a path names, starting at ``node`` instead of the queried object."""
        for part in parts[:-1]:
            node = self._join(node, part, pos)
        return self._field(node, parts[-1], pos, depth=0)

    def relationship_node(self, name: str, pos: Position) -> JoinNode:
        """The join node of a parent relationship of the queried object (``What``)."""
        return self._join(self.root, name, pos)

    def node_for(self, path: tuple[str, ...]) -> JoinNode:
        """The join node at a canonical relationship path already resolved."""
        node = self.root
        for name in path:
            node = node.children[name.lower()]
        return node

    def typed_node(self, poly: JoinNode, sobject: SObjectDef) -> JoinNode:
        """A polymorphic relationship seen as one of its target objects (TYPEOF WHEN)."""
        key = f"<{sobject.name.lower()}>"
        if key not in poly.children:
            alias = next(a for target, a in poly.targets if target.name == sobject.name)
            poly.children[key] = JoinNode(poly.path, alias, sobject, f'{alias}."Id"')
        return poly.children[key]

    def resolve_scalar(self, path: ast.FieldPath, *, purpose: str) -> Column:
        """Like :meth:`resolve`, rejecting compound fields (they cannot be filtered)."""
        resolved = self.resolve(path)
        if isinstance(resolved, Address):
            raise invalid_field(
                self.soql, path.pos, f"field '{resolved.path[-1]}' can not be {purpose}"
            )
        return resolved

    def _join(self, node: JoinNode, name: str, pos: Position) -> JoinNode:
        if node.sobject is None:  # a polymorphic relationship has no further relationships
            raise bad_relationship(self.soql, pos, name)
        ref = node.sobject.relationship(name)
        if ref is None or not ref.reference_to:
            raise bad_relationship(self.soql, pos, name)
        assert ref.relationship_name is not None
        key = ref.relationship_name.lower()
        if key in node.children:
            return node.children[key]
        path = (*node.path, ref.relationship_name)
        fk = f"{node.alias}.{quote(ref.name)}"
        targets = [self.schema.get(t) for t in ref.reference_to]
        existing = [t for t in targets if t is not None]
        if len(ref.reference_to) == 1 and existing:
            alias = self._new_alias()
            parent = existing[0]
            self.joins.append(f'LEFT JOIN {quote(parent.name)} AS {alias} ON {alias}."Id" = {fk}')
            child = JoinNode(path, alias, parent, f'{alias}."Id"')
        else:
            joined = []
            for target in existing:
                alias = self._new_alias()
                self.joins.append(
                    f'LEFT JOIN {quote(target.name)} AS {alias} ON {alias}."Id" = {fk}'
                )
                joined.append((target, alias))
            child = JoinNode(path, node.alias, None, fk, tuple(joined))
        node.children[key] = child
        return child

    def _field(self, node: JoinNode, name: str, pos: Position, *, depth: int) -> Column | Address:
        if node.sobject is None:
            return self._polymorphic_field(node, name, pos)
        sobject = node.sobject
        found = sobject.field(name)
        if found is None:
            raise no_such_column(self.soql, pos, name, sobject.name)
        path = (*node.path, found.name)
        if found.type == "address":
            components = []
            for comp in sobject.compound_components(found.name):
                key = _address_key(found.name, comp.name)
                components.append((key, self._stored(node, comp, (*node.path, comp.name))))
            return Address(path, tuple(components), node if node.path else None)
        if found.calculated and found.formula:
            if depth > 5:
                raise invalid_field(self.soql, pos, f"formula of field '{found.name}' loops")
            target = node
            formula_parts = found.formula.split(".")
            for part in formula_parts[:-1]:
                target = self._join(target, part, pos)
            inner = self._field(target, formula_parts[-1], pos, depth=depth + 1)
            if isinstance(inner, Address):
                return inner
            # The value is the formula's, the name and type are the formula field's.
            return Column(inner.sql, found.type, path, found, sobject.name, inner.node)
        return self._stored(node, found, path)

    def _stored(self, node: JoinNode, found: FieldDef, path: tuple[str, ...]) -> Column:
        sql = f"{node.alias}.{quote(found.name)}"
        owner = node if node.path else None
        assert node.sobject is not None
        return Column(sql, found.type, path, found, node.sobject.name, owner)

    def _polymorphic_field(self, node: JoinNode, name: str, pos: Position) -> Column:
        canonical = next((k for k in NAME_OBJECT_FIELDS if k.lower() == name.lower()), None)
        if canonical is None:
            raise no_such_column(self.soql, pos, name, "Name")
        path = (*node.path, canonical)
        kind = NAME_OBJECT_FIELDS[canonical]
        if canonical == "Id":
            return Column(node.id_sql, "id", path, None, "Name", node)
        if canonical == "Type":
            whens = " ".join(
                f"WHEN {alias}.\"Id\" IS NOT NULL THEN '{target.name}'"
                for target, alias in node.targets
            )
            sql = f"(CASE {whens} END)" if whens else "NULL"
            return Column(sql, kind, path, None, "Name", node)
        values = []
        for target, alias in node.targets:
            target_field = target.field(canonical)
            if target_field is not None and target_field.stored:
                values.append(f"{alias}.{quote(target_field.name)}")
        if not values:
            sql = "NULL"
        elif len(values) == 1:
            sql = values[0]
        else:
            sql = f"COALESCE({', '.join(values)})"
        return Column(sql, kind, path, None, "Name", node)


def _address_key(compound: str, component: str) -> str:
    """``BillingAddress`` + ``BillingPostalCode`` → ``postalCode`` (the JSON key)."""
    prefix = compound[: -len("Address")]
    rest = component[len(prefix) :] if component.startswith(prefix) else component
    return rest[:1].lower() + rest[1:]
