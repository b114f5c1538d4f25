"""What tfgen does to one stack: plan it (init, plan -out, show -json) or apply its saved plan."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from tfgen import safeio
from tfgen.manifest import Manifest, ManifestStack, TreeGuard, UnsafePathError
from tfgen.run import hashes
from tfgen.run.cachegate import CacheGate
from tfgen.run.events import Event, Listener, ignore
from tfgen.run.hints import cause_of, first_error
from tfgen.run.model import PlanSummary, StackResult, Status, StepResult
from tfgen.run.passthrough import PassThrough
from tfgen.run.summary import human_line, needs_show, parse_stream, with_ecr
from tfgen.run.terraform import Runner
from tfgen.run.workspace import PlanRecord, Workspace, now


@dataclass
class RunContext:
    """Everything a stack action needs; shared by the worker threads."""

    manifest: Manifest
    workspace: Workspace
    runner: Runner
    terraform_version: str
    flags: PassThrough = field(default_factory=PassThrough)
    # Held around `init`: stacks share a plugin cache (TF_PLUGIN_CACHE_DIR, the user's or
    # DIR/.tfgen/plugin-cache) and parallel inits race on it (hashicorp/terraform#31964).
    init_mutex: threading.Lock = field(default_factory=threading.Lock)
    # With Terraform >= 1.4: see cachegate.py. None otherwise.
    cache_gate: CacheGate | None = None
    listener: Listener = ignore
    _applied_lock: threading.Lock = field(default_factory=threading.Lock)

    def record_applied(self, stack: ManifestStack, content_hash: str | None) -> None:
        """Remember (or forget, for a destroy) the hash of a successfully applied stack."""
        with self._applied_lock:
            path = self.workspace.applied_path
            applied = hashes.read_applied(path)
            if content_hash is None:
                applied.pop(stack.id, None)
            else:
                applied[stack.id] = content_hash
            hashes.write_applied(path, applied)


class _Steps:
    """Runs a stack's commands in order, logging, and turns the first failure into a result."""

    def __init__(self, ctx: RunContext, stack: ManifestStack, action: str, log: IO[str]) -> None:
        self.ctx = ctx
        self.stack = stack
        self.action = action
        self.log = log
        self.steps: list[StepResult] = []
        self.start = time.monotonic()
        self.started = time.time()
        self.cwd = ctx.manifest.root / stack.path

    def run(
        self, name: str, args: list[str], capture: bool = False, stream: bool = False
    ) -> tuple[StepResult, str]:
        self.ctx.listener(Event("step", self.stack, step=name))
        gate = self.ctx.cache_gate
        if gate is None:
            guard: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        elif name == "init" and not (self.cwd / ".terraform.lock.hcl").exists():
            guard = gate.exclusive()
        else:
            guard = gate.shared()
        with guard:
            step, stdout = self.ctx.runner.run(
                name,
                args,
                self.cwd,
                self.log,
                capture_stdout=capture,
                render=human_line if stream else None,
            )
        self.steps.append(step)
        return step, stdout

    def result(
        self,
        status: Status,
        reason: str = "",
        *,
        hint: str = "",
        cause: str = "",
        failed_command: str = "",
        summary: PlanSummary | None = None,
        changes: bool = False,
    ) -> StackResult:
        result = StackResult(
            stack=self.stack,
            action=self.action,
            status=status,
            reason=reason,
            hint=hint,
            cause=cause,
            failed_command=failed_command,
            log=self.ctx.workspace.log_path(self.stack),
            summary=summary,
            changes=changes,
            steps=tuple(self.steps),
            duration=time.monotonic() - self.start,
            started=self.started,
        )
        self.log.write(f"tfgen: {self.action} {status.value}{': ' + reason if reason else ''}\n")
        return result

    def failure(self, step: StepResult) -> StackResult:
        command = " ".join(["terraform", *step.argv[1:]])
        if step.interrupted:
            return self.result(
                Status.INTERRUPTED, f"interrupted during `{step.name}`", failed_command=command
            )
        if step.timed_out:
            reason = f"`{step.name}` timed out after {step.duration:.0f}s"
        elif step.returncode is None:
            reason = f"`{step.name}` could not be started: {step.output}"
        else:
            reason = f"`{step.name}` exited {step.returncode}"
            error = first_error(step.output)
            if error:
                reason += f": {error}"
        cause = cause_of(step.output)
        return self.result(
            Status.FAILED,
            reason,
            hint=cause.hint if cause else "",
            cause=cause.name if cause else "",
            failed_command=command,
        )


