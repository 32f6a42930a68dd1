"""Odoo domains: normalization (as ``odoo.osv.expression``) and evaluation over the store."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from odoo_sandbox._env import X2MANY, Env, is_null
from odoo_sandbox._security import RpcError

__all__ = ["FALSE_LEAF", "TRUE_LEAF", "and_domains", "name_ids", "normalize_domain", "search"]

TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)
_DOMAIN_OPERATORS = ("!", "&", "|")
_TERM_OPERATORS = (
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
    "any",
    "not any",
)
_NEGATION = {
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "not in": "in",
    "like": "not like",
    "not like": "like",
    "ilike": "not ilike",
    "not ilike": "ilike",
    "any": "not any",
    "not any": "any",
}
_NEGATIVE = ("!=", "not like", "not ilike", "not in")
_EXTERNAL_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer"},
    "name": {"type": "char"},
    "display_name": {"type": "char"},
}


def _value_error(message: str) -> RpcError:
    return RpcError("builtins.ValueError", message)


def _is_leaf(item: Any) -> bool:
    return isinstance(item, list | tuple)


def normalize_domain(domain: Any) -> list[Any]:
    """Make implicit '&' explicit; leaves become tuples (``expression.normalize_domain``)."""
    if not isinstance(domain, list | tuple):
        raise _value_error(f"Invalid domain {domain!r}: a domain must be a list")
    if not domain:
        return [TRUE_LEAF]
    result: list[Any] = []
    expected = 1
    arity = {"!": 1, "&": 2, "|": 2}
    for item in domain:
        if expected == 0:
            result[0:0] = ["&"]
            expected = 1
        if _is_leaf(item):
            expected -= 1
            item = tuple(item)
        else:
            if item not in _DOMAIN_OPERATORS:
                raise _value_error(f"Invalid leaf {item}")
            expected += arity[item] - 1
        result.append(item)
    if expected:
        raise _value_error(f"Domain {list(domain)} is syntactically not correct.")
    return result


def and_domains(domains: Iterable[list[Any]]) -> list[Any]:
    """``expression.AND``: combine domains with '&', skipping empty ones."""
    unit = [TRUE_LEAF]
    result: list[Any] = []
    count = 0
    domains = list(domains)
    if domains == [unit]:
        return unit
    for domain in domains:
        if domain == unit:
            continue
        if domain == [FALSE_LEAF]:
            return [FALSE_LEAF]
        if domain:
            result += normalize_domain(domain)
            count += 1
    return ["&"] * (count - 1) + result or unit


def _check_leaf(leaf: tuple[Any, ...]) -> tuple[Any, str, Any]:
    if leaf in (TRUE_LEAF, FALSE_LEAF):
        return leaf[0], leaf[1], leaf[2]
    if len(leaf) != 3 or not isinstance(leaf[0], str) or not leaf[0] or not isinstance(leaf[1], str):
        raise _value_error(f"Invalid leaf {leaf}")
    left, operator, right = leaf
    operator = operator.lower()
    if operator == "<>":
        operator = "!="
    if operator not in _TERM_OPERATORS:
        raise _value_error(f"Invalid leaf {leaf}")
    if isinstance(right, bool) and operator in ("in", "not in"):
        operator = "=" if operator == "in" else "!="
    if isinstance(right, list | tuple) and operator in ("=", "!="):
        operator = "in" if operator == "=" else "not in"
    return left, operator, right


def _fields_of(env: Env, model: str) -> dict[str, dict[str, Any]]:
    if env.dataset.has_model(model):
        return env.fields(model)
    return _EXTERNAL_FIELDS


def _anyfy(env: Env, model: str, domain: list[Any]) -> list[Any]:
    """Check field names and turn ``a.b`` paths on relational fields into ``any`` leaves."""
    out: list[Any] = []
    for item in domain:
        if not _is_leaf(item):
            out.append(item)
            continue
        left, operator, right = _check_leaf(item)
        if (left, operator, right) in (TRUE_LEAF, FALSE_LEAF):
            out.append((left, operator, right))
            continue
        path = left.split(".", 1)
        fields = _fields_of(env, model)
        attrs = fields.get(path[0])
        if attrs is None:
            if not env.dataset.has_model(model):
                raise RpcError(
                    "odoo.exceptions.UserError",
                    f"The Odoo sandbox holds no records of {model}: only id, name and display_name "
                    f"can be searched there (leaf {item!r}).",
                )
            raise _value_error(f"Invalid field {model}.{path[0]} in leaf {tuple(item)}")
        if len(path) > 1:
            if attrs.get("type") not in ("many2one", *X2MANY):
                raise _value_error(f"Invalid leaf {tuple(item)}: {left} should be a valid path")
            sub = _anyfy(env, attrs["relation"], [(path[1], operator, right)])
            out.append((path[0], "any", sub))
        elif operator in ("any", "not any"):
            if attrs.get("type") not in ("many2one", *X2MANY):
                raise _value_error(f"Invalid leaf {tuple(item)}: any/not any only on relational fields")
            out.append((left, operator, _anyfy(env, attrs["relation"], normalize_domain(right or []))))
        else:
            out.append((left, operator, right))
    return out


def _distribute_not(domain: list[Any]) -> list[Any]:
    """Push '!' into the leaves, as Odoo does before compiling a domain."""
    result: list[Any] = []
    stack = [False]
    for item in domain:
        negate = stack.pop()
        if _is_leaf(item):
            if not negate:
                result.append(item)
            elif item in (TRUE_LEAF, FALSE_LEAF):
                result.append(FALSE_LEAF if item == TRUE_LEAF else TRUE_LEAF)
            elif item[1] in _NEGATION:
                result.append((item[0], _NEGATION[item[1]], item[2]))
            else:
                result += ["!", item]
        elif item == "!":
            stack.append(not negate)
        else:
            result.append(({"&": "|", "|": "&"}[item]) if negate else item)
            stack += [negate, negate]
    return result


# --------------------------------------------------------------------------- evaluation


class _View:
    """The records a search runs over: the store's, or labels for models outside the dataset."""

    def __init__(self, env: Env, model: str) -> None:
        self.env = env
        self.model = model
        self.external = not env.dataset.has_model(model)
        self.fields = _fields_of(env, model)

    def ids(self) -> list[int]:
        if self.external:
            return sorted(self.env.dataset.names.get(self.model, {}))
        store = self.env.store
        return [rid for rid in store.ids(self.model) if self.env.visible(self.model, store.get(self.model, rid) or {})]

    def record(self, rid: int) -> dict[str, Any]:
        if self.external:
            label = self.env.dataset.names.get(self.model, {}).get(rid, False)
            return {"id": rid, "name": label, "display_name": label}
        return self.env.store.get(self.model, rid) or {"id": rid}

    def value(self, rid: int, fname: str) -> Any:
        rec = self.record(rid)
        if self.external:
            return rec.get(fname, False)
        return self.env.value(self.model, rec, fname)


