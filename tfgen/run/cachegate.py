"""Keeps terraform commands away from a plugin-cache entry while `init` replaces it.

Terraform >= 1.4 with a shared TF_PLUGIN_CACHE_DIR re-installs the cache entry of a provider on every
`init` of a stack whose dependency lock file lacks it (measured: Terraform 1.15 unlinks and recreates
the entry; 1.0.3 leaves it alone). A plan that resolves its provider through that entry at that
moment fails with "Required plugins are not installed". So such an `init` runs alone (exclusive);
every other command (plan, show, apply, and `init` of a stack that has a lock file, which leaves
existing entries alone) may run alongside the others (shared). Waiting writers go first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CacheGate:
    """A readers-writer gate: `exclusive()` for an init that rewrites the cache, `shared()` for the
    rest."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
