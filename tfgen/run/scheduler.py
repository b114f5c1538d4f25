"""Run an action over many stacks: bounded parallelism, ordering by rank and dependencies,
dependents blocked when a prerequisite failed, nothing new started after an interrupt, or after
the first stacks failed alike on a broken environment (tfgen.run.failfast).

Results come back in the order the stacks were given, whatever order they finished in.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tfgen.manifest import ManifestStack
from tfgen.run.events import Event, Listener, ignore
from tfgen.run.failfast import FailFast
from tfgen.run.model import StackResult, Status
from tfgen.run.terraform import ProcessGroups

Action = Callable[[ManifestStack], StackResult]
_BAD = frozenset({Status.FAILED, Status.BLOCKED, Status.INTERRUPTED, Status.CANCELLED})


@dataclass(frozen=True)
class Order:
    """`rank`: a stack starts only when every stack of a lower rank has finished.
    `after`: further stacks it waits for. `gates`: stacks whose failure blocks it.
    `missing`: stacks it needs that will not run at all (no saved plan): they block it too."""

    rank: Mapping[str, int] = field(default_factory=dict)
    after: Mapping[str, frozenset[str]] = field(default_factory=dict)
    gates: Mapping[str, frozenset[str]] = field(default_factory=dict)
    missing: Mapping[str, frozenset[str]] = field(default_factory=dict)


def unordered() -> Order:
    return Order()


def apply_order(stacks: Sequence[ManifestStack], unsettled: Sequence[ManifestStack] = ()) -> Order:
    """Phase 1 (registry policies) before phase 2 (replication); a stack is blocked when a stack
    it depends on failed, or is `unsettled` (not applied now, and not known to be in place): a
    rule must never exist before its destination's grant."""
    ids = {s.id for s in stacks}
    unplanned = {s.id for s in unsettled} - ids
    deps = {s.id: frozenset(d for d in s.depends_on if d in ids) for s in stacks}
    missing = {s.id: frozenset(d for d in s.depends_on if d in unplanned) for s in stacks}
    return Order(rank={s.id: s.phase for s in stacks}, after=deps, gates=deps, missing=missing)


def destroy_order(stacks: Sequence[ManifestStack]) -> Order:
    """The reverse: replication stacks first; a grant stays while a rule that needs it failed
    to go."""
    ids = {s.id for s in stacks}
    dependents: dict[str, set[str]] = {s.id: set() for s in stacks}
    for s in stacks:
        for d in s.depends_on:
            if d in ids:
                dependents[d].add(s.id)
    frozen = {k: frozenset(v) for k, v in dependents.items()}
    return Order(rank={s.id: -s.phase for s in stacks}, after=frozen, gates=frozen)


def workers(parallelism: int) -> int:
    return parallelism if parallelism > 0 else (os.cpu_count() or 1)


def run_stacks(
    stacks: Sequence[ManifestStack],
    action: Action,
    *,
    action_name: str,
    parallelism: int,
    order: Order,
    groups: ProcessGroups,
    listener: Listener = ignore,
    fail_fast: FailFast | None = None,
) -> tuple[StackResult, ...]:
    run = _Run(stacks, action, action_name, order, groups, listener, fail_fast)
    with cf.ThreadPoolExecutor(max_workers=workers(parallelism)) as pool:
        run.loop(pool, workers(parallelism))
    return tuple(run.results[s.id] for s in stacks)


class _Run:
    def __init__(
        self,
        stacks: Sequence[ManifestStack],
        action: Action,
        action_name: str,
        order: Order,
        groups: ProcessGroups,
        listener: Listener,
        fail_fast: FailFast | None = None,
    ) -> None:
        self.action = action
        self.fail_fast = fail_fast
        self.stop_reason = ""
        self.action_name = action_name
        self.order = order
        self.groups = groups
        self.listener = listener
        self.pending = sorted(stacks, key=lambda s: order.rank.get(s.id, 0))
        self.running: dict[cf.Future[StackResult], ManifestStack] = {}
        self.results: dict[str, StackResult] = {}
        self.bad: set[str] = set()

    def _finish(self, result: StackResult) -> None:
        self.results[result.stack.id] = result
        if result.status in _BAD:
            self.bad.add(result.stack.id)
        if self.fail_fast is not None and not self.stop_reason:
            self.stop_reason = self.fail_fast.observe(result)
        self.listener(Event("done", result.stack, result=result))

    def _open_rank(self) -> int | None:
        ranks = [self.order.rank.get(s.id, 0) for s in (*self.pending, *self.running.values())]
        return min(ranks) if ranks else None

    def _ready(self, stack: ManifestStack) -> bool:
        if self.order.rank.get(stack.id, 0) != self._open_rank():
            return False
        return all(d in self.results for d in self.order.after.get(stack.id, ()))

    def _blocker(self, stack: ManifestStack) -> str:
        failed = sorted(g for g in self.order.gates.get(stack.id, ()) if g in self.bad)
        if failed:
            return "not run: " + ", ".join(f"{g} {self.results[g].status.value}" for g in failed)
        missing = sorted(self.order.missing.get(stack.id, ()))
        if missing:
            return (
                f"not run: {', '.join(missing)} has no saved plan (its plan failed or was not "
                "run) and is not known to be applied as it is now; plan it too"
            )
        return ""

    def _guarded(self, stack: ManifestStack) -> StackResult:
        self.listener(Event("step", stack, step="starting"))
        try:
            return self.action(stack)
        except Exception as exc:  # a bug in one stack's handling must not lose the others
            return StackResult(stack, self.action_name, Status.FAILED, f"internal error: {exc!r}")

    def _start_ready(self, pool: cf.ThreadPoolExecutor, slots: int) -> bool:
        """Start (or skip) what can go now; True if anything moved."""
        moved = False
        for stack in list(self.pending):
            if len(self.running) >= slots:
                break
            if not self._ready(stack):
                continue
            self.pending.remove(stack)
            moved = True
            reason = self._blocker(stack)
            if reason:
                self._finish(StackResult(stack, self.action_name, Status.BLOCKED, reason))
                continue
            self.running[pool.submit(self._guarded, stack)] = stack
        return moved

    def _end_pending(self, status: Status, reason: str) -> None:
        pending, self.pending = self.pending, []
        for stack in pending:
            self._finish(StackResult(stack, self.action_name, status, reason))

    def loop(self, pool: cf.ThreadPoolExecutor, slots: int) -> None:
        while self.pending or self.running:
            if self.groups.is_stopping():
                self._end_pending(Status.CANCELLED, "not started: interrupted")
            elif self.stop_reason:
                self._end_pending(Status.SKIPPED, self.stop_reason)
            elif self._start_ready(pool, slots):
                continue
            if not self.running:
                if self.pending:  # nothing runs and nothing can start: a cycle
                    for stack in self.pending:
                        reason = "dependency cycle in depends_on"
                        self._finish(StackResult(stack, self.action_name, Status.FAILED, reason))
                    self.pending = []
                return
            # A short timeout keeps the main thread responsive to signals.
            done, _ = cf.wait(self.running, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for future in done:
                self.running.pop(future)
                self._finish(future.result())
