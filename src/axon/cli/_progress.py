"""Progress of `axon index` for people: a live bar on a terminal, plain lines otherwise.

The indexer's counters advance file by file (and the embedder's batch by batch); a
ticker samples them, so the bar moves with every file and a log or CI run shows a
line every few seconds instead of minutes of silence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from axon.cli._output import console
from axon.indexing import IndexReport
from axon.ports import EmbeddingStatus

TERMINAL_TICK = 0.1  # seconds between redraws of the bar


@dataclass
class _Phase:
    """What one phase counts: done of total, per second, since it started."""

    verb: str  # "indexing" or "embedding"
    unit: str  # "files" or "contexts"
    started: float
    first_done: int | None = None


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


class IndexProgress:
    """Use as `async with IndexProgress(...) as view:` around an index run; pass
    `view.files` as the run's progress callback and `view.embeddings` as the embedding
    pass's. `interval` is the seconds between plain lines when not on a terminal."""

    def __init__(self, interactive: bool, interval: float) -> None:
        self.interactive = interactive
        self.interval = TERMINAL_TICK if interactive else interval
        self._sample: Callable[[], tuple[str, int, int, int]] | None = None
        self._phase: _Phase | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def __aenter__(self) -> IndexProgress:
        if self.interactive:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}  {task.fields[extra]}"),
                TextColumn("{task.fields[rate]}/s  ETA {task.fields[eta]}"),
                console=console,
                transient=False,
                auto_refresh=False,
            )
            self._bar.start()
        self._ticker = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        self.show()
        if self._bar is not None:
            self._bar.stop()

    async def files(self, reports: list[IndexReport]) -> None:
        """Progress callback of `index_workspace`: the live reports of the run."""

        def sample() -> tuple[str, int, int, int]:
            current = reports[-1].workspace_id
            total = sum(r.files_total for r in reports)
            done = sum(r.files_seen for r in reports)
            return current, done, total, sum(r.contexts_written for r in reports)

        self._start("indexing", "files", sample)

    async def embeddings(self, workspace_id: str, status: EmbeddingStatus) -> None:
        """Progress callback of `SearchIndex.complete_embeddings`."""
        self._start(
            "embedding",
            "contexts",
            lambda: (workspace_id, status.done, status.done + status.pending, 0),
        )

    def _start(self, verb: str, unit: str, sample: Callable[[], tuple[str, int, int, int]]) -> None:
        new_phase = self._phase is None or self._phase.verb != verb
        self._sample = sample
        if new_phase:
            self._phase = _Phase(verb, unit, time.monotonic())
            if self._bar is not None:
                if self._task is not None:
                    self._bar.stop_task(self._task)
                self._task = self._bar.add_task(
                    verb, total=None, unit=unit, extra="", rate="", eta=""
                )
            self.show()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.show()

    def show(self) -> None:
        if self._sample is None or self._phase is None:
            return
        phase = self._phase
        workspace, done, total, contexts = self._sample()
        now = time.monotonic()
        if phase.first_done is None:
            phase.first_done, phase.started = done, now  # files counted at once (unchanged)
        elapsed = now - phase.started
        rate = (done - phase.first_done) / elapsed if elapsed > 0.2 else None
        eta = (total - done) / rate if rate else None
        rate_text = f"{rate:.0f} {phase.unit}" if rate is not None else f"? {phase.unit}"
        extra = f"{contexts} contexts" if phase.unit == "files" else ""
        if self._bar is not None and self._task is not None:
            self._bar.update(
                self._task,
                description=f"{phase.verb} {workspace}",
                completed=done,
                total=total,
                extra=extra,
                rate=rate_text,
                eta=format_eta(eta) if done < total else "0s",
            )
            self._bar.refresh()
            return
        share = f" ({100 * done // total}%)" if total else ""
        typer.echo(
            f"{phase.verb} {workspace}: {done}/{total} {phase.unit}{share}"
            + (f", {extra}" if extra else "")
            + f", {rate_text}/s, ETA {format_eta(eta) if done < total else '0s'}"
        )
