"""Value mapping: platform values ↔ Salesforce values (status, source, picklists)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Self

from crmbridge.domain.mapping.errors import TransformError
from crmbridge.domain.mapping.reading import DefinitionReader, is_json_scalar
from crmbridge.domain.mapping.transforms.base import StepContext, TransformStep

#: A value in a value map: a JSON scalar.
MapValue = str | int | float | bool | None


class Unset(enum.Enum):
    """Marks "no default configured" (distinct from a default of ``null``)."""

    UNSET = "unset"


UNSET = Unset.UNSET
_NO_PAIR = object()


@dataclass(frozen=True, kw_only=True)
class ValueMap(TransformStep):
    """Translate values both ways through a table of pairs.

    The first pair that matches wins, so a table may map several platform values to
    one Salesforce value and still choose which platform value comes back. A value
    with no pair takes that direction's default; without a default it is an error on
    that record's field, naming the value and the fix. ``null`` stays ``null`` unless
    a pair maps it. Lists (multi-select values) are mapped item by item.
    """

    kind = "value_map"

    #: (platform value, Salesforce value) pairs, first match wins in each direction.
    pairs: tuple[tuple[MapValue, MapValue], ...]
    #: Salesforce value for a platform value with no pair.
    salesforce_default: MapValue | Unset = UNSET
    #: Platform value for a Salesforce value with no pair.
    platform_default: MapValue | Unset = UNSET
    #: Match text values ignoring case.
    case_insensitive: bool = False

    def _key(self, value: Any) -> Any:
        if self.case_insensitive and isinstance(value, str):
            return value.strip().casefold()
        # Keep booleans apart from 0/1 (True == 1 in Python).
        return (type(value) is bool, value)

    @cached_property
    def _tables(self) -> tuple[dict[Any, MapValue], dict[Any, MapValue]]:
        """(platform key → Salesforce value, Salesforce key → platform value), first pair
        winning: a sync maps every record's value, so the pairs are read once."""
        outbound: dict[Any, MapValue] = {}
        inbound: dict[Any, MapValue] = {}
        for platform_value, salesforce_value in self.pairs:
            outbound.setdefault(self._key(platform_value), salesforce_value)
            inbound.setdefault(self._key(salesforce_value), platform_value)
        return outbound, inbound

    def _translate(self, value: Any, *, outbound: bool) -> Any:
        if isinstance(value, list | tuple):
            return [self._translate(item, outbound=outbound) for item in value]
        table = self._tables[0 if outbound else 1]
        try:
            found = table.get(self._key(value), _NO_PAIR)
        except TypeError:  # an unhashable value (an object) matches no scalar pair
            found = _NO_PAIR
        if found is not _NO_PAIR:
            return found
        default = self.salesforce_default if outbound else self.platform_default
        if not isinstance(default, Unset):
            return default
        if value is None:
            return None
        side = "Salesforce" if outbound else "platform"
        raise TransformError(
            f"{value!r} has no {side} value in the value map; add it to the map "
            f"or set a default for unmapped values"
        )

    def to_salesforce(self, value: Any, ctx: StepContext) -> Any:
        return self._translate(value, outbound=True)

    def to_platform(self, value: Any, ctx: StepContext) -> Any:
        return self._translate(value, outbound=False)

    def salesforce_values(self) -> tuple[MapValue, ...]:
        """Every value this map can send to Salesforce (targets and the default)."""
        values = [target for _, target in self.pairs]
        if not isinstance(self.salesforce_default, Unset):
            values.append(self.salesforce_default)
        return tuple(dict.fromkeys(values))

    def maps_salesforce_value(self, value: MapValue) -> bool:
        """Whether a Salesforce value coming in has a pair or a default."""
        if not isinstance(self.platform_default, Unset):
            return True
        return any(self._key(sf) == self._key(value) for _, sf in self.pairs)

    def maps_platform_value(self, value: MapValue) -> bool:
        """Whether a platform value going out has a pair or a default."""
        if not isinstance(self.salesforce_default, Unset):
            return True
        return any(self._key(p) == self._key(value) for p, _ in self.pairs)

    def params(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "pairs": [[p, s] for p, s in self.pairs],
            "case_insensitive": self.case_insensitive,
        }
        if not isinstance(self.salesforce_default, Unset):
            data["salesforce_default"] = self.salesforce_default
        if not isinstance(self.platform_default, Unset):
            data["platform_default"] = self.platform_default
        return data

    @classmethod
    def from_params(cls, reader: DefinitionReader) -> Self:
        reader.reject_unknown(
            {"pairs", "salesforce_default", "platform_default", "case_insensitive"}
        )
        raw_pairs = reader.raw("pairs")
        pairs: list[tuple[MapValue, MapValue]] = []
        if not isinstance(raw_pairs, list):
            reader.problem("must be a list of [platform value, Salesforce value] pairs", "pairs")
        else:
            for index, pair in enumerate(raw_pairs):
                if (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and is_json_scalar(pair[0])
                    and is_json_scalar(pair[1])
                ):
                    pairs.append((pair[0], pair[1]))
                else:
                    reader.problem(
                        "must be a [platform value, Salesforce value] pair of scalars",
                        f"pairs[{index}]",
                    )
        defaults: dict[str, MapValue | Unset] = {}
        for key in ("salesforce_default", "platform_default"):
            value = reader.raw(key) if reader.has(key) else UNSET
            if not isinstance(value, Unset) and not is_json_scalar(value):
                reader.problem("must be a string, number, boolean or null", key)
                value = UNSET
            defaults[key] = value
        return cls(
            pairs=tuple(pairs),
            salesforce_default=defaults["salesforce_default"],
            platform_default=defaults["platform_default"],
            case_insensitive=reader.boolean("case_insensitive", False),
        )

    def describe(self) -> str:
        return f"map {len(self.pairs)} values"


def value_map(
    pairs: Mapping[Any, Any] | Iterable[tuple[Any, Any]],
    *,
    salesforce_default: MapValue | Unset = UNSET,
    platform_default: MapValue | Unset = UNSET,
    case_insensitive: bool = False,
) -> ValueMap:
    """Shorthand: ``value_map({"NEW": "New"}, salesforce_default="Open")``."""
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    return ValueMap(
        pairs=tuple(items),
        salesforce_default=salesforce_default,
        platform_default=platform_default,
        case_insensitive=case_insensitive,
    )
