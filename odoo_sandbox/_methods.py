"""ORM method emulation for ``execute``/``execute_kw`` (``odoo.api.call_kw`` over the store)."""

from __future__ import annotations

import calendar
import html
import inspect
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo_sandbox._approval import (
    APPROVAL_METHODS,
    DECISION_MODEL,
    Workflow,
    after_approval_create,
    check_approval_unlink,
    check_approval_write,
    in_workflow,
    prepare_approval_create,
    workflow_env,
)
from odoo_sandbox._data import Record, Store
from odoo_sandbox._domain import and_domains, name_ids, search
from odoo_sandbox._env import X2MANY, Env, default_value, is_null
from odoo_sandbox._exceptions import EXCEPTION_METHODS, ExceptionMethods
from odoo_sandbox._security import (
    APPROVAL_MODEL,
    EXCEPTION_MODEL,
    ROLE_GROUPS,
    SANDBOX_USERS,
    RpcError,
    SandboxUser,
    check_model_access,
    model_access_error,
    record_rule_error,
)

__all__ = ["execute_kw", "sort_ids"]

DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
DATE_FMT = "%Y-%m-%d"


def _value_error(message: str) -> RpcError:
    return RpcError("builtins.ValueError", message)


def _invalid_field(model: str, name: Any) -> RpcError:
    return _value_error(f"Invalid field {name!r} on model {model!r}")


# --------------------------------------------------------------------------- ordering

_ORDER_TERM = re.compile(r'^\s*"?([a-z0-9_]+)"?(?:\s+(asc|desc))?(?:\s+nulls\s+(first|last))?\s*$', re.IGNORECASE)


def _parse_order(model: str, order: str, known: Callable[[str], bool]) -> list[tuple[str, bool, bool | None]]:
    terms = []
    for part in order.split(","):
        if not part.strip():
            continue
        match = _ORDER_TERM.match(part)
        if not match:
            raise RpcError(
                "odoo.exceptions.UserError",
                f'Invalid "order" specified ({order}). A valid "order" specification is a comma-separated '
                "list of valid field names (optionally followed by asc/desc for the direction)",
            )
        name, direction, nulls = match.groups()
        if not known(name):
            raise _invalid_field(model, name)
        nulls_first = None if nulls is None else nulls.lower() == "first"
        terms.append((name, (direction or "asc").lower() == "desc", nulls_first))
    return terms


def _null_rank(desc: bool, nulls_first: bool | None) -> int:
    first = desc if nulls_first is None else nulls_first
    if desc:
        return 1 if first else -1
    return -1 if first else 1


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return float(value)
    return value


def _comodel_ranks(env: Env, comodel: str, depth: int) -> dict[int, int]:
    if env.dataset.has_model(comodel):
        ids = sort_ids(env, comodel, env.store.ids(comodel), None, _depth=depth + 1)
    else:
        labels = env.dataset.names.get(comodel, {})
        ids = sorted(labels, key=lambda rid: (str(labels[rid]), rid))
    return {rid: pos for pos, rid in enumerate(ids)}


def sort_ids(env: Env, model: str, ids: list[int], order: str | None, *, _depth: int = 0) -> list[int]:
    """``ids`` sorted as ``ORDER BY order`` would (the model's ``_order`` when ``order`` is empty)."""
    spec = _parse_order(
        model, order or env.dataset.meta_for(model).order, lambda n: n in env.fields(model) or n == "id"
    )
    result = sorted(set(ids))
    records = {rid: env.store.get(model, rid) or {"id": rid} for rid in result}
    for fname, desc, nulls_first in reversed(spec):
        attrs = env.field(model, fname) or {"type": "integer"}
        ftype = attrs.get("type", "char")
        null_rank = _null_rank(desc, nulls_first)
        if ftype == "many2one":
            ranks = _comodel_ranks(env, attrs["relation"], _depth) if _depth < 3 else {}

            def key(rid: int, fname: str = fname, ranks: dict[int, int] = ranks, null_rank: int = null_rank) -> Any:
                value = env.value(model, records[rid], fname)
                if not value:
                    return (null_rank, 0)
                return (0, ranks.get(value, value))

        elif ftype in X2MANY:
            continue
        else:

            def key(rid: int, fname: str = fname, ftype: str = ftype, null_rank: int = null_rank) -> Any:
                value = env.value(model, records[rid], fname)
                if is_null(value, ftype):
                    return (null_rank, 0)
                return (0, _plain(value))

        result.sort(key=key, reverse=desc)
    return result


# --------------------------------------------------------------------------- helpers


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple):
        out = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int):
                raise RpcError("builtins.TypeError", f"Invalid id {item!r}")
            out.append(item)
        return out
    raise RpcError("builtins.TypeError", f"Invalid ids {value!r}")


def _field_names(env: Env, model: str, fields: Any, operation: str = "read") -> list[str]:
    """The requested field names, checked like ``check_field_access_rights`` + ``_determine_fields_to_fetch``."""
    if not fields:
        return env.readable_fields(model)
    if isinstance(fields, str):
        fields = [fields]
    names = [str(f) for f in fields]
    hidden = [n for n in names if n in env.restricted(model)]
    if hidden:
        raise RpcError(
            "odoo.exceptions.AccessError",
            f'You do not have enough rights to access the fields "{",".join(hidden)}" on '
            f"{env.dataset.meta_for(model).description} ({model}). Please contact your system administrator."
            f"\n\n(Operation: {operation})",
        )
    for name in names:
        if name not in env.fields(model) and name != "id":
            raise _invalid_field(model, name)
    return names


