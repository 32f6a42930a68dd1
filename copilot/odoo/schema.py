"""The per-version schema map: tools ask for *logical* field names, the client sends the server's own.

Logical names are the newest Odoo's (19). An older series lists what it calls them instead; the client
translates the fields it sends (``fields``, domain leaves, ``order``, ``groupby``) and renames the keys of the
rows it gets back, so no tool ever tests a version. Odoo 17 and older are out of scope; a series newer than
the newest known one is served with the newest map (the seam for Odoo 20: add its ``OdooSchema`` to
``SCHEMAS``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from copilot.errors import ConfigError

__all__ = ["SCHEMAS", "OdooSchema", "RoleSource", "parse_series", "schema_for"]

log = logging.getLogger(__name__)

#: How the identity layer finds a user's Purchase and Sales levels: the 18 user-form fields
#: (``sel_groups_*`` / ``in_group_*``), or ``res.users.has_group`` (19: those fields are gone).
RoleSource = Literal["user_form_fields", "has_group"]
GroupMethod = Literal["read_group", "formatted_read_group"]


@dataclass(frozen=True)
class OdooSchema:
    """What one Odoo series calls things, and which methods it prefers."""

    series: int
    #: (model, logical field) -> this series' field name, only where they differ
    renames: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: the grouped-aggregate method (``read_group`` is deprecated on 19)
    group_method: GroupMethod = "formatted_read_group"
    roles: RoleSource = "has_group"

    def field(self, model: str, name: str) -> str:
        """This series' name of the logical field ``name`` of ``model``."""
        return self.renames.get((model, name), name)

    def fields(self, model: str, names: Iterable[str]) -> list[str]:
        """``field`` for each name, in order."""
        return [self.field(model, n) for n in names]

    def path(self, model: str, dotted: str) -> str:
        """A domain path (``order_id.state``): only its first element is translated (it belongs to ``model``)."""
        head, dot, rest = dotted.partition(".")
        return self.field(model, head) + dot + rest

    def domain(self, model: str, domain: Sequence[Any]) -> list[Any]:
        """``domain`` with each leaf's field path translated (operators ``&``/``|``/``!`` kept)."""
        if not self.renames:
            return list(domain)
        out: list[Any] = []
        for leaf in domain:
            if isinstance(leaf, list | tuple) and len(leaf) == 3 and isinstance(leaf[0], str):
                out.append([self.path(model, leaf[0]), leaf[1], leaf[2]])
            else:
                out.append(leaf)
        return out

    def order(self, model: str, order: str | None) -> str | None:
        """An ``order`` clause (``"a desc, b"``) with its field names translated."""
        if not order or not self.renames:
            return order
        parts = []
        for part in order.split(","):
            words = part.split()
            if words:
                words[0] = self.field(model, words[0])
            parts.append(" ".join(words))
        return ", ".join(parts)

    def rows(self, model: str, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows as read, keyed by logical names again."""
        back = {real: logical for (m, logical), real in self.renames.items() if m == model}
        if not back:
            return list(rows)
        return [{back.get(k, k): v for k, v in row.items()} for row in rows]


_ODOO_18_RENAMES: dict[tuple[str, str], str] = {
    ("purchase.order.line", "product_uom_id"): "product_uom",
    ("purchase.order.line", "tax_ids"): "taxes_id",
    ("purchase.order", "note"): "notes",
    ("sale.order.line", "product_uom_id"): "product_uom",
    ("sale.order.line", "tax_ids"): "tax_id",
    ("res.users", "group_ids"): "groups_id",
    ("res.groups", "user_ids"): "users",
}

#: The known series. 17 and older: out of scope. 20: add it here when it is out.
SCHEMAS: dict[int, OdooSchema] = {
    18: OdooSchema(18, _ODOO_18_RENAMES, group_method="read_group", roles="user_form_fields"),
    19: OdooSchema(19),
}

_SERIES = re.compile(r"(?:saas[~-])?(\d{1,3})")


def parse_series(version: str | Sequence[Any] | None) -> int:
    """The major series of a ``server_version`` (``"19.0"``, ``"saas~18.2"``) or ``server_version_info``."""
    if isinstance(version, list | tuple) and version and isinstance(version[0], int):
        return int(version[0])
    match = _SERIES.match(str(version or ""))
    if not match:
        raise ConfigError(f"cannot tell the Odoo version from {version!r}")
    return int(match.group(1))


def schema_for(version: str | Sequence[Any] | None) -> OdooSchema:
    """The schema map of the server that reported ``version``."""
    series = parse_series(version)
    if series < min(SCHEMAS):
        raise ConfigError(f"Odoo {series} is not supported (Odoo {min(SCHEMAS)} or newer is)")
    if series in SCHEMAS:
        return SCHEMAS[series]
    newest = max(s for s in SCHEMAS if s <= series)
    log.warning("Odoo %s is newer than the newest known series %s: using its field names", series, newest)
    return SCHEMAS[newest]
