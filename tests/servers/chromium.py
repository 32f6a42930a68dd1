"""Chromium from Debian's packages (``apt-get install chromium``), for the headless-browser tests.

Playwright drives it through ``executable_path``: no browser is downloaded (``playwright install`` is never run).
"""

from __future__ import annotations

import os
import shutil

__all__ = ["CHROMIUM_PATHS", "chromium_binary"]

#: Debian's real binary first (``/usr/bin/chromium`` is a shell wrapper that reads ``/etc/chromium.d``).
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def chromium_binary() -> str | None:
    """The Chromium executable (``CHROMIUM_BIN``, else Debian's), or None when it is not installed."""
    explicit = os.environ.get("CHROMIUM_BIN", "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = next((path for path in CHROMIUM_PATHS if os.access(path, os.X_OK)), None)
    return found or shutil.which("chromium")
