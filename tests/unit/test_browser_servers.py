"""Where the browser tests find Odoo and Chromium: the same variables as `make odoo-test`, Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.sync_odoo_addons import addon_dir
from tests.servers import chromium
from tests.servers.odoo import odoo_installs


def test_no_odoo_variables_means_no_odoo() -> None:
    assert odoo_installs({"ODOO_ARGS": "--db_host=127.0.0.1"}) == []


def test_each_series_odoo_bin_gives_one_install_with_the_shared_database_options(tmp_path: Path) -> None:
    odoo_bin = tmp_path / "odoo19" / "odoo-bin"
    (tmp_path / "odoo19" / "addons").mkdir(parents=True)
    [install] = odoo_installs({"ODOO19_BIN": str(odoo_bin), "ODOO_ARGS": "--db_host=127.0.0.1 --db_user='odoo x'"})
    assert install.series == "19.0" and install.python == "python3"
    assert install.extra_args == ("--db_host=127.0.0.1", "--db_user=odoo x")
    # Odoo's own addons beside odoo-bin, then the repository's tree for that series
    assert install.full_addons_path == f"{tmp_path / 'odoo19' / 'addons'},{addon_dir('19.0').parent}"


def test_another_checkouts_addon_trees_replace_the_repositorys(tmp_path: Path) -> None:
    env = {"ODOO18_BIN": "/opt/odoo18/odoo-bin", "ODOO18_PY": "/opt/venv/bin/python", "ODOO19_BIN": "/opt/o19/odoo-bin"}
    installs = odoo_installs({**env, "ODOO_ADDON_TREES": str(tmp_path)})
    assert [(i.series, i.python) for i in installs] == [("18.0", "/opt/venv/bin/python"), ("19.0", "python3")]
    assert [i.addon_folder() for i in installs] == [tmp_path / "18.0", tmp_path / "19.0"]


def test_chromium_named_but_missing_is_not_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM_BIN", str(tmp_path / "chromium"))
    assert chromium.chromium_binary() is None
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    binary.chmod(0o755)
    assert chromium.chromium_binary() == str(binary)