@contextlib.contextmanager
def _log(ctx: RunContext, stack: ManifestStack, action: str) -> Iterator[IO[str]]:
    path = ctx.workspace.log_path(stack)
    fd = safeio.create_new(path)  # never through a link planted at the log's name
    # Line-buffered: the log is what a person tails while a long apply runs.
    with open(fd, "w", buffering=1, encoding="utf-8", errors="replace") as log:
        log.write(f"tfgen {action} {stack.id} at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n")
        yield log


def _init(ctx: RunContext, steps: _Steps) -> StepResult:
    asked = time.monotonic()
    with ctx.init_mutex:
        waited = time.monotonic() - asked
        step, _ = steps.run("init", ctx.flags.init_args())
    step = dataclasses.replace(step, waited=waited)
    steps.steps[-1] = step
    return step


def _checked_hash(ctx: RunContext, stack: ManifestStack) -> str:
    """The stack's content hash, after checking that no directory leading to it is a link
    (terraform would run, and tfgen would hash, somewhere outside the tree)."""
    TreeGuard(ctx.manifest.root).path(f"{stack.path}/main.tf")
    return hashes.stack_hash(ctx.manifest, stack)


def plan_stack(ctx: RunContext, stack: ManifestStack, *, destroy: bool = False) -> StackResult:
    action = "destroy-plan" if destroy else "plan"
    ws = ctx.workspace
    # A failed plan must never leave an older saved plan behind for `apply` to pick up.
    ws.discard_plan(stack, destroy)
    with _log(ctx, stack, action) as log:
        steps = _Steps(ctx, stack, action, log)
        try:
            # Hash before planning: if files change while terraform reads them, the plan is stale.
            content_hash = _checked_hash(ctx, stack)
        except UnsafePathError as exc:
            return steps.result(Status.FAILED, str(exc))
        if not steps.cwd.is_dir():
            return steps.result(Status.FAILED, f"stack directory {steps.cwd} does not exist")
        step = _init(ctx, steps)
        if not step.ok:
            return steps.failure(step)
        plan_file = ws.plan_path(stack, destroy)
        args = ["-json", "-detailed-exitcode", *ctx.flags.plan_args(), f"-out={plan_file}"]
        step, stream = steps.run("plan", [*args, "-destroy"] if destroy else args, stream=True)
        if not step.ok:
            return steps.failure(step)
        changes = step.returncode == 2
        summary = parse_stream(stream.splitlines()).summary
        if needs_show(summary):
            step, shown = steps.run("show", ["-json", str(plan_file)], capture=True)
            if not step.ok:
                return steps.failure(step)
            try:
                summary = with_ecr(summary, json.loads(shown))
            except json.JSONDecodeError as exc:
                return steps.result(Status.FAILED, f"`show -json` printed invalid JSON: {exc}")
        record = PlanRecord(
            stack.id, content_hash, changes, destroy, now(), ctx.terraform_version, summary
        )
        ws.write_record(stack, record)
        return steps.result(Status.OK, "", summary=summary, changes=changes)


def apply_stack(ctx: RunContext, stack: ManifestStack, *, destroy: bool = False) -> StackResult:
    """Apply the saved plan exactly as reviewed; refuse it when the stack changed since."""
    action = "destroy" if destroy else "apply"
    ws = ctx.workspace
    record = ws.read_record(stack, destroy)
    with _log(ctx, stack, action) as log:
        steps = _Steps(ctx, stack, action, log)
        if record is None:
            return steps.result(Status.BLOCKED, "no saved plan: run `tfgen plan` first")
        try:
            current = _checked_hash(ctx, stack)
        except UnsafePathError as exc:
            return steps.result(Status.FAILED, str(exc))
        if current != record.content_hash:
            return steps.result(
                Status.FAILED,
                "stale plan: the stack's files changed since it was planned at "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(record.planned_at))}; "
                "run `tfgen plan` again and review it",
            )
        if not record.changes:
            ws.discard_plan(stack, destroy)
            ctx.record_applied(stack, None if destroy else current)
            return steps.result(Status.OK, "no changes", summary=record.summary)
        if not (steps.cwd / ".terraform").is_dir():
            # Planned elsewhere (another CI job) and applied here: install what the plan needs.
            step = _init(ctx, steps)
            if not step.ok:
                return steps.failure(step)
        step, _ = steps.run("apply", [*ctx.flags.apply_args(), str(ws.plan_path(stack, destroy))])
        if not step.ok:
            return steps.failure(step)
        # A saved plan is applied once; Terraform 1.0 would apply it again on a newer state.
        ws.discard_plan(stack, destroy)
        ctx.record_applied(stack, None if destroy else current)
        return steps.result(Status.OK, "", summary=record.summary, changes=True)
