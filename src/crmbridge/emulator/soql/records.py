"""SQL rows → records in Salesforce's JSON shape, and → Bulk API CSV cells.

REST query records carry ``attributes: {type, url}``, nest parent records under their
relationship name (null when the lookup is empty), render child subqueries as
``{totalSize, done, records}`` (null when there are none) and show datetimes as
``2024-01-02T03:04:05.000+0000`` (REST API Developer Guide, "Query").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from crmbridge.emulator.schema import Schema
from crmbridge.emulator.soql.plans import (
    AddressOut,
    ChildOut,
    Entry,
    FieldOut,
    ParentOut,
    RecordShape,
    TypeOfOut,
)

_DECIMALS = frozenset({"double", "currency", "percent"})
#: Describe types whose stored value is not already the JSON value.
CONVERTED_TYPES = frozenset({"boolean", "int", "datetime"}) | _DECIMALS

#: Child subquery results by ChildOut (identity) and then by parent id.
ChildResults = Mapping[int, Mapping[str, list[dict[str, Any]]]]
#: A shape compiled to one function: ``(row, children) -> record``.
RowRenderer = Callable[[tuple[Any, ...], ChildResults], dict[str, Any]]


def json_value(kind: str, value: Any) -> Any:
    """A stored value as REST JSON shows it."""
    if value is None:
        return None
    if kind == "boolean":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in _DECIMALS:
        return float(value)
    if kind == "datetime" and isinstance(value, str) and value.endswith("Z"):
        return value[:-1] + "+0000"
    return value


def csv_value(kind: str, value: Any) -> str:
    """A stored value as a Bulk API CSV cell (empty for null; datetimes keep the Z)."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))
    if kind in _DECIMALS:
        return repr(float(value))
    return str(value)


class RecordRenderer:
    """Builds REST records from rows of one plan."""

    def __init__(self, schema: Schema, api_version: str) -> None:
        self.schema = schema
        self.prefix = f"/services/data/v{api_version}/sobjects/"
        self._compiled: dict[int, tuple[RecordShape, RowRenderer]] = {}

    def attributes(self, type_name: str, record_id: str | None) -> dict[str, Any]:
        """``{type, url}``; polymorphic (``Name``) parents point at their real object."""
        url_type = type_name
        if type_name == "Name" and record_id:
            target = self.schema.object_for_id(record_id)
            url_type = target.name if target is not None else type_name
        attributes: dict[str, Any] = {"type": type_name}
        if record_id is not None:
            attributes["url"] = f"{self.prefix}{url_type}/{record_id}"
        return attributes

    def records(
        self, shape: RecordShape, rows: list[tuple[Any, ...]], children: ChildResults
    ) -> list[dict[str, Any]]:
        """The records of ``rows``: what :meth:`record` gives for each, built faster.

        A page holds up to 2,000 records (tens of thousands with a child subquery), so
        the shape is compiled once into a function of one row (see :meth:`compiled`)
        instead of walking its entries for every record.
        """
        render = self.compiled(shape)
        return [render(row, children) for row in rows]

    def compiled(self, shape: RecordShape) -> RowRenderer:
        """``shape`` as one Python function building the record of a row (cached)."""
        cached = self._compiled.get(id(shape))
        if cached is not None and cached[0] is shape:
            return cached[1]
        render = _ShapeCompiler(self).compile(shape)
        # The shape is kept with its function, so its id is never reused meanwhile.
        self._compiled[id(shape)] = (shape, render)
        return render

    def record(
        self, shape: RecordShape, row: tuple[Any, ...], children: ChildResults
    ) -> dict[str, Any]:
        """The record one row of the plan stands for (entry by entry; see :meth:`records`)."""
        record_id = row[shape.id_index]
        record: dict[str, Any] = {"attributes": self.attributes(shape.type_name, record_id)}
        self._fill(record, shape.entries, row, children, record_id)
        return record

    def _fill(
        self,
        target: dict[str, Any],
        entries: Mapping[str, Entry],
        row: tuple[Any, ...],
        children: ChildResults,
        record_id: str | None,
    ) -> None:
        for entry in entries.values():
            # Plain fields first: they are most of every record.
            if isinstance(entry, FieldOut):
                value = row[entry.index]
                if not entry.plain and value is not None:
                    value = json_value(entry.type, value)
                target[entry.key] = value
            elif isinstance(entry, AddressOut):
                target[entry.key] = _address(entry, row)
            elif isinstance(entry, ParentOut):
                parent_id = row[entry.id_index]
                if parent_id is None:
                    target[entry.key] = None
                    continue
                parent = {"attributes": self.attributes(entry.type_name, parent_id)}
                self._fill(parent, entry.entries, row, children, parent_id)
                target[entry.key] = parent
            elif isinstance(entry, TypeOfOut):
                target[entry.key] = self._typeof(entry, row, children)
            else:
                target[entry.key] = _child_result(entry, children, record_id)

    def _typeof(
        self, entry: TypeOfOut, row: tuple[Any, ...], children: ChildResults
    ) -> dict[str, Any] | None:
        parent_id = row[entry.id_index]
        type_name = row[entry.type_index]
        if parent_id is None:
            return None
        entries = entry.branches.get(type_name or "") if type_name else None
        if entries is None:
            entries = entry.else_entries
        if entries is None:
            return None
        actual = type_name or "Name"
        parent = {"attributes": self.attributes(actual, parent_id)}
        self._fill(parent, entries, row, children, parent_id)
        return parent


