"""Progress of a long command: a bar on a terminal; in a pipe or a log, a plain line now and then (never a blank
line, no cursor movement), so a piped ``copilot index`` or ``eval run`` still says how far it is."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EVERY_SECONDS", "ProgressReport", "progress"]

#: Seconds between two plain progress lines; the first and the last line are always printed.
EVERY_SECONDS = 5.0


class ProgressReport:
    """Where a command reports ``update(done, total)`` or ``advance(n)``; safe to call from worker threads."""

    def __init__(
        self, label: str, console: Console, *, total: int | None, every: float, bar: Any = None, quiet: bool = False
    ) -> None:
        self.label = label
        self.quiet = quiet
        self.console = console
        self.total = total
        self.done = 0
        self.every = every
        self._bar = bar  # a started rich Progress on a terminal, else None (plain lines)
        self._task: Any = None
        self._printed: tuple[int, int] | None = None
        self._last = 0.0
        self._lock = threading.Lock()

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` of ``total`` (the total may come with the first update)."""
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
            self._show()

    def advance(self, n: int = 1) -> None:
        """``n`` more items done."""
        with self._lock:
            self.done += n
            self._show()

    def _show(self) -> None:
        if self.quiet or self.total is None:
            return
        if self._bar is not None:
            if self._task is None:
                self._task = self._bar.add_task(self.label, total=self.total)
            self._bar.update(self._task, completed=self.done, total=self.total)
            return
        now = time.monotonic()
        state = (self.done, self.total)
        due = self._printed is None or self.done >= self.total or now - self._last >= self.every
        if due and state != self._printed:
            self.console.print(f"{self.label} {self.done}/{self.total}", markup=False, highlight=False, soft_wrap=True)
            self._printed, self._last = state, now


@contextmanager
def progress(
    label: str,
    *,
    console: Console,
    total: int | None = None,
    disable: bool = False,
    every: float = EVERY_SECONDS,
) -> Iterator[ProgressReport]:
    """A bar on ``console`` when it is a terminal, else plain ``label done/total`` lines at most every ``every``
    seconds (plus the first and the last); nothing at all when ``disable``."""
    with ExitStack() as stack:
        bar = None
        if console.is_terminal and not disable:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = stack.enter_context(
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                )
            )
        report = ProgressReport(label, console, total=total, every=every, bar=bar, quiet=disable)
        if total is not None:
            report.update(0)
        yield report