def search(env: Env, model: str, domain: Any, *, active_test: bool | None = None) -> set[int]:
    """The ids of ``model`` matching ``domain`` that the user may see."""
    domain = list(domain or []) if isinstance(domain, list | tuple) else domain
    if active_test is None:
        active_test = env.active_test
    view = _View(env, model)
    if (
        active_test
        and not view.external
        and env.has_active(model)
        and not any(_is_leaf(t) and t and t[0] == "active" for t in domain)
    ):
        domain = [("active", "=", True), *domain]
    prepared = _distribute_not(_anyfy(env, model, normalize_domain(domain)))
    universe = set(view.ids())
    result, _ = _eval(env, view, prepared, 0, universe)
    return result


def _eval(env: Env, view: _View, tokens: list[Any], pos: int, universe: set[int]) -> tuple[set[int], int]:
    item = tokens[pos]
    if item == "&":
        left, pos = _eval(env, view, tokens, pos + 1, universe)
        right, pos = _eval(env, view, tokens, pos, universe)
        return left & right, pos
    if item == "|":
        left, pos = _eval(env, view, tokens, pos + 1, universe)
        right, pos = _eval(env, view, tokens, pos, universe)
        return left | right, pos
    if item == "!":
        inner, pos = _eval(env, view, tokens, pos + 1, universe)
        return universe - inner, pos
    return _leaf(env, view, item, universe), pos + 1


def _leaf(env: Env, view: _View, leaf: tuple[Any, str, Any], universe: set[int]) -> set[int]:
    if leaf == TRUE_LEAF:
        return set(universe)
    if leaf == FALSE_LEAF:
        return set()
    left, operator, right = leaf
    searcher = _SEARCH_ONLY.get((view.model, left))
    if searcher is not None and operator in ("=", "!=") and isinstance(right, bool):
        found = searcher(env, view, universe)
        return found if (operator == "=") == right else universe - found
    attrs = view.fields[left]
    ftype = attrs.get("type", "char")
    if operator in ("any", "not any"):
        return _any(env, view, universe, left, attrs, right, negate=operator == "not any")
    if operator in ("child_of", "parent_of"):
        return _hierarchy(env, view, universe, leaf, attrs)
    if operator == "=?":
        if right is None or right is False:
            return set(universe)
        operator = "in" if isinstance(right, list | tuple) else "="
    if ftype == "many2one" or (ftype in X2MANY):
        return _relational(env, view, universe, left, operator, right, attrs)
    if ftype in ("date", "datetime"):
        right = _temporal(right, ftype)
    return {rid for rid in universe if _match_scalar(view.value(rid, left), operator, right, ftype)}