class _ShapeCompiler:
    """Writes a record shape as the source of one function and compiles it.

    The function is a single dict display in the shape's key order, so it builds
    exactly what :meth:`RecordRenderer.record` builds: plain fields are ``row[i]``,
    converted ones go through :func:`json_value`, parent records are nested displays
    (null when the lookup is empty), and compound addresses, TYPEOF and child
    subqueries call the same helpers as the entry-by-entry path. Every name in the
    source is a ``repr`` literal or a bound constant; nothing from the query text is
    spliced in as code.
    """

    def __init__(self, renderer: RecordRenderer) -> None:
        self.renderer = renderer
        self.constants: dict[str, Any] = {
            "_json_value": json_value,
            "_address": _address,
            "_child_result": _child_result,
            "_attributes": renderer.attributes,
            "_typeof": renderer._typeof,
        }

    def compile(self, shape: RecordShape) -> RowRenderer:
        record_id = f"row[{shape.id_index}]"
        body = self._display(shape.type_name, record_id, shape.entries)
        source = f"def render(row, children):\n    return {body}\n"
        namespace = dict(self.constants)
        exec(compile(source, f"<soql record {shape.type_name}>", "exec"), namespace)  # noqa: S102
        render: RowRenderer = namespace["render"]
        return render

    def _constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def _attributes(self, type_name: str, record_id: str) -> str:
        if type_name == "Name":
            # Polymorphic: the url names the object the id belongs to.
            return f"_attributes('Name', {record_id})"
        url = repr(f"{self.renderer.prefix}{type_name}/")
        kind = repr(type_name)
        return (
            f"({{'type': {kind}}} if {record_id} is None "
            f"else {{'type': {kind}, 'url': {url} + {record_id}}})"
        )

    def _display(self, type_name: str, record_id: str, entries: Mapping[str, Entry]) -> str:
        items = [f"'attributes': {self._attributes(type_name, record_id)}"]
        for entry in entries.values():
            items.append(f"{entry.key!r}: {self._value(entry, record_id)}")
        return "{" + ", ".join(items) + "}"

    def _value(self, entry: Entry, record_id: str) -> str:
        if isinstance(entry, FieldOut):
            cell = f"row[{entry.index}]"
            if entry.plain:
                return cell
            return f"_json_value({entry.type!r}, {cell})"
        if isinstance(entry, AddressOut):
            return f"_address({self._constant(entry)}, row)"
        if isinstance(entry, ParentOut):
            parent_id = f"row[{entry.id_index}]"
            nested = self._display(entry.type_name, parent_id, entry.entries)
            return f"(None if {parent_id} is None else {nested})"
        if isinstance(entry, TypeOfOut):
            return f"_typeof({self._constant(entry)}, row, children)"
        return f"_child_result({self._constant(entry)}, children, {record_id})"


def _address(entry: AddressOut, row: tuple[Any, ...]) -> dict[str, Any] | None:
    values = {key: row[index] for key, index in entry.components}
    if all(value is None for value in values.values()):
        return None
    return values


def _child_result(
    entry: ChildOut, children: ChildResults, record_id: str | None
) -> dict[str, Any] | None:
    records = children.get(id(entry), {}).get(record_id or "", [])
    if not records:
        return None
    return {"totalSize": len(records), "done": True, "records": records}