def _read_rows(env: Env, model: str, ids: list[int], names: list[str], load: str | None) -> list[Record]:
    rows = []
    for rid in ids:
        rec = env.store.get(model, rid)
        if rec is None:
            continue
        row: Record = {"id": rid}
        for name in names:
            if name != "id":
                row[name] = env.to_read(model, rec, name, load)
        rows.append(row)
    return rows


def _search_ids(env: Env, model: str, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None) -> list[int]:
    found = search(env, model, domain if domain is not None else [])
    ids = sort_ids(env, model, list(found), order if isinstance(order, str) else None)
    start = int(offset or 0)
    ids = ids[start:]
    if limit not in (None, False):
        ids = ids[: int(limit)]
    return ids


def _check_visible(env: Env, model: str, ids: list[int], operation: str) -> None:
    for rid in ids:
        rec = env.store.get(model, rid)
        if rec is not None and not env.visible(model, rec):
            raise record_rule_error(env.user_name(), env.user.uid, model, operation)


def _check_exist(env: Env, model: str, ids: list[int]) -> None:
    missing = [rid for rid in dict.fromkeys(ids) if env.store.get(model, rid) is None]
    if missing:
        raise RpcError(
            "odoo.exceptions.MissingError",
            f"Record does not exist or has been deleted.\n(Record: {model}{tuple(missing[:6])!r}, "
            f"User: {env.user.uid})",
        )


# --------------------------------------------------------------------------- read side


def search_read(
    env: Env,
    model: str,
    domain: Any = None,
    fields: Any = None,
    offset: Any = 0,
    limit: Any = None,
    order: Any = None,
    **read_kwargs: Any,
) -> list[Record]:
    """``search_read``: search then read."""
    check_model_access(env.user, model, "read")
    names = _field_names(env, model, fields)
    ids = _search_ids(env, model, domain, offset, limit, order)
    reader = env.with_context()
    reader.context.pop("active_test", None)
    return _read_rows(reader, model, ids, names, read_kwargs.get("load", "_classic_read"))


def read(env: Env, model: str, ids: Any, fields: Any = None, load: Any = "_classic_read") -> list[Record]:
    """``read``: the values of existing records (missing ids are skipped, as in Odoo 18)."""
    check_model_access(env.user, model, "read")
    names = _field_names(env, model, fields)
    record_ids = _ids(ids)
    _check_visible(env, model, record_ids, "read")
    return _read_rows(env, model, record_ids, names, load)


def search_(
    env: Env, model: str, domain: Any = None, offset: Any = 0, limit: Any = None, order: Any = None
) -> list[int]:
    """``search``: matching ids."""
    check_model_access(env.user, model, "read")
    return _search_ids(env, model, domain, offset, limit, order)


def search_count(env: Env, model: str, domain: Any = None, limit: Any = None) -> int:
    """``search_count``: the number of matching records."""
    check_model_access(env.user, model, "read")
    count = len(search(env, model, domain if domain is not None else []))
    return min(count, int(limit)) if limit not in (None, False) else count


def name_search(
    env: Env, model: str, name: Any = "", args: Any = None, operator: Any = "ilike", limit: Any = 100
) -> list[list[Any]]:
    """``name_search``: ``[[id, display_name], ...]`` in the model's order."""
    check_model_access(env.user, model, "read")
    domain = list(args or [])
    if name or operator not in ("ilike", "like", "=ilike", "=like"):
        matched = name_ids(env, model, str(operator), name)
        domain = [("id", "in", sorted(matched)), *domain]
    ids = _search_ids(env, model, domain, 0, limit)
    return [[rid, env.display_name(model, rid)] for rid in ids]