def _late_purchase_orders(env: Env, view: _View, universe: set[int]) -> set[int]:
    """Odoo 19's search-only ``purchase.order.is_late``: confirmed, expected arrival past, a line not received."""
    now = env.now.strftime("%Y-%m-%d %H:%M:%S")
    late = set()
    for rid in universe:
        order = view.record(rid)
        if order.get("state") != "purchase" or not order.get("date_planned") or order["date_planned"] >= now:
            continue
        lines = [env.store.get("purchase.order.line", lid) or {} for lid in order.get("order_line") or []]
        if any(
            not ln.get("display_type") and (ln.get("qty_received") or 0) < (ln.get("product_qty") or 0) for ln in lines
        ):
            late.add(rid)
    return late


#: search-only fields (no stored value; a search method): (model, field) -> the ids matching ``= True``
_SEARCH_ONLY: dict[tuple[str, str], Callable[[Env, _View, set[int]], set[int]]] = {
    ("purchase.order", "is_late"): _late_purchase_orders,
}


def _temporal(right: Any, ftype: str) -> Any:
    """Bring a date/datetime operand to the stored string form (as PostgreSQL would cast it)."""
    if isinstance(right, list | tuple):
        return [_temporal(v, ftype) for v in right]
    if not isinstance(right, str) or len(right) < 10:
        return right
    text = right.strip().replace("T", " ", 1).removesuffix("Z")
    if ftype == "date":
        return text[:10]
    if len(text) == 10:
        return f"{text} 00:00:00"
    return text[:19]


def _sub_active_test(env: Env, attrs: dict[str, Any]) -> bool:
    context = attrs.get("context") if isinstance(attrs.get("context"), dict) else {}
    return bool(context.get("active_test", env.active_test))


def _any(
    env: Env,
    view: _View,
    universe: set[int],
    fname: str,
    attrs: dict[str, Any],
    subdomain: list[Any],
    *,
    negate: bool,
) -> set[int]:
    comodel = attrs["relation"]
    if attrs["type"] == "many2one":
        sub = search(env, comodel, subdomain, active_test=False)
        matched = {rid for rid in universe if view.value(rid, fname) in sub}
    else:
        sub = search(env, comodel, subdomain, active_test=_sub_active_test(env, attrs))
        matched = {rid for rid in universe if any(i in sub for i in view.value(rid, fname) or [])}
    return universe - matched if negate else matched


def name_ids(env: Env, model: str, operator: str, value: Any, *, active_test: bool | None = None) -> set[int]:
    """Ids whose name matches (``_name_search`` over the model's ``_rec_names_search``)."""
    meta = env.dataset.meta_for(model)
    fields = _fields_of(env, model)
    names = [f for f in meta.rec_names_search if f.split(".")[0] in fields]
    if not names:
        names = [meta.rec_name] if meta.rec_name in fields else ["display_name"]
    leaves: list[Any] = [(f, operator, value) for f in names]
    glue = "&" if operator in _NEGATIVE else "|"
    domain = [glue] * (len(leaves) - 1) + leaves
    return search(env, model, domain, active_test=active_test)


