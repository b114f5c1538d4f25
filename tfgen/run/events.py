"""Progress events from the scheduler to whoever displays them (the report layer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tfgen.manifest import ManifestStack
from tfgen.run.model import StackResult


@dataclass(frozen=True)
class Event:
    """`step` when a stack starts a terraform command; `done` when the stack has its result."""

    kind: str
    stack: ManifestStack
    step: str = ""
    result: StackResult | None = None


Listener = Callable[[Event], None]


def ignore(event: Event) -> None:
    return None
