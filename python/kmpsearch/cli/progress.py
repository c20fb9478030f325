"""Progress bars for big inputs: transient rich bars on standard error, or nothing (rich is
optional: ``pip install 'kmpsearch[cli]'``)."""

from __future__ import annotations

import sys

__all__ = ["Meter", "Progress"]


class Progress:
    """Makes transient rich progress bars on stderr, or nothing."""

    def __init__(self, enabled: bool, threshold: int) -> None:
        self.threshold = threshold
        self._rich = None
        if enabled:
            try:
                from rich import progress as rich_progress
                from rich.console import Console
            except ImportError:  # optional dependency
                pass
            else:
                self._rich = (rich_progress, Console)

    @property
    def enabled(self) -> bool:
        return self._rich is not None

    def meter(self, label: str, total: int | None) -> "Meter":
        return Meter(self, label, total)

    def _start(self, label: str, total: int | None):
        rp, Console = self._rich
        columns = [rp.TextColumn("{task.description}"), rp.BarColumn(), rp.DownloadColumn(),
                   rp.TransferSpeedColumn()]
        if total is not None:
            columns.append(rp.TimeRemainingColumn())
        bar = rp.Progress(*columns, console=Console(file=sys.stderr), transient=True)
        task = bar.add_task(label, total=total)
        bar.start()
        return bar, task


class Meter:
    """Progress of one input: a bar appears once the input is known to be big."""

    def __init__(self, progress: Progress, label: str, total: int | None) -> None:
        self.progress, self.label, self.total = progress, label, total
        self.done = 0
        self.bar = self.task = None
        if total is not None and total > progress.threshold:
            self._open()

    def _open(self) -> None:
        if self.progress.enabled:
            self.bar, self.task = self.progress._start(self.label, self.total)
            if self.done:
                self.bar.update(self.task, completed=self.done)

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        elif self.total is None and self.done > self.progress.threshold and self.progress.enabled:
            self._open()

    def close(self) -> None:
        if self.bar is not None:
            try:
                self.bar.stop()
            except (OSError, ValueError):
                pass
            self.bar = None


# --------------------------------------------------------------------------- searching