def _names_to_ids(env: Env, comodel: str, operator: str, right: Any) -> set[int]:
    values = right if isinstance(right, list | tuple) else [right]
    positive = _NEGATION[operator] if operator in _NEGATIVE else operator
    if positive == "in":
        positive = "="
    out: set[int] = set()
    for value in values:
        if isinstance(value, str):
            out |= name_ids(env, comodel, positive, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.add(value)
    return out


def _relational(
    env: Env, view: _View, universe: set[int], fname: str, operator: str, right: Any, attrs: dict[str, Any]
) -> set[int]:
    ftype = attrs["type"]
    comodel = attrs["relation"]
    values = right if isinstance(right, list | tuple) else [right]
    by_name = any(isinstance(v, str) for v in values) or operator in (
        "like",
        "ilike",
        "not like",
        "not ilike",
        "=like",
        "=ilike",
    )
    negative = operator in _NEGATIVE
    if by_name:
        targets = _names_to_ids(env, comodel, operator, [str(v) if not isinstance(v, str) else v for v in values])
        match_false = False
    else:
        targets = {v for v in values if isinstance(v, int) and not isinstance(v, bool)}
        match_false = any(v is False or v is None for v in values)

    def hit(rid: int) -> bool:
        value = view.value(rid, fname)
        if ftype == "many2one":
            if operator in ("<", "<=", ">", ">="):
                return bool(value) and _compare(value, operator, right)
            if not value:
                return match_false if not negative else not match_false
            return (value in targets) != negative
        ids = [i for i in value or [] if isinstance(i, int)]
        if not ids:
            return match_false if not negative else not match_false
        return any(i in targets for i in ids) != negative

    return {rid for rid in universe if hit(rid)}


def _to_ids(env: Env, model: str, right: Any) -> list[int]:
    values = right if isinstance(right, list | tuple) else [right]
    out: list[int] = []
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            out.append(value)
        elif isinstance(value, str):
            out += sorted(name_ids(env, model, "ilike", value))
    return out


def _hierarchy(
    env: Env, view: _View, universe: set[int], leaf: tuple[Any, str, Any], attrs: dict[str, Any]
) -> set[int]:
    left, operator, right = leaf
    if left == "id":
        target, parent, on_id = view.model, env.dataset.meta_for(view.model).parent_name, True
    elif attrs.get("type") in ("many2one", *X2MANY) and attrs.get("relation") == view.model:
        target, parent, on_id = view.model, left, True
    elif attrs.get("type") in ("many2one", *X2MANY):
        target = attrs["relation"]
        parent, on_id = env.dataset.meta_for(target).parent_name, False
    else:
        raise _value_error(f"Invalid leaf {leaf}: {operator} needs a relational field or 'id'")
    start = set(_to_ids(env, target, right))
    closure = set(start)
    fields = env.fields(target)
    if parent and parent in fields:
        records = list(env.store.iter_records(target))
        if operator == "child_of":
            frontier = set(start)
            while frontier:
                nxt = {r["id"] for r in records if r.get(parent) in frontier and r["id"] not in closure}
                closure |= nxt
                frontier = nxt
        else:
            frontier = set(start)
            while frontier:
                nxt = set()
                for rid in frontier:
                    rec = env.store.get(target, rid) or {}
                    up = rec.get(parent)
                    if isinstance(up, int) and not isinstance(up, bool) and up and up not in closure:
                        nxt.add(up)
                closure |= nxt
                frontier = nxt
    if on_id:
        return universe & closure
    matched = set()
    for rid in universe:
        value = view.value(rid, left)
        ids = value if isinstance(value, list) else [value]
        if any(i in closure for i in ids):
            matched.add(rid)
    return matched


# --------------------------------------------------------------------------- scalar comparisons


@lru_cache(maxsize=512)
def _like_regex(pattern: str, insensitive: bool) -> re.Pattern[str]:
    out = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if insensitive else 0))


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return None


def _eq(value: Any, right: Any) -> bool:
    left_num, right_num = _number(value), _number(right)
    if left_num is not None and right_num is not None:
        return left_num == right_num
    return bool(value == right)


def _compare(value: Any, operator: str, right: Any) -> bool:
    left_num, right_num = _number(value), _number(right)
    if left_num is not None and right_num is not None:
        a: Any = left_num
        b: Any = right_num
    elif isinstance(value, str) and isinstance(right, str):
        a, b = value, right
    else:
        return False
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }
    return ops[operator](a, b)


def _match_scalar(value: Any, operator: str, right: Any, ftype: str) -> bool:
    null = is_null(value, ftype)
    if operator in ("=", "!="):
        if right is False or right is None:
            hit = (not value) if ftype == "boolean" else null
        elif ftype == "boolean":
            hit = bool(value) == bool(right)
        else:
            hit = not null and _eq(value, right)
        return hit if operator == "=" else not hit
    if operator in ("<", "<=", ">", ">="):
        if null or right is False or right is None:
            return False
        return _compare(value, operator, right)
    if operator in ("in", "not in"):
        values = list(right) if isinstance(right, list | tuple) else [right]
        if ftype == "boolean":
            hit = any(bool(value) == bool(v) for v in values if v is not None) or (value is None and None in values)
        elif null:
            hit = any(v is False or v is None for v in values)
        else:
            hit = any(_eq(value, v) for v in values if v is not False and v is not None)
        return hit if operator == "in" else not hit
    if operator in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        positive = operator.removeprefix("not ")
        if null:
            return positive != operator
        text = value if isinstance(value, str) else str(value)
        pattern = "" if right is False or right is None else str(right)
        if positive in ("like", "ilike"):
            pattern = f"%{pattern}%"
        hit = bool(_like_regex(pattern, positive.endswith("ilike")).fullmatch(text))
        return hit if positive == operator else not hit
    raise _value_error(f"Invalid operator {operator!r}")
