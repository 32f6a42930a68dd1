#!/usr/bin/env python3
"""Regenerate ``odoo_sandbox/data/`` from the recorded Odoo reference (``../shared/odoo-reference``).

Data reshaping only, deterministic (same input, byte-identical output):

* ``fields.json``  per model, the full ``fields_get`` attribute shape. Where a transcript holds the
  copilot's unfiltered ``fields_get`` it is kept verbatim; the admin-only fields of ``models/`` are
  added (and listed as ``restricted``); other models are synthesized from ``models/`` with the
  attribute keys and defaults that the recorded responses use for each field type.
* ``records.json`` every recorded record, many2one values reduced to the id (labels move to
  ``names.json``); ``res.users`` records also carry the non-stored values a full read returns
  (exactly as transcript 01 shows for the copilot, derived for the other users).
* ``names.json``   display names that the sandbox's rules cannot compute: records of models that
  are not in the dataset (currencies, journals, ...) and the few recorded labels that differ.
* ``meta.json``    recorded-at time, database name, ``version_info``.

Usage: ``python scripts/build_sandbox_data.py [--reference PATH] [--out DIR] [--check]``
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from odoo_sandbox._meta import compute_display_name  # noqa: E402

Json = Any
Record = dict[str, Any]

DEFAULT_REFERENCE = REPO.parent / "shared" / "odoo-reference"
DEFAULT_OUT = REPO / "odoo_sandbox" / "data"
APPROVAL_MODEL = "copilot.approval.request"
RELATIONAL = ("many2one", "one2many", "many2many")
#: hierarchical comodels: relational fields pointing at them accept child_of/parent_of
HIERARCHY_MODELS = {
    "res.partner",
    "product.category",
    "stock.location",
    "res.company",
    "helpdesk.ticket.category",
    "helpdesk.ticket.team",
    "account.account",
    "account.analytic.account",
    "project.task",
}
#: comodels whose one2many lists are keyed on the generic (res_model, res_id) pair
GENERIC_INVERSE = {
    "mail.message": "res_id",
    "mail.activity": "res_id",
    "mail.followers": "res_id",
    "rating.rating": "res_id",
    "ir.attachment": "res_id",
}
COUNTRY_CODES = {"United States": "US", "Belgium": "BE", "France": "FR", "Canada": "CA"}


def _load(path: Path) -> Json:
    return json.loads(path.read_text(encoding="utf-8"))


def _dump(path: Path, data: Json) -> int:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


# --------------------------------------------------------------------------- transcripts


def transcript_fields_get(ref: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Unfiltered ``fields_get`` responses recorded for the copilot, per model."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted((ref / "transcripts").glob("[0-9]*.json")):
        for exchange in _load(path):
            params = exchange["request_json"].get("params", {})
            args = params.get("args") or []
            if (
                params.get("service") == "object"
                and params.get("method") == "execute"
                and args[4:5] == ["fields_get"]
                and len(args) == 5
            ):
                result = exchange["response_json"]["result"]
                if args[3] in out and out[args[3]] != result:
                    raise SystemExit(f"two different fields_get answers for {args[3]}")
                out[args[3]] = result
    return out


def transcript_user_read(ref: Path) -> dict[int, Record]:
    """Full reads of ``res.users`` recorded in the transcripts (the copilot's own user)."""
    out: dict[int, Record] = {}
    for path in sorted((ref / "transcripts").glob("[0-9]*.json")):
        for exchange in _load(path):
            args = exchange["request_json"].get("params", {}).get("args") or []
            if len(args) >= 6 and args[3] == "res.users" and args[4] == "read":
                for row in exchange["response_json"].get("result") or []:
                    out[row["id"]] = row
    return out


# --------------------------------------------------------------------------- fields


def _infer_inverse(
    model: str,
    fname: str,
    comodel: str,
    admin_fields: dict[str, dict[str, dict[str, Any]]],
    records: dict[str, list[Record]],
) -> str | None:
    if comodel in GENERIC_INVERSE:
        return GENERIC_INVERSE[comodel]
    if comodel not in records or model not in records:
        return None
    candidates = [
        name
        for name, attrs in admin_fields[comodel].items()
        if attrs.get("type") == "many2one" and attrs.get("relation") == model and attrs.get("store")
    ]
    best: tuple[float, str] | None = None
    for cand in candidates:
        children: dict[int, set[int]] = collections.defaultdict(set)
        for rec in records[comodel]:
            value = rec.get(cand)
            if isinstance(value, list) and value:
                children[value[0]].add(rec["id"])
        good = sum(1 for rec in records[model] if set(rec.get(fname) or []) == children.get(rec["id"], set()))
        score = good / max(1, len(records[model]))
        if best is None or score > best[0]:
            best = (score, cand)
    return best[1] if best and best[0] >= 0.9 else None


def synthesize_field(model: str, name: str, attrs: dict[str, Any], inverse: str | None) -> dict[str, Any]:
    """The full ``fields_get`` attribute set of a field known only by its basic attributes."""
    ftype = attrs["type"]
    store = bool(attrs.get("store"))
    out: dict[str, Any] = {
        "change_default": False,
        "company_dependent": False,
        "default_export_compatible": False,
        "depends": [],
        "exportable": True,
        "groupable": store and ftype not in ("one2many", "binary"),
        "manual": False,
        "name": name,
        "readonly": bool(attrs.get("readonly")),
        "required": bool(attrs.get("required")),
        "searchable": store or ftype == "one2many",
        "sortable": store and ftype not in ("one2many", "many2many", "binary"),
        "store": store,
        "string": attrs.get("string", name),
        "type": ftype,
    }
    if attrs.get("help"):
        out["help"] = attrs["help"]
    if ftype in RELATIONAL:
        out["allow_hierachy_operators"] = attrs.get("relation") in HIERARCHY_MODELS
        out["context"] = {}
        out["domain"] = []
        out["relation"] = attrs.get("relation")
        if ftype == "one2many" and inverse:
            out["relation_field"] = inverse
    if ftype == "char":
        out["translate"] = False
        out["trim"] = True
    elif ftype == "text":
        out["translate"] = False
    elif ftype == "html":
        out.update(
            sanitize=True,
            sanitize_attributes=True,
            sanitize_style=False,
            sanitize_tags=True,
            strip_classes=False,
            strip_style=False,
            translate=False,
        )
    elif ftype == "selection":
        out["selection"] = attrs.get("selection") or []
    elif ftype == "binary":
        out["attachment"] = True
    elif ftype == "monetary":
        out["currency_field"] = "currency_id"
        if store:
            out["aggregator"] = "sum"
    elif store and (ftype == "float" or (ftype == "integer" and name not in ("id", "sequence", "color", "priority"))):
        out["aggregator"] = "sum"
    elif ftype == "many2one_reference":
        out["model_field"] = "res_model"
    return dict(sorted(out.items()))


def approval_fields() -> dict[str, dict[str, Any]]:
    """The minimal ``copilot.approval.request`` model (a later issue builds the real addon)."""
    basic: dict[str, dict[str, Any]] = {
        "id": {"string": "ID", "type": "integer", "store": True, "readonly": True},
        "name": {"string": "Summary", "type": "char", "store": True, "required": True},
        "action_type": {"string": "Action Type", "type": "char", "store": True, "required": True},
        "res_model": {"string": "Related Document Model", "type": "char", "store": True},
        "res_id": {"string": "Related Document ID", "type": "many2one_reference", "store": True},
        "payload_json": {"string": "Payload (JSON)", "type": "text", "store": True},
        "state": {
            "string": "Status",
            "type": "selection",
            "store": True,
            "required": True,
            "selection": [
                ["pending", "Pending"],
                ["approved", "Approved"],
                ["rejected", "Rejected"],
                ["executed", "Executed"],
                ["failed", "Failed"],
                ["cancelled", "Cancelled"],
            ],
        },
        "requested_by_id": {"string": "Requested by", "type": "many2one", "relation": "res.users", "store": True},
        "idempotency_key": {"string": "Idempotency Key", "type": "char", "store": True},
        "create_date": {"string": "Created on", "type": "datetime", "store": True, "readonly": True},
        "create_uid": {
            "string": "Created by",
            "type": "many2one",
            "relation": "res.users",
            "store": True,
            "readonly": True,
        },
        "write_date": {"string": "Last Updated on", "type": "datetime", "store": True, "readonly": True},
        "write_uid": {
            "string": "Last Updated by",
            "type": "many2one",
            "relation": "res.users",
            "store": True,
            "readonly": True,
        },
        "display_name": {"string": "Display Name", "type": "char", "store": False, "readonly": True},
    }
    out = {name: synthesize_field(APPROVAL_MODEL, name, attrs, None) for name, attrs in basic.items()}
    out["res_id"]["model_field"] = "res_model"
    return out


def build_fields(
    admin_fields: dict[str, dict[str, dict[str, Any]]],
    full: dict[str, dict[str, dict[str, Any]]],
    records: dict[str, list[Record]],
) -> dict[str, Json]:
    """``fields.json``: per model its fields (full attribute shape) and the admin-only names."""
    out: dict[str, Json] = {}
    for model in sorted(admin_fields):
        admin = admin_fields[model]
        recorded = full.get(model, {})
        fields: dict[str, dict[str, Any]] = dict(recorded)
        restricted: list[str] = []
        for name in sorted(admin):
            if name in fields:
                continue
            attrs = admin[name]
            inverse = None
            if attrs["type"] == "one2many":
                inverse = _infer_inverse(model, name, attrs["relation"], admin_fields, records)
            fields[name] = synthesize_field(model, name, attrs, inverse)
            if recorded:
                restricted.append(name)
        out[model] = {"fields": fields, "restricted": restricted}
    out[APPROVAL_MODEL] = {"fields": approval_fields(), "restricted": []}
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- records


def reshape_records(
    raw: dict[str, list[Record]], admin_fields: dict[str, dict[str, dict[str, Any]]]
) -> tuple[dict[str, list[Record]], dict[str, dict[int, str]]]:
    """Many2one ``[id, label]`` pairs become ids; the labels are collected per comodel."""
    labels: dict[str, dict[int, str]] = collections.defaultdict(dict)
    out: dict[str, list[Record]] = {}
    for model in sorted(raw):
        fields = admin_fields[model]
        rows = []
        for rec in sorted(raw[model], key=lambda r: r["id"]):
            row: Record = {}
            for name, value in rec.items():
                attrs = fields.get(name, {})
                if attrs.get("type") == "many2one":
                    if isinstance(value, list) and value:
                        labels[attrs["relation"]][value[0]] = value[1]
                        value = value[0]
                    else:
                        value = False
                row[name] = value
            rows.append(row)
        out[model] = rows
    out[APPROVAL_MODEL] = []
    return out, labels


def _hsl_from_seed(seed: str) -> str:
    digest = hashlib.sha512(seed.encode()).hexdigest()
    hue = int(digest[0:2], 16) * 360 / 255
    sat = int(digest[2:4], 16) * ((70 - 40) / 255) + 40
    return f"hsl({hue:.0f}, {sat:.0f}%, 45%)"


def _avatar(name: str, create_date: str | bool) -> str:
    seed = name
    if isinstance(create_date, str):
        stamp = dt.datetime.strptime(create_date, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp()
        seed += str(stamp)
    svg = (
        "<?xml version='1.0' encoding='UTF-8' ?><svg height='180' width='180' "
        "xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink'>"
        f"<rect fill='{_hsl_from_seed(seed)}' height='180' width='180'/>"
        "<text fill='#ffffff' font-size='96' text-anchor='middle' x='90' y='125' font-family='sans-serif'>"
        f"{(name or '?')[0].upper()}</text></svg>"
    )
    return base64.b64encode(svg.encode()).decode()


def _tz_offset(tz: str | bool, when: dt.datetime) -> str:
    if not isinstance(tz, str) or not tz:
        return "+0000"
    try:
        return when.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).strftime("%z")
    except ZoneInfoNotFoundError:
        return "+0000"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def user_overlays(
    records: dict[str, list[Record]],
    labels: dict[str, dict[int, str]],
    recorded: dict[int, Record],
    recorded_at: dt.datetime,
) -> dict[int, Record]:
    """Non-stored ``res.users`` values for a full read: recorded for the copilot, derived for others."""
    users = {u["id"]: u for u in records["res.users"]}
    partners = {p["id"]: p for p in records["res.partner"]}
    tickets = records.get("helpdesk.ticket", [])
    closed_stages = {s["id"] for s in records.get("helpdesk.ticket.stage", []) if s.get("closed")}
    if len(recorded) != 1:
        raise SystemExit("expected exactly one recorded full read of res.users")
    ((template_id, template),) = recorded.items()
    base = users[template_id]
    partner = partners[base["partner_id"]]
    extra = [k for k in template if k not in base and k not in partner]
    # the recorded values must agree with the stored ones we will serve
    for key, value in template.items():
        if key in base and base[key] != value:
            raise SystemExit(f"res.users {template_id}.{key}: record {base[key]!r} != transcript {value!r}")
        if key not in base and key in partner and partner[key] != value:
            raise SystemExit(f"res.partner {partner['id']}.{key}: {partner[key]!r} != transcript {value!r}")
    overlays: dict[int, Record] = {}
    for uid, user in sorted(users.items()):
        if uid == template_id:
            overlays[uid] = {k: template[k] for k in extra}
            continue
        p = partners.get(user["partner_id"], {})
        groups = set(user.get("groups_id") or [])
        values: Record = {}
        for key in extra:
            value = template[key]
            if key.startswith("in_group_"):
                value = int(key.removeprefix("in_group_")) in groups
            elif key.startswith("sel_groups_"):
                ids = [int(x) for x in key.removeprefix("sel_groups_").split("_")]
                present = [g for g in ids if g in groups]
                value = present[-1] if present else False
            values[key] = value
        name = _text(p.get("name"))
        email = _text(p.get("email"))
        parent = partners.get(p.get("parent_id") or 0, {})
        country = labels.get("res.country", {}).get(p.get("country_id") or 0, "")
        state = labels.get("res.country.state", {}).get(p.get("state_id") or 0, "")
        address = "{}\n{}\n{} {} {}\n{}".format(
            _text(p.get("street")),
            _text(p.get("street2")),
            _text(p.get("city")),
            state.split(" (")[0] if state else "",
            _text(p.get("zip")),
            country,
        )
        partner_tickets = [t for t in tickets if t.get("partner_id") == p.get("id")]
        open_tickets = [t for t in partner_tickets if t.get("stage_id") not in closed_stages]
        values.update(
            password="",
            new_password="",
            active_partner=bool(p.get("active")),
            login_date=False,
            groups_count=len(groups),
            tz_offset=_tz_offset(p.get("tz"), recorded_at),
            display_name=name,
            state="active" if user.get("log_ids") else "new",
            parent_name=_text(parent.get("name")) or False,
            country_code=COUNTRY_CODES.get(country, False),
            email_formatted=f'"{name}" <{email}>' if email else False,
            company_type="company" if p.get("is_company") else "person",
            contact_address=address,
            contact_address_inline=", ".join(x.strip() for x in address.split("\n") if x.strip()),
            helpdesk_ticket_count=len(partner_tickets),
            helpdesk_ticket_active_count=len(open_tickets),
            helpdesk_ticket_count_string=f"{len(open_tickets)} / {len(partner_tickets)}",
        )
        avatar = _avatar(name, p.get("create_date", False))
        for key in extra:
            if key.startswith(("image_", "avatar_")):
                values[key] = avatar
        overlays[uid] = {k: values[k] for k in extra}
    return overlays


# --------------------------------------------------------------------------- names


def build_names(
    records: dict[str, list[Record]], labels: dict[str, dict[int, str]]
) -> tuple[dict[str, dict[str, str | bool]], list[str]]:
    """Labels the sandbox cannot compute: external models, and recorded labels its rules miss."""
    index = {model: {r["id"]: r for r in rows} for model, rows in records.items()}

    def get(model: str, rid: int) -> Record | None:
        return index.get(model, {}).get(rid)

    def label(model: str, rid: int) -> str:
        return labels.get(model, {}).get(rid) or ""

    names: dict[str, dict[str, str | bool]] = {}
    mismatches: list[str] = []
    for model in sorted(labels):
        for rid in sorted(labels[model]):
            text = labels[model][rid]
            rec = get(model, rid)
            if rec is not None and compute_display_name(get, label, model, rec) == text:
                continue
            if rec is not None:
                mismatches.append(
                    f"{model},{rid}: rule {compute_display_name(get, label, model, rec)!r} != recorded {text!r}"
                )
            names.setdefault(model, {})[str(rid)] = text
    return names, mismatches


# --------------------------------------------------------------------------- main


def build(ref: Path) -> dict[str, Json]:
    """All output files as JSON values, keyed by file name."""
    index = _load(ref / "transcripts" / "index.json")
    recorded_at = dt.datetime.strptime(index["recorded_at_utc"], "%Y-%m-%d %H:%M:%S")
    version = _load(ref / "version.json")
    admin_fields = {p.name.removesuffix(".fields.json"): _load(p) for p in sorted((ref / "models").glob("*.json"))}
    raw = {p.name.removesuffix(".json"): _load(p) for p in sorted((ref / "records").glob("*.json"))}
    full = transcript_fields_get(ref)
    records, labels = reshape_records(raw, admin_fields)
    overlays = user_overlays(records, labels, transcript_user_read(ref), recorded_at)
    for user in records["res.users"]:
        user.update(overlays[user["id"]])
    fields = build_fields(admin_fields, full, raw)
    names, _overrides = build_names(records, labels)
    meta = {
        "database": index["database"],
        "recorded_at_utc": index["recorded_at_utc"],
        "version_info": version["version_info"],
        "counts": {model: len(rows) for model, rows in records.items()},
    }
    return {"fields.json": fields, "records.json": records, "names.json": names, "meta.json": meta}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="path to odoo-reference/")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--check", action="store_true", help="only check that the output is up to date")
    args = parser.parse_args(argv)
    if not (args.reference / "records").is_dir():
        parser.error(f"no odoo-reference at {args.reference}")
    outputs = build(args.reference)
    args.out.mkdir(parents=True, exist_ok=True)
    stale = []
    total = 0
    for name, data in outputs.items():
        path = args.out / name
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        total += len(text.encode("utf-8"))
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            _dump(path, data)
    if args.check:
        if stale:
            sys.stderr.write(f"stale: {', '.join(stale)}" + "\n")
            return 1
        return 0
    sys.stderr.write(f"wrote {len(outputs)} files, {total / 1e6:.2f} MB, to {args.out}" + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
