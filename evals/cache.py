"""A persistent cache of model responses, keyed by model, endpoint, messages and parameters.

Re-running an eval with the same configuration replays the model's answers instead of paying for
them again; changing the prompt, the model, the base URL or a sampling parameter misses the cache.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumps, loads

__all__ = ["SQLiteResponseCache"]


class SQLiteResponseCache(BaseCache):
    """LangChain's cache interface over one SQLite file (thread-safe)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(prompt: str, llm_string: str) -> str:
        # llm_string holds the model's serialized parameters: model name, base URL, temperature, max tokens ...
        return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        """The cached generations, or None."""
        with self._lock:
            query = "SELECT value FROM responses WHERE key = ?"
            row = self._db.execute(query, (self._key(prompt, llm_string),)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return loads(row[0])  # our own file of LangChain-serialized generations

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        """Store the generations."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
                (self._key(prompt, llm_string), dumps(list(return_val))),
            )
            self._db.commit()

    def clear(self, **kwargs: Any) -> None:
        """Forget everything."""
        with self._lock:
            self._db.execute("DELETE FROM responses")
            self._db.commit()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
