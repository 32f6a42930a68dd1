"""Keep the addon's Odoo 18 and Odoo 19 trees in step: one text for every file but those Odoo spells differently.

``odoo_addons/<version>/copilot_approval`` holds the addon for each Odoo series (OCA keeps a branch per series; this
repository keeps a folder). Shared files are edited in ``odoo_addons/19.0`` (Odoo's current stable series) and
copied to the others; only the files of ``VERSION_SPECIFIC`` differ, each for the reason given there.

Usage, from the repository root: ``python -m scripts.sync_odoo_addons [--check] [--source 18.0]``. With ``--check``
nothing is written: exit 1 and list the drift (a unit test runs the same check). Without it, the shared files are
copied from ``--source`` (default 19.0) to the other trees, and files that only the other trees have are removed.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ADDON",
    "ADDONS_DIR",
    "SOURCE_VERSION",
    "VERSIONS",
    "VERSION_SPECIFIC",
    "Drift",
    "addon_dir",
    "drift",
    "main",
    "sync",
]

ADDONS_DIR = Path(__file__).resolve().parents[1] / "odoo_addons"
ADDON = "copilot_approval"
#: The Odoo series the addon supports, oldest first.
VERSIONS = ("18.0", "19.0")
#: Where shared files are edited.
SOURCE_VERSION = "19.0"
#: Files (relative to the addon) that differ between the series, and why. Everything else is one text.
VERSION_SPECIFIC: dict[str, str] = {
    "__manifest__.py": "the version is 18.0.x.y.z or 19.0.x.y.z",
    "security/copilot_approval_security.xml": "groups: category_id and users (18); res.groups.privilege, "
    "privilege_id and user_ids (19)",
    "data/ir_actions_server_data.xml": "ir.actions.server groups_id (18) is group_ids (19)",
    "models/copilot_approval_request_orm.py": "the UNIQUE constraint: _sql_constraints (18) or models.Constraint "
    "(19); a boolean search method gets '='/'!=' (18) or 'in' [True] (19)",
    "models/copilot_exception_orm.py": "the (company, control, key) UNIQUE constraint: _sql_constraints (18) or "
    "models.Constraint (19)",
}
_IGNORED_PARTS = {"__pycache__"}


@dataclass(frozen=True)
class Drift:
    """One difference between the trees that ``VERSION_SPECIFIC`` does not allow."""

    path: str
    version: str
    problem: str

    def __str__(self) -> str:
        return f"{self.version}/{ADDON}/{self.path}: {self.problem}"


def addon_dir(version: str, root: Path = ADDONS_DIR) -> Path:
    """The addon's folder for one Odoo series."""
    return root / version / ADDON


def _files(folder: Path) -> set[str]:
    """Relative paths of the addon's files (no byte code)."""
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and not _IGNORED_PARTS & set(path.parts) and path.suffix != ".pyc"
    }


def drift(root: Path = ADDONS_DIR, source: str = SOURCE_VERSION) -> list[Drift]:
    """Every shared file that differs from, or is missing beside, the source tree's; and every needless exception."""
    base = addon_dir(source, root)
    base_files = _files(base)
    problems: list[Drift] = []
    for version in VERSIONS:
        if version == source:
            continue
        other = addon_dir(version, root)
        other_files = _files(other)
        for path in sorted(base_files | other_files):
            specific = path in VERSION_SPECIFIC
            if path not in other_files:
                problems.append(Drift(path, version, f"missing (present in {source})"))
            elif path not in base_files:
                problems.append(Drift(path, version, f"only here (absent from {source})"))
            elif not filecmp.cmp(base / path, other / path, shallow=False):
                if not specific:
                    problems.append(
                        Drift(path, version, f"differs from {source} (run python -m scripts.sync_odoo_addons)")
                    )
            elif specific:
                problems.append(Drift(path, version, "same text in every series: drop it from VERSION_SPECIFIC"))
    return problems


def sync(root: Path = ADDONS_DIR, source: str = SOURCE_VERSION) -> list[str]:
    """Copy the shared files from ``source`` to the other series; remove the shared files they alone have."""
    base = addon_dir(source, root)
    base_files = _files(base) - set(VERSION_SPECIFIC)
    changed: list[str] = []
    for version in VERSIONS:
        if version == source:
            continue
        other = addon_dir(version, root)
        for path in sorted(base_files):
            target = other / path
            if not target.is_file() or not filecmp.cmp(base / path, target, shallow=False):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(base / path, target)
                changed.append(f"{version}/{ADDON}/{path}")
        for path in sorted(_files(other) - base_files - set(VERSION_SPECIFIC)):
            (other / path).unlink()
            changed.append(f"{version}/{ADDON}/{path} (removed)")
    return changed


def main(argv: list[str] | None = None) -> int:
    """Check or synchronise the trees; the exit status is 1 when ``--check`` finds drift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1 when there is any)")
    parser.add_argument("--source", choices=VERSIONS, default=SOURCE_VERSION, help="the tree whose shared files win")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(source=args.source)
        for problem in problems:
            sys.stdout.write(f"{problem}\n")
        return 1 if problems else 0
    for line in sync(source=args.source):
        sys.stdout.write(f"updated {line}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
