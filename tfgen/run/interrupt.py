"""Ctrl-C and SIGTERM: forward to every running terraform process group, start nothing new.

Terraform stops cleanly on SIGINT and releases its state lock; a second Ctrl-C is forwarded too,
which makes terraform exit at once, as it would in a terminal; a third kills the process groups.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from tfgen.run.terraform import ProcessGroups


@dataclass
class Interrupts:
    """How many signals arrived while stacks ran, and the last one's name."""

    count: int = 0
    signal_name: str = ""

    @property
    def interrupted(self) -> bool:
        return self.count > 0


@contextmanager
def forwarding(groups: ProcessGroups, state: Interrupts) -> Iterator[Interrupts]:
    """Install the handlers only while stacks run, so Ctrl-C at a prompt still aborts it."""
    if threading.current_thread() is not threading.main_thread():
        yield state  # signals are only delivered to the main thread
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        state.count += 1
        state.signal_name = signal.Signals(signum).name
        # SIGINT for SIGTERM too: providers (go-plugin) ignore SIGINT and are shut down by
        # terraform itself, where a SIGTERM to the group would kill them under terraform.
        # A third signal means "now": SIGKILL, at the risk of a state lock left behind.
        groups.interrupt(signal.SIGKILL if state.count >= 3 else signal.SIGINT)

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
