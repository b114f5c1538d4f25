"""Forked helper processes, and what keeps them from outliving the process that forked them.

A large render forks twice: a child reads the spec while this process imports the checks and
the render stage (tfgen.spec.ahead.read_ahead), and a child renders parts of a new tree beside
this process (tfgen.render.parallel).
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def can_fork() -> bool:
    """fork exists and this process runs no other thread (a fork copies only the thread that
    calls it: a lock another thread held would stay held in the child forever)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def die_with(parent: int) -> None:
    """In a forked child: have the kernel kill this process when `parent` dies (Linux), and
    exit at once if it already has."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes  # only in a child: 2 ms of start-up for every command otherwise

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # callers that run long also check os.getppid()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