def fields_get(env: Env, model: str, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
    """``fields_get``: the field descriptions the user may see, optionally filtered."""
    wanted = set(allfields) if allfields else None
    hidden = env.restricted(model)
    out: dict[str, Any] = {}
    for name, attrs in env.fields(model).items():
        if (wanted is not None and name not in wanted) or name in hidden:
            continue
        if attributes:
            out[name] = {key: attrs[key] for key in attributes if key in attrs}
        else:
            out[name] = dict(attrs)
    return out


def default_get(env: Env, model: str, fields_list: Any) -> dict[str, Any]:
    """``default_get``: the default values the sandbox knows for the requested fields."""
    defaults = _defaults(env, model)
    return {name: defaults[name] for name in fields_list or [] if name in defaults}


def exists(env: Env, model: str, ids: Any) -> list[int]:
    """``exists``: the given ids that are still records."""
    return [rid for rid in _ids(ids) if env.store.get(model, rid) is not None]


def check_access_rights(env: Env, model: str, operation: Any, raise_exception: Any = True) -> bool:
    """``check_access_rights``: whether the user's groups grant ``operation``."""
    try:
        check_model_access(env.user, model, str(operation))
    except RpcError:
        if raise_exception:
            raise
        return False
    return True


def has_group(env: Env, model: str, ids: Any, group_ext_id: Any) -> bool:
    """``res.users.has_group``: whether the (one) user is in the group, implied groups included."""
    check_model_access(env.user, model, "read")
    uids = _ids(ids)
    if len(uids) != 1:
        raise _value_error(f"Expected singleton: res.users{tuple(uids)!r}")
    if not isinstance(group_ext_id, str) or "." not in group_ext_id:
        raise _value_error(f"External ID must be fully qualified: {group_ext_id!r}")
    record = env.store.get("res.users", uids[0]) or {}
    user = next((u for u in SANDBOX_USERS if u.login == record.get("login")), None)  # same roles on 18 and 19
    if user is not None and group_ext_id in ROLE_GROUPS[user.role]:
        return True  # the addon's groups, as the sandbox's roles grant them
    return group_ext_id in env.store.dataset.user_groups.get(uids[0], frozenset())


def context_get(env: Env, model: str) -> dict[str, Any]:
    """``res.users.context_get``: language, time zone and uid of the user."""
    user = env.user_record()
    return {
        "lang": env.value("res.users", user, "lang") or "en_US",
        "tz": env.value("res.users", user, "tz"),
        "uid": env.user.uid,
    }


# --------------------------------------------------------------------------- read_group

_AGG_SPEC = re.compile(r"^(\w+)(?::(\w+)(?:\((\w+)\))?)?$")
_GRANULARITIES = ("hour", "day", "week", "month", "quarter", "year")


def _tz(env: Env) -> ZoneInfo | None:
    name = env.context.get("tz")
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _add_months(value: datetime, months: int) -> datetime:
    month = value.month - 1 + months
    year = value.year + month // 12
    month = month % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _truncate(value: datetime, granularity: str) -> tuple[datetime, datetime]:
    if granularity == "hour":
        start = value.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    start = value.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "day":
        return start, start + timedelta(days=1)
    if granularity == "week":  # en_US weeks start on Sunday
        start -= timedelta(days=(start.weekday() + 1) % 7)
        return start, start + timedelta(days=7)
    if granularity == "month":
        start = start.replace(day=1)
        return start, _add_months(start, 1)
    if granularity == "quarter":
        start = start.replace(day=1, month=(start.month - 1) // 3 * 3 + 1)
        return start, _add_months(start, 3)
    start = start.replace(day=1, month=1)
    return start, _add_months(start, 12)


def _week_label(start: datetime) -> str:
    year = (start + timedelta(days=6)).year
    jan1 = datetime(year, 1, 1)
    first = jan1 - timedelta(days=(jan1.weekday() + 1) % 7)
    return f"W{(start - first).days // 7 + 1} {year:04}"


def _date_label(start: datetime, granularity: str) -> str:
    if granularity == "hour":
        return f"{start.strftime('%I')}:00 {start.strftime('%d %b')}"
    if granularity == "day":
        return start.strftime("%d %b %Y")
    if granularity == "week":
        return _week_label(start)
    if granularity == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    if granularity == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start.year:04}"


class _GroupSpec:
    def __init__(self, env: Env, model: str, spec: str) -> None:
        name, _, granularity = spec.partition(":")
        attrs = env.field(model, name)
        if attrs is None:
            raise _invalid_field(model, name)
        self.spec = spec
        self.name = name
        self.attrs = attrs
        self.type = attrs.get("type", "char")
        self.temporal = self.type in ("date", "datetime")
        self.granularity = (granularity or "month") if self.temporal else None
        if self.temporal and self.granularity not in _GRANULARITIES:
            raise _value_error(f"Invalid date/time format {self.granularity!r}")
        self.tz = _tz(env) if self.type == "datetime" else None

    def keys(self, env: Env, model: str, rec: Record) -> list[Any]:
        value = env.value(model, rec, self.name)
        if self.type in X2MANY:
            return list(value) or [False]
        if is_null(value, self.type):
            return [False]
        if self.temporal and isinstance(value, str):
            parsed = datetime.strptime(value[:19], DATETIME_FMT if self.type == "datetime" else DATE_FMT)
            if self.tz is not None:
                parsed = parsed.replace(tzinfo=ZoneInfo("UTC")).astimezone(self.tz).replace(tzinfo=None)
            start, _ = _truncate(parsed, self.granularity or "month")
            return [start]
        return [value]

    def bounds(self, start: datetime) -> tuple[str, str]:
        begin, end = _truncate(start, self.granularity or "month")
        if self.type == "date":
            return begin.strftime(DATE_FMT), end.strftime(DATE_FMT)
        if self.tz is not None:
            begin = begin.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            end = end.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        return begin.strftime(DATETIME_FMT), end.strftime(DATETIME_FMT)


def _aggregates(env: Env, model: str, fields: Any, group_names: set[str]) -> list[tuple[str, str, str]]:
    """``(result key, function, field)`` for each aggregate asked for."""
    out = []
    for spec in fields or []:
        if spec == "__count":
            continue
        match = _AGG_SPEC.match(str(spec))
        if not match:
            raise _value_error(f"Invalid field specification {spec!r}.")
        key, func, fname = match.groups()
        source = fname or key
        attrs = env.field(model, source)
        if attrs is None:
            raise _invalid_field(model, source)
        if not func:
            if key in group_names or not attrs.get("store"):
                continue
            func = attrs.get("aggregator")
            if not func:
                continue
        out.append((key, func, source))
    return out


def _aggregate(values: list[Any], func: str, ftype: str) -> Any:
    present = [v for v in values if not is_null(v, ftype)]
    if func == "sum":
        total = sum(v for v in present if isinstance(v, int | float))
        return float(total) if ftype in ("float", "monetary") else total
    if func == "avg":
        nums = [v for v in present if isinstance(v, int | float)]
        return sum(nums) / len(nums) if nums else False
    if func in ("min", "max"):
        return (min if func == "min" else max)(present) if present else False
    if func == "count":
        return len(present)
    if func == "count_distinct":
        return len({repr(v) for v in present})
    if func == "bool_and":
        return all(values)
    if func == "bool_or":
        return any(values)
    if func == "array_agg":
        return values
    raise _value_error(f"Invalid aggregation function {func!r}.")


def read_group(
    env: Env,
    model: str,
    domain: Any,
    fields: Any,
    groupby: Any,
    offset: Any = 0,
    limit: Any = None,
    orderby: Any = False,
    lazy: Any = True,
) -> list[Record]:
    """``read_group`` (the web-client API kept in 18, deprecated in 19): groups, counts, aggregates, ``__domain``."""
    return _grouped(env, model, domain, fields, groupby, offset, limit, orderby, lazy)


def formatted_read_group(
    env: Env,
    model: str,
    domain: Any = None,
    groupby: Any = (),
    aggregates: Any = (),
    having: Any = (),
    offset: Any = 0,
    limit: Any = None,
    order: Any = None,
) -> list[Record]:
    """Odoo 19's ``formatted_read_group``: ``"<field>:<agg>"`` keys, ``__count`` and ``__extra_domain`` (the
    group's own condition)."""
    specs = [str(a) for a in aggregates or ()]
    fields = [a for a in specs if a != "__count"]
    rows = _grouped(env, model, domain, fields, list(groupby or ()), offset, limit, order, False, extra_only=True)
    out = []
    for row in rows:
        entry: Record = {g: row.get(g) for g in groupby or ()}
        entry["__extra_domain"] = row["__domain"]
        for spec in specs:
            entry[spec] = row.get("__count") if spec == "__count" else row.get(spec.partition(":")[0])
        out.append(entry)
    return out


def _grouped(
    env: Env,
    model: str,
    domain: Any,
    fields: Any,
    groupby: Any,
    offset: Any,
    limit: Any,
    orderby: Any,
    lazy: Any,
    *,
    extra_only: bool = False,
) -> list[Record]:
    check_model_access(env.user, model, "read")
    outer = list(domain or [])
    groupby_list = [groupby] if isinstance(groupby, str) else list(groupby or [])
    specs = [_GroupSpec(env, model, str(g)) for g in groupby_list]
    shown = specs[:1] if lazy else specs
    aggregates = _aggregates(env, model, fields, {s.spec for s in shown})
    ids = sort_ids(env, model, list(search(env, model, outer)), None)
    buckets: dict[tuple[Any, ...], list[Record]] = {}
    for rid in ids:
        rec = env.store.get(model, rid) or {"id": rid}
        combos: list[tuple[Any, ...]] = [()]
        for spec in shown:
            combos = [(*c, k) for c in combos for k in spec.keys(env, model, rec)]
        for combo in combos:
            buckets.setdefault(combo, []).append(rec)
    count_key = f"{shown[0].name}_count" if lazy and shown else "__count"
    if not shown and not buckets:
        buckets[()] = []  # an aggregate without groupby still answers one (empty) group
    groups = []
    for combo, recs in buckets.items():
        agg_values = {
            key: _aggregate([env.value(model, r, f) for r in recs], func, (env.field(model, f) or {}).get("type", ""))
            for key, func, f in aggregates
        }
        groups.append((combo, len(recs), agg_values))
    groups = _order_groups(env, model, groups, shown, orderby)
    start = int(offset or 0)
    groups = groups[start:]
    if limit not in (None, False):
        groups = groups[: int(limit)]
    folds: dict[Any, Any] | None = None
    if lazy and shown and (model, shown[0].name) in _GROUP_EXPAND:
        groups, folds = _expand_groups(env, shown[0], groups, aggregates)
    rows = []
    for combo, count, agg_values in groups:
        row: Record = {}
        group_domain: list[Any] = [] if extra_only else outer
        ranges: dict[str, Any] = {}
        for spec, key in zip(shown, combo, strict=True):
            if spec.type == "many2one" or (spec.type in X2MANY and key):
                row[spec.spec] = [key, env.display_name(spec.attrs["relation"], key)] if key else False
                extra: list[Any] = [(spec.name, "=", key)]
            elif spec.type in X2MANY:
                others = sorted({c[shown.index(spec)] for c, _, _ in groups if c[shown.index(spec)]})
                row[spec.spec] = False
                extra = [(spec.name, "not in", others)]
            elif spec.temporal and key:
                begin, end = spec.bounds(key)
                row[spec.spec] = _date_label(key, spec.granularity or "month")
                ranges[spec.spec] = {"from": begin, "to": end}
                extra = ["&", (spec.name, ">=", begin), (spec.name, "<", end)]
            else:
                row[spec.spec] = key
                if spec.temporal:
                    ranges[spec.spec] = False
                extra = [(spec.name, "=", key)]
            group_domain = and_domains([group_domain, extra])
        row[count_key] = count
        row.update(agg_values)
        if folds is not None:
            row["__fold"] = folds.get(combo[0], False)
        row["__domain"] = [list(t) if isinstance(t, tuple) else t for t in group_domain]
        if ranges:
            row["__range"] = ranges
        if lazy and len(specs) > 1:
            row["__context"] = {"group_by": groupby_list[1:]}
        rows.append(row)
    return rows


#: groupbys whose field has a ``group_expand`` (every group is returned, with ``__fold``)
_GROUP_EXPAND = frozenset({("helpdesk.ticket", "stage_id")})


def _expand_groups(
    env: Env,
    spec: _GroupSpec,
    groups: list[tuple[tuple[Any, ...], int, dict[str, Any]]],
    aggregates: list[tuple[str, str, str]],
) -> tuple[list[tuple[tuple[Any, ...], int, dict[str, Any]]], dict[Any, Any]]:
    """``_read_group_fill_results``: add the empty groups of a ``group_expand`` field, and their fold."""
    comodel = spec.attrs["relation"]
    all_ids = sort_ids(env, comodel, list(search(env, comodel, [])), None)
    existing = {g[0][0]: g for g in groups}
    empty = {key: 0 if func in ("count", "count_distinct") else [] if func == "array_agg" else False
             for key, func, _ in aggregates}  # fmt: skip
    result = [existing.get(cid) or ((cid,), 0, dict(empty)) for cid in all_ids]
    result += [g for g in groups if g[0][0] not in set(all_ids)]
    folds = {cid: bool((env.store.get(comodel, cid) or {}).get("fold")) for cid in all_ids}
    return result, folds


def _order_groups(
    env: Env,
    model: str,
    groups: list[tuple[tuple[Any, ...], int, dict[str, Any]]],
    shown: list[_GroupSpec],
    orderby: Any,
) -> list[tuple[tuple[Any, ...], int, dict[str, Any]]]:
    positions = {spec.name: i for i, spec in enumerate(shown)}
    positions.update({spec.spec: i for i, spec in enumerate(shown)})
    terms: list[tuple[str, bool, bool | None]] = []
    if isinstance(orderby, str) and orderby.strip():
        agg_keys = set().union(*(g[2].keys() for g in groups)) if groups else set()
        terms = _parse_order(
            model, orderby, lambda n: n in positions or n in agg_keys or n == "__count" or n in env.fields(model)
        )
        terms = [t for t in terms if t[0] in positions or t[0] in agg_keys or t[0] == "__count"]
    if not terms:
        terms = [(spec.name, False, None) for spec in shown]
    result = list(groups)
    for name, desc, nulls_first in reversed(terms):
        null_rank = _null_rank(desc, nulls_first)
        if name in positions:
            spec = shown[positions[name]]
            ranks = _comodel_ranks(env, spec.attrs["relation"], 0) if spec.attrs.get("relation") else {}

            def key(g: Any, i: int = positions[name], ranks: dict[int, int] = ranks, nr: int = null_rank) -> Any:
                value = g[0][i]
                if value is False or value is None:
                    return (nr, 0)
                if isinstance(value, int) and not isinstance(value, bool) and ranks:
                    return (0, ranks.get(value, value))
                return (0, _plain(value) if not isinstance(value, datetime) else value.isoformat())

        elif name == "__count":

            def key(g: Any, nr: int = null_rank) -> Any:
                return (0, g[1])

        else:

            def key(g: Any, name: str = name, nr: int = null_rank) -> Any:
                value = g[2].get(name)
                return (nr, 0) if value is None or value is False else (0, _plain(value))

        result.sort(key=key, reverse=desc)
    return result


# --------------------------------------------------------------------------- write side


def _now(env: Env) -> str:
    return env.now.strftime(DATETIME_FMT)


def _defaults(env: Env, model: str) -> dict[str, Any]:
    fields = env.fields(model)
    out: dict[str, Any] = {}
    if env.has_active(model):
        out["active"] = True
    if fields.get("sequence", {}).get("type") == "integer":
        out["sequence"] = 10
    if fields.get("company_id", {}).get("type") == "many2one":
        out["company_id"] = env.user_record().get("company_id") or 1
    state = fields.get("state")
    if state and state.get("type") == "selection" and state.get("selection"):
        out["state"] = state["selection"][0][0]
    return out


def _check_values(env: Env, model: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise RpcError("builtins.TypeError", f"Values must be a dict, got {type(values).__name__}")
    for name in values:
        if name not in env.fields(model) or name == "id":
            raise _invalid_field(model, name)
    return values


def _convert_scalar(env: Env, model: str, name: str, value: Any) -> Any:
    ftype = (env.field(model, name) or {}).get("type", "char")
    if ftype == "many2one":
        if isinstance(value, list | tuple):
            value = value[0] if value else False
        return value if isinstance(value, int) and not isinstance(value, bool) else False
    if value is None:
        return default_value(ftype)
    if ftype in ("float", "monetary") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _apply_x2many(
    env: Env, model: str, rid: int, name: str, commands: Any, current: list[int]
) -> tuple[list[int], list[tuple[str, Any]]]:
    """New id list of an x2many field, and the child operations to run after the parent is saved."""
    attrs = env.field(model, name) or {}
    inverse = attrs.get("relation_field") if attrs.get("type") == "one2many" else None
    ids = list(current)
    later: list[tuple[str, Any]] = []
    if isinstance(commands, list) and all(isinstance(c, int) and not isinstance(c, bool) for c in commands):
        commands = [[6, 0, commands]]
    for command in commands or []:
        if not isinstance(command, list | tuple) or not command:
            raise _value_error(f"Invalid command {command!r} for field {name!r}")
        code = command[0]
        if code == 0:
            later.append(("create", dict(command[2] or {})))
        elif code == 1:
            later.append(("write", (command[1], dict(command[2] or {}))))
        elif code == 2:
            later.append(("unlink", command[1]))
            ids = [i for i in ids if i != command[1]]
        elif code == 3:
            ids = [i for i in ids if i != command[1]]
            if inverse:
                later.append(("write", (command[1], {inverse: False})))
        elif code == 4:
            if command[1] not in ids:
                ids.append(command[1])
            if inverse:
                later.append(("write", (command[1], {inverse: rid})))
        elif code == 5:
            if inverse:
                later += [("write", (i, {inverse: False})) for i in ids]
            ids = []
        elif code == 6:
            new = [i for i in command[2] or [] if isinstance(i, int)]
            if inverse:
                later += [("write", (i, {inverse: False})) for i in ids if i not in new]
                later += [("write", (i, {inverse: rid})) for i in new]
            ids = new
        else:
            raise _value_error(f"Invalid command {command!r} for field {name!r}")
    return ids, later


def _save(env: Env, model: str, rid: int, values: dict[str, Any], *, creating: bool) -> None:
    store = env.store
    old = store.get(model, rid) or {}
    stored: dict[str, Any] = {}
    children: list[tuple[str, str, list[tuple[str, Any]]]] = []
    inherits = env.dataset.meta_for(model).inherits
    parent_values: dict[str, Any] = {}
    for name, value in values.items():
        attrs = env.field(model, name) or {}
        if inherits and name not in old and name in env.fields(inherits[0]) and not creating and name != inherits[1]:
            parent_values[name] = value
            continue
        if attrs.get("type") in X2MANY:
            current = [i for i in old.get(name) or [] if isinstance(i, int)]
            ids, later = _apply_x2many(env, model, rid, name, value, current)
            stored[name] = ids
            if later:
                children.append((name, attrs.get("relation", ""), later))
        else:
            stored[name] = _convert_scalar(env, model, name, value)
    when = env.store.tick(env.now).strftime(DATETIME_FMT)
    stamp = {"write_date": when, "write_uid": env.user.uid}
    if creating:
        stamp.update(create_date=when, create_uid=env.user.uid)
    for key, val in stamp.items():
        if key in env.fields(model) and key not in values:
            stored[key] = val
    new = {**old, **stored, "id": rid}
    store.put(model, new)
    _sync_inverses(env, model, old if not creating else {}, new)
    if parent_values and inherits:
        parent_id = new.get(inherits[1])
        if isinstance(parent_id, int) and store.get(inherits[0], parent_id) is not None:
            _save(env, inherits[0], parent_id, parent_values, creating=False)
    for name, comodel, operations in children:
        inverse = (env.field(model, name) or {}).get("relation_field")
        created: list[int] = []
        for op, payload in operations:
            if op == "create":
                vals = dict(payload)
                if inverse:
                    vals[inverse] = rid
                created.append(_create_one(env, comodel, vals))
            elif op == "write" and store.get(comodel, payload[0]) is not None:
                _save(env, comodel, payload[0], payload[1], creating=False)
            elif op == "unlink" and store.get(comodel, payload) is not None:
                _unlink_one(env, comodel, payload)
        if created and not inverse:
            current = store.get(model, rid) or {}
            store.update(model, rid, {name: [*(current.get(name) or []), *created]})


def _sync_inverses(env: Env, model: str, old: Record, new: Record | None) -> None:
    """Keep one2many lists in step when an inverse many2one changes."""
    store = env.store
    for (comodel, inverse), parents in env.dataset.inverses.items():
        if comodel != model:
            continue
        before = old.get(inverse) if old else False
        after = new.get(inverse) if new else False
        if before == after and new is not None and old:
            continue
        for parent_model, o2m, field_domain in parents:
            if inverse == "res_id":
                doc_model_old = (old.get("model") or old.get("res_model")) if old else None
                doc_model_new = (new.get("model") or new.get("res_model")) if new else None
            else:
                doc_model_old = doc_model_new = parent_model
            rid = (new or old)["id"]
            if doc_model_old == parent_model and isinstance(before, int) and before:
                parent = store.get(parent_model, before)
                if parent is not None and rid in (parent.get(o2m) or []):
                    store.update(parent_model, before, {o2m: [i for i in parent[o2m] if i != rid]})
            if doc_model_new == parent_model and isinstance(after, int) and after:
                parent = store.get(parent_model, after)
                if parent is None or rid in (parent.get(o2m) or []) or o2m not in parent:
                    continue
                if field_domain and rid not in search(
                    env, comodel, [("id", "=", rid), *field_domain], active_test=False
                ):
                    continue
                ids = [*(parent.get(o2m) or []), rid]
                store.update(parent_model, after, {o2m: sort_ids(env, comodel, ids, None)})


def _create_one(env: Env, model: str, vals: dict[str, Any]) -> int:
    _check_values(env, model, vals)
    values = {**_defaults(env, model), **vals}
    if model == DECISION_MODEL and not in_workflow(env):
        raise model_access_error(model, "create")
    if model == APPROVAL_MODEL:
        values = prepare_approval_create(env, vals, values)
        for name, attrs in env.fields(model).items():
            if attrs.get("required") and attrs.get("store") and values.get(name) in (None, False, ""):
                raise RpcError(
                    "odoo.exceptions.ValidationError",
                    "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
                    "- Delete: another model requires the record being deleted. If possible, archive it instead."
                    f"\n\nModel: {env.dataset.meta_for(model).description} ({model})"
                    f"\nField: {attrs.get('string')} ({name})\n",
                )
    rid = env.store.next_id(model)
    env.store.put(model, {"id": rid})
    _save(env, model, rid, values, creating=True)
    if model == APPROVAL_MODEL:
        after_approval_create(workflow_env(env), rid, values, _create_one)
    return rid


def _unlink_one(env: Env, model: str, rid: int) -> None:
    store = env.store
    old = store.get(model, rid)
    if old is None:
        return
    store.delete(model, rid)
    _sync_inverses(env, model, old, None)
    for other, fields in env.dataset.fields.items():
        for fname, attrs in fields.items():
            if attrs.get("relation") != model or attrs.get("type") not in ("many2one", *X2MANY):
                continue
            for rec in list(store.iter_records(other)):
                value = rec.get(fname)
                if attrs["type"] == "many2one" and value == rid:
                    store.update(other, rec["id"], {fname: False})
                elif attrs["type"] in X2MANY and isinstance(value, list) and rid in value:
                    store.update(other, rec["id"], {fname: [i for i in value if i != rid]})


def create(env: Env, model: str, vals_list: Any) -> Any:
    """``create``: one id for a dict, a list of ids for a list of dicts."""
    if not in_workflow(env):  # the buttons write in superuser mode (no access rights), as in the addon
        check_model_access(env.user, model, "create")
    if isinstance(vals_list, dict):
        return _create_one(env, model, vals_list)
    if not isinstance(vals_list, list):
        raise RpcError("builtins.TypeError", f"create() expects a dict or a list of dicts, got {vals_list!r}")
    return [_create_one(env, model, vals) for vals in vals_list]


def write(env: Env, model: str, ids: Any, vals: Any) -> bool:
    """``write``: change the records (in this server's memory only)."""
    if not in_workflow(env):  # the buttons write in superuser mode (no access rights), as in the addon
        check_model_access(env.user, model, "write")
    record_ids = _ids(ids)
    _check_values(env, model, vals)
    _check_exist(env, model, record_ids)
    _check_visible(env, model, record_ids, "write")
    if model == APPROVAL_MODEL:
        check_approval_write(env, record_ids, vals)
    if model == DECISION_MODEL:
        raise model_access_error(model, "write")
    for rid in dict.fromkeys(record_ids):
        _save(env, model, rid, dict(vals), creating=False)
    if model == "purchase.order.line" and "date_planned" in vals:
        _recompute_po_date_planned(env, record_ids)
    return True


def _recompute_po_date_planned(env: Env, line_ids: list[int]) -> None:
    """purchase.order.date_planned is stored-computed in Odoo: the earliest date of its lines."""
    orders = {(env.store.get("purchase.order.line", i) or {}).get("order_id") for i in line_ids}
    for order_id in orders:
        order = env.store.get("purchase.order", order_id)
        if order is None:
            continue
        dates = [
            line["date_planned"]
            for i in order.get("order_line") or []
            if (line := env.store.get("purchase.order.line", i))
            and not line.get("display_type")
            and line.get("date_planned")
        ]
        if dates:
            env.store.update("purchase.order", order_id, {"date_planned": min(dates)})


def unlink(env: Env, model: str, ids: Any) -> bool:
    """``unlink``: delete the records (in this server's memory only)."""
    check_model_access(env.user, model, "unlink")
    if model in (APPROVAL_MODEL, DECISION_MODEL) and not env.user.is_admin:
        raise model_access_error(model, "unlink")
    record_ids = _ids(ids)
    _check_exist(env, model, record_ids)
    _check_visible(env, model, record_ids, "unlink")
    if model == APPROVAL_MODEL:
        check_approval_unlink(env, record_ids)
    for rid in dict.fromkeys(record_ids):
        _unlink_one(env, model, rid)
    return True


def action_archive(env: Env, model: str, ids: Any) -> bool:
    """``action_archive``: set ``active`` to False."""
    if not env.has_active(model):
        raise RpcError("odoo.exceptions.UserError", f"{model} has no 'active' field")
    return write(env, model, ids, {"active": False})


def action_unarchive(env: Env, model: str, ids: Any) -> bool:
    """``action_unarchive``: set ``active`` to True."""
    if not env.has_active(model):
        raise RpcError("odoo.exceptions.UserError", f"{model} has no 'active' field")
    return write(env, model, ids, {"active": True})


def message_post(
    env: Env,
    model: str,
    ids: Any,
    body: Any = "",
    subject: Any = None,
    message_type: Any = "notification",
    subtype_xmlid: Any = None,
    author_id: Any = None,
    email_from: Any = None,
    date: Any = None,
    message_id: Any = None,
    body_is_html: Any = False,
    partner_ids: Any = None,
    **kwargs: Any,
) -> int:
    """``message_post``: add a message to the record's chatter."""
    record_ids = _ids(ids)
    if len(record_ids) != 1:
        raise _value_error(f"Expected singleton: {model}{tuple(record_ids)!r}")
    check_model_access(env.user, model, "read")
    if not _may_write(env.user, model):
        raise model_access_error(model, "write")
    _check_exist(env, model, record_ids)
    doc = env.store.get(model, record_ids[0]) or {}
    user = env.user_record()
    partner = env.store.get("res.partner", user.get("partner_id")) or {}
    text = str(body or "")
    subtypes = {"mail.mt_comment": 1, "mail.mt_note": 2}
    vals = {
        "body": text if body_is_html else f"<p>{html.escape(text)}</p>" if text else "",
        "subject": subject or False,
        "message_type": message_type or "notification",
        "subtype_id": subtypes.get(str(subtype_xmlid), False),
        "author_id": author_id or user.get("partner_id") or False,
        "email_from": email_from
        or (f'"{partner.get("name")}" <{partner.get("email")}>' if partner.get("email") else False),
        "date": date or _now(env),
        "message_id": message_id or False,
        "model": model,
        "res_id": record_ids[0],
        "record_name": env.display_name(model, record_ids[0], doc),
        "partner_ids": [i for i in partner_ids or [] if isinstance(i, int)],
    }
    vals = {k: v for k, v in vals.items() if k in env.fields("mail.message")}
    return _create_one(env, "mail.message", vals)


def _may_write(user: SandboxUser, model: str) -> bool:
    try:
        check_model_access(user, model, "write")
    except RpcError:
        return False
    return True


# --------------------------------------------------------------------------- dispatch

_MODEL_API: dict[str, Callable[..., Any]] = {
    "search_read": search_read,
    "search": search_,
    "search_count": search_count,
    "name_search": name_search,
    "fields_get": fields_get,
    "read_group": read_group,
    "formatted_read_group": formatted_read_group,
    "default_get": default_get,
    "check_access_rights": check_access_rights,
    "create": create,
}
_MULTI_API: dict[str, Callable[..., Any]] = {
    "read": read,
    "write": write,
    "unlink": unlink,
    "exists": exists,
    "action_archive": action_archive,
    "action_unarchive": action_unarchive,
}
#: public methods that exist in Odoo but that the sandbox does not run
_NOT_EMULATED_BASE = frozenset(
    {
        "copy",
        "name_create",
        "web_read",
        "web_search_read",
        "web_read_group",
        "onchange",
        "get_views",
        "export_data",
        "load",
        "toggle_active",
        "search_fetch",
        "get_metadata",
        "browse",
        "has_access",
        "check_access",
        "flush_model",
        "invalidate_model",
        "fetch",
        "web_save",
        "formatted_read_group",
    }
)
_WORKFLOW: dict[str, frozenset[str]] = {
    "purchase.order": frozenset(
        {
            "button_confirm",
            "button_approve",
            "button_cancel",
            "button_draft",
            "button_done",
            "button_unlock",
            "button_lock",
            "action_rfq_send",
            "print_quotation",
            "action_create_invoice",
            "action_view_picking",
            "action_view_invoice",
            "action_acknowledge",
        }
    ),
    "sale.order": frozenset(
        {
            "action_confirm",
            "action_cancel",
            "action_draft",
            "action_quotation_send",
            "action_lock",
            "action_unlock",
            "action_view_delivery",
            "action_view_invoice",
            "action_preview_sale_order",
        }
    ),
    "stock.picking": frozenset(
        {
            "button_validate",
            "action_assign",
            "action_cancel",
            "do_unreserve",
            "action_confirm",
            "action_set_quantities_to_reservation",
        }
    ),
    "account.move": frozenset({"action_post", "button_draft", "button_cancel", "action_invoice_sent"}),
    "helpdesk.ticket": frozenset({"assign_to_me"}),
    "mail.activity": frozenset({"action_done", "action_feedback", "action_feedback_schedule_next"}),
}
_MAIL_THREAD_NOT_EMULATED = frozenset(
    {
        "message_subscribe",
        "message_unsubscribe",
        "activity_schedule",
        "message_post_with_source",
    }
)


def _lookup(env: Env, model: str, method: str) -> tuple[Callable[..., Any], bool] | None:
    if method in _MODEL_API:
        return _MODEL_API[method], False
    if method in _MULTI_API:
        return _MULTI_API[method], True
    if model == "res.users" and method == "context_get":
        return context_get, False
    if model == "res.users" and method == "has_group":
        return has_group, True
    if model == APPROVAL_MODEL and method in APPROVAL_METHODS:
        return getattr(_WORKFLOW_METHODS, method), True
    if model == EXCEPTION_MODEL and method in EXCEPTION_METHODS:
        return getattr(_EXCEPTION_METHODS, method), EXCEPTION_METHODS[method]
    mail_thread = "message_ids" in env.fields(model)
    if mail_thread and method == "message_post":
        return message_post, True
    if (
        method in _NOT_EMULATED_BASE
        or method in _WORKFLOW.get(model, frozenset())
        or (mail_thread and method in _MAIL_THREAD_NOT_EMULATED)
    ):

        def not_emulated(env: Env, model: str, *args: Any, **kwargs: Any) -> Any:
            if method not in _NOT_EMULATED_BASE:
                check_model_access(env.user, model, "write")
            raise RpcError(
                "odoo.exceptions.UserError",
                f"The Odoo sandbox does not emulate {model}.{method}(); run it against a real Odoo.",
            )

        return not_emulated, False
    return None


_PUBLIC_NAMES = {"search_": "search"}
#: Methods that never write: they run without taking the kept writes' file lock.
READ_ONLY_METHODS = frozenset(
    {
        "search_read", "search", "search_count", "name_search", "fields_get", "read_group", "default_get",
        "check_access_rights", "read", "exists", "context_get", "formatted_read_group", "has_group",
    }
)  # fmt: skip
_WORKFLOW_METHODS = Workflow(write, _create_one)
_EXCEPTION_METHODS = ExceptionMethods(write, create, workflow_env)


def execute_kw(store: Store, user: SandboxUser, now: datetime, model: str, method: str, args: Any, kwargs: Any) -> Any:
    """Run ``model.method(*args, **kwargs)`` as ``user`` (``odoo.service.model.execute_kw``)."""
    if not isinstance(method, str) or method.startswith("_"):
        raise RpcError(
            "odoo.exceptions.AccessError", f"Private methods (such as '{model}.{method}') cannot be called remotely."
        )
    if not isinstance(model, str) or not store.dataset.has_model(model):
        raise RpcError("odoo.exceptions.UserError", f"Object {model} doesn't exist")
    args = list(args) if isinstance(args, list | tuple) else []
    kwargs = dict(kwargs) if isinstance(kwargs, dict) else {}
    context = kwargs.pop("context", None)
    env = Env(store, user, context if isinstance(context, dict) else {}, now)
    found = _lookup(env, model, method)
    if found is None:
        raise RpcError("builtins.AttributeError", f"The method '{model}.{method}' does not exist")
    func, multi = found
    if multi and not args:
        raise RpcError("builtins.IndexError", "list index out of range")
    call_args = (env, model, *args)
    try:
        inspect.signature(func).bind(*call_args, **kwargs)
    except TypeError as exc:
        name = _PUBLIC_NAMES.get(func.__name__, func.__name__)
        raise RpcError("builtins.TypeError", f"BaseModel.{name}() {exc}") from None
    with store.transaction(write=method not in READ_ONLY_METHODS):
        return func(*call_args, **kwargs)
