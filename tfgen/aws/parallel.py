"""Run independent AWS reads on a bounded set of threads; results in input order.

`Reads` says how: how many at once, until when (`--timeout`), and who hears of progress (the live
view on a terminal). The threads are daemons: when the deadline passes, the reads still waiting
on the network are abandoned, not joined, so tfgen stops on time and exits.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from tfgen.errors import TfgenError

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_JOBS = 8
_POLL = 0.2  # seconds: how often the waiting thread looks up (Ctrl-C, the deadline)


class Progress(Protocol):
    """Hears how far the reads are: `add` announces more work, `advance` one read done."""

    def add(self, count: int, what: str) -> None: ...

    def advance(self) -> None: ...


class _Silent:
    def add(self, count: int, what: str) -> None:
        return None

    def advance(self) -> None:
        return None


@dataclass(frozen=True)
class Reads:
    """How the reads of one command run."""

    jobs: int = DEFAULT_JOBS
    timeout: float | None = None  # seconds for the whole command (--timeout)
    progress: Progress = field(default_factory=_Silent)
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float | None:
        """Seconds until the deadline (None: no deadline)."""
        return None if self.timeout is None else self.started + self.timeout - time.monotonic()


@dataclass(frozen=True)
class _Crash:
    error: BaseException


def run_all(
    func: Callable[[T], R], items: Sequence[T], reads: Reads, what: str = "registries"
) -> list[R | TfgenError]:
    """func over items; a TfgenError becomes that item's result, so one failure stops nothing
    else; an item not done by the deadline gets a TfgenError saying so.

    Anything else (a bug, Ctrl-C) stops what has not started and propagates.
    """
    if not items:
        return []
    reads.progress.add(len(items), what)
    todo: queue.SimpleQueue[tuple[int, T]] = queue.SimpleQueue()
    for pair in enumerate(items):
        todo.put(pair)
    done: queue.SimpleQueue[tuple[int, R | TfgenError | _Crash]] = queue.SimpleQueue()

    def work() -> None:
        while True:
            try:
                i, item = todo.get_nowait()
            except queue.Empty:
                return
            result: R | TfgenError | _Crash
            try:
                result = func(item)
            except TfgenError as exc:
                result = exc
            except BaseException as exc:  # a bug: the waiting thread raises it
                result = _Crash(exc)
            done.put((i, result))

    for n in range(max(1, min(reads.jobs, len(items)))):
        threading.Thread(target=work, name=f"tfgen-aws-{n}", daemon=True).start()
    results: dict[int, R | TfgenError] = {}
    try:
        while len(results) < len(items):
            left = reads.left()
            if left is not None and left <= 0:
                break
            try:
                i, result = done.get(timeout=_POLL if left is None else min(_POLL, left))
            except queue.Empty:
                continue
            if isinstance(result, _Crash):
                raise result.error
            results[i] = result
            reads.progress.advance()
    finally:
        while True:  # start nothing more
            try:
                todo.get_nowait()
            except queue.Empty:
                break
    if len(results) < len(items):
        late = TfgenError(f"not read: --timeout of {reads.timeout:g} s reached first")
        return [results.get(i, late) for i in range(len(items))]
    return [results[i] for i in range(len(items))]


__all__ = ["DEFAULT_JOBS", "Progress", "Reads", "run_all"]
