"""Where the project's database lives by default: ``state.sqlite`` in the data dir (see ``copilot.state.database``)."""

from __future__ import annotations

import os
from pathlib import Path

from copilot.config import Settings
from copilot.errors import ConfigError

__all__ = ["STATE_FILE", "default_url", "usable_data_dir"]

#: The SQLite file under ``settings.data_dir`` when no ``COPILOT_DATABASE_URL`` is given.
STATE_FILE = "state.sqlite"


def usable_data_dir(settings: Settings) -> Path:
    """``settings.data_dir``, created if missing; ``ConfigError`` naming ``COPILOT_DATA_DIR`` if it cannot be used."""
    folder = Path(settings.data_dir).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "it is a file, not a folder" if folder.is_file() else (exc.strerror or type(exc).__name__)
        raise ConfigError(f"COPILOT_DATA_DIR: cannot use {folder} as the data folder: {why}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"COPILOT_DATA_DIR: cannot write in {folder}")
    return folder


def default_url(settings: Settings) -> str:
    """The SQLite URL of ``settings.data_dir/state.sqlite`` (the folder is created; see ``usable_data_dir``)."""
    return f"sqlite:///{usable_data_dir(settings) / STATE_FILE}"
