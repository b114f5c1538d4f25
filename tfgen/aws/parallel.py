"""Run independent AWS reads on a bounded pool of threads; results in input order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tfgen.errors import TfgenError

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_JOBS = 8


def run_all(func: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R | TfgenError]:
    """func over items; a TfgenError becomes that item's result, so one failure stops nothing else.

    Anything else (a bug, Ctrl-C) cancels what has not started and propagates.
    """
    if not items:
        return []

    def capture(item: T) -> R | TfgenError:
        try:
            return func(item)
        except TfgenError as exc:
            return exc

    workers = max(1, min(jobs, len(items)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tfgen-aws") as pool:
        futures = [pool.submit(capture, item) for item in items]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


__all__ = ["DEFAULT_JOBS", "run_all"]
