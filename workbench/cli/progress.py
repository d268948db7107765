"""The one progress printer of the command line: it reads the progress that any engine event
reports (:func:`workbench.core.events.progress_of`: done, total, unit, label, detail, milestone)
and shows it on stderr —

- a progress bar with rate and time left (tqdm) when stderr is a terminal, one bar per count
  (a new label starts a new bar), milestones written under it;
- plain lines when stderr is not a terminal: the first report of each count, one every
  :data:`PLAIN_INTERVAL_S` seconds, every milestone and the last report;
- nothing at all under ``--quiet`` (notes such as skipped files included; errors still show).

Commands wrap their event stream: ``for event in printer.track(events): …``.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Iterable, Iterator, TextIO

from workbench.core.events import ProgressReport, progress_of

PLAIN_INTERVAL_S = 2.0  # seconds between plain lines of one count (milestones always print)


def plain_line(report: ProgressReport) -> str:
    """A report as one line: "batch 1/2: step 5/10  success 3/4"."""
    if report.total:
        count = f"{report.unit} {report.done:g}/{report.total:g}"
    elif report.done:
        count = f"{report.done:g} {report.unit}"
    else:
        count = ""
    text = "  ".join(part for part in (count, report.detail) if part)
    return f"{report.label}: {text}" if report.label else text


class ProgressPrinter:
    """Shows the progress of event streams on ``stream`` (stderr unless told; see the module
    docstring). ``tty`` overrides the terminal check, ``quiet`` silences everything."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, tty: bool | None = None,
                 interval: float = PLAIN_INTERVAL_S) -> None:
        self._stream = stream
        self.quiet = quiet
        self._tty = tty
        self.interval = interval
        self._bar: Any = None
        self._key: tuple[str, str] | None = None
        self._last_line = 0.0
        self._pending: ProgressReport | None = None  # a plain report not printed yet

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def tty(self) -> bool:
        if self._tty is None:
            isatty = getattr(self.stream, "isatty", None)
            self._tty = bool(isatty and isatty())
        return self._tty

    # -- consuming events -----------------------------------------------------------------------
    def track(self, events: Iterable[Any]) -> Iterator[Any]:
        """``events`` passed through, their progress shown; the display is closed at the end."""
        try:
            for event in events:
                self.report(event)
                yield event
        finally:
            self.close()

    def report(self, event: Any) -> None:
        """Show ``event``'s progress (nothing for an event that reports none)."""
        report = progress_of(event)
        if report is not None:
            self.show(report)

    def show(self, report: ProgressReport) -> None:
        if self.quiet:
            return
        if self.tty:
            self._show_bar(report)
        else:
            self._show_line(report)

    def note(self, message: str) -> None:
        """A line of information (a skipped file, a clipped rectangle), not progress."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            self.stream.write(message + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the current bar; a plain report that was held back is printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._pending is not None and not self.quiet:
            self._write(plain_line(self._pending))
        self._pending = None
        self._key = None

    # -- plain lines ----------------------------------------------------------------------------
    def _show_line(self, report: ProgressReport) -> None:
        key = (report.label, report.unit)
        now = time.monotonic()
        if report.milestone or key != self._key or now - self._last_line >= self.interval:
            self._write(plain_line(report))
            self._last_line = now
            self._pending = None
        else:
            self._pending = report
        self._key = None if report.milestone else key

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    # -- a bar on a terminal --------------------------------------------------------------------
    def _show_bar(self, report: ProgressReport) -> None:
        from tqdm import tqdm

        key = (report.label, report.unit)
        if key != self._key and report.milestone:
            self.close()
            self.note(plain_line(report))
            return
        if key != self._key or self._bar is None:
            self.close()
            self._bar = tqdm(total=report.total or None, unit=report.unit, desc=report.label or None,
                             file=self.stream, leave=True, dynamic_ncols=True)
            self._key = key
        bar = self._bar
        if report.total and bar.total != report.total:
            bar.total = report.total
        if report.detail:
            bar.set_postfix_str(report.detail, refresh=False)
        bar.update(report.done - bar.n)
        if report.milestone:
            bar.refresh()
            self.close()
