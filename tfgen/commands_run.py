"""`tfgen plan`, `apply`, `destroy`: the glue between tfgen.run (terraform over the stacks) and
tfgen.report. It sits above both because the import contract puts report above run.

Each command is a plain function returning an exit code; `run_commands` holds the click
commands that tfgen.cli registers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console

from tfgen import report
from tfgen.run import hashes
from tfgen.run.cachegate import CacheGate
from tfgen.run.errors import RunError
from tfgen.run.interrupt import Interrupts, forwarding
from tfgen.run.lock import DirLock
from tfgen.run.manifest import load_manifest, select
from tfgen.run.model import Manifest, Stack, StackResult, Status
from tfgen.run.scheduler import apply_order, destroy_order, run_stacks, unordered, workers
from tfgen.run.stacks import RunContext, apply_stack, plan_stack
from tfgen.run.terraform import (
    ProcessGroups,
    Runner,
    check_version,
    find_terraform,
    parse_version,
)
from tfgen.run.workspace import Workspace

DEFAULT_PARALLELISM = 4
REPLICATION_WARNING = (
    "warning: destroying a replication stack deletes that registry's whole replication "
    "configuration: every rule in the registry goes, including rules tfgen did not write"
)


@dataclass(frozen=True)
class Options:
    """What plan, apply and destroy share."""

    stacks: tuple[str, ...] = ()
    parallelism: int = DEFAULT_PARALLELISM
    terraform: str | None = None
    timeout: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    json_report: Path | None = None
    markdown_report: Path | None = None
    # Where the full report can be read (a CI artifact URL); the Markdown comment links it.
    report_url: str | None = None
    # Last-applied hashes for `--changed` (default DIR/.tfgen/applied.json).
    applied_file: Path | None = None
    console: Console | None = None


@dataclass
class _Session:
    command: str
    options: Options
    console: Console
    manifest: Manifest
    ctx: RunContext
    groups: ProcessGroups
    stacks: tuple[Stack, ...]
    started: float = field(default_factory=time.time)
    interrupts: Interrupts = field(default_factory=Interrupts)

    def run(
        self, stacks: Sequence[Stack], action: Callable[[Stack], StackResult], name: str
    ) -> tuple[StackResult, ...]:
        if name == "apply":
            order = apply_order(stacks, self.stacks)
        elif name == "destroy":
            order = destroy_order(stacks)
        else:
            order = unordered()
        with (
            report.LiveProgress(self.console, stacks, name) as progress,
            forwarding(self.groups, self.interrupts),
        ):
            self.ctx.listener = progress  # each terraform command shows in the live view
            return run_stacks(
                stacks,
                action,
                action_name=name,
                parallelism=self.options.parallelism,
                order=order,
                groups=self.groups,
                listener=progress,
            )

    def finish(self, results: Sequence[StackResult], detailed: bool = False) -> int:
        interrupted = self.interrupts.interrupted
        info = report.RunInfo(
            command=self.command,
            directory=self.manifest.root,
            terraform=self.ctx.runner.binary,
            terraform_version=self.ctx.terraform_version,
            started_at=self.started,
            duration=time.time() - self.started,
            parallelism=workers(self.options.parallelism),
            detailed_exitcode=detailed,
            interrupted=interrupted,
        )
        code = report.exit_code(results, detailed=detailed, interrupted=interrupted)
        report.print_table(self.console, results, info)
        if interrupted:
            done = sum(1 for r in results if r.status in (Status.OK, Status.FAILED))
            self.console.print(
                f"interrupted ({self.interrupts.signal_name}): {done} of {len(results)} stacks "
                "finished; running terraform processes were told to stop and release their locks",
                style="bold magenta",
                highlight=False,
                soft_wrap=True,
            )
        if self.options.json_report:
            report.write_json(self.options.json_report, results, info, code)
        if self.options.markdown_report:
            json_path = str(self.options.json_report) if self.options.json_report else None
            pointer = self.options.report_url or json_path
            report.write_markdown(self.options.markdown_report, results, info, code, pointer)
        return code


def _environment(overlay: Mapping[str, str], ws: Workspace) -> tuple[dict[str, str], bool]:
    """The env terraform runs with, and whether `init` must be serialised: it must whenever
    stacks share a plugin cache (parallel inits race on it, hashicorp/terraform#31964)."""
    env = {**os.environ, **overlay}
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    if not env.get("TF_PLUGIN_CACHE_DIR"):
        cache = ws.state_dir / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    return env, True


@contextmanager
def _session(directory: Path, command: str, options: Options) -> Iterator[_Session]:
    console = options.console or Console()
    root = directory.resolve()
    manifest = load_manifest(root)
    applied = options.applied_file.resolve() if options.applied_file else None
    ws = Workspace(root, applied)
    with ExitStack() as stack:
        stack.enter_context(DirLock(ws.lock_path, command))
        ws.ensure()
        env, serialise_init = _environment(options.env, ws)
        binary = find_terraform(options.terraform, env)
        info = check_version(binary, env)
        groups = ProcessGroups()
        runner = Runner(binary, env, groups, color=False, timeout=options.timeout)
        ctx = RunContext(
            manifest=manifest,
            workspace=ws,
            runner=runner,
            terraform_version=info.version,
            init_lock=threading.Lock() if serialise_init else None,
            cache_gate=CacheGate()
            if serialise_init and parse_version(info.version) >= (1, 4)
            else None,
        )
        selected = select(manifest.stacks, options.stacks)
        if options.stacks and not selected:
            raise RunError(f"no stack matches {', '.join(options.stacks)}")
        yield _Session(command, options, console, manifest, ctx, groups, selected)


def _guarded(console: Console | None, body: Callable[[], int]) -> int:
    try:
        return body()
    except RunError as exc:
        (console or Console(stderr=True)).print(
            f"error: {exc}", style="bold red", markup=False, soft_wrap=True
        )
        return report.EXIT_ERROR
    except KeyboardInterrupt:
        return report.EXIT_INTERRUPTED


def plan(
    directory: Path,
    options: Options | None = None,
    *,
    changed: bool = False,
    detailed_exitcode: bool = False,
) -> int:
    """init, plan -out and show -json for every selected stack; exit 0/1 (or 0/2/1)."""
    opts = options or Options()

    def body() -> int:
        with _session(directory, "plan", opts) as s:
            stacks = s.stacks
            if changed:
                applied = hashes.read_applied(s.ctx.workspace.applied_path)
                stacks = tuple(hashes.changed(s.manifest, stacks, applied))
                s.console.print(
                    f"--changed: {len(stacks)} of {len(s.stacks)} stacks changed since their "
                    "last successful apply",
                    highlight=False,
                    soft_wrap=True,
                )
            results = s.run(stacks, lambda st: plan_stack(s.ctx, st), "plan")
            return s.finish(results, detailed=detailed_exitcode)

    return _guarded(opts.console, body)


def _confirm(
    s: _Session,
    pending: Sequence[StackResult],
    verb: str,
    auto_approve: bool,
    confirm: Callable[[str], bool] | None,
) -> bool:
    report.print_pending(s.console, pending, verb)
    if auto_approve:
        return True
    ask = confirm or (lambda text: click.confirm(text, default=False))
    try:
        return ask(f"{verb} {sum(1 for r in pending if r.changes)} stacks?")
    except click.Abort:
        s.console.print(
            f"\nno answer: nothing to {verb} (in CI, where nobody can answer, pass --auto-approve)",
            style="yellow",
            highlight=False,
            soft_wrap=True,
        )
        return False


def _saved(s: _Session, destroy: bool) -> tuple[Stack, ...]:
    ws = s.ctx.workspace
    return tuple(st for st in s.stacks if ws.read_record(st, destroy) is not None)


def _pending_from_records(s: _Session, stacks: Sequence[Stack]) -> list[StackResult]:
    out: list[StackResult] = []
    for st in stacks:
        record = s.ctx.workspace.read_record(st)
        if record is not None:
            out.append(
                StackResult(st, "plan", Status.OK, summary=record.summary, changes=record.changes)
            )
    return out


def apply(
    directory: Path,
    options: Options | None = None,
    *,
    auto_approve: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> int:
    """Apply the saved plans: registry policies first; a stack whose prerequisite failed or has
    no saved plan is blocked."""
    opts = options or Options()

    def body() -> int:
        with _session(directory, "apply", opts) as s:
            stacks = _saved(s, destroy=False)
            if not stacks:
                raise RunError(
                    f"no saved plans in {s.ctx.workspace.plans_dir}: run `tfgen plan` first"
                )
            pending = _pending_from_records(s, stacks)
            if not any(r.changes for r in pending):
                s.console.print("no changes in the saved plans", highlight=False, soft_wrap=True)
            elif not _confirm(s, pending, "apply", auto_approve, confirm):
                s.console.print("nothing applied", style="yellow", soft_wrap=True)
                return report.EXIT_ERROR
            results = s.run(stacks, lambda st: apply_stack(s.ctx, st), "apply")
            return s.finish(results)

    return _guarded(opts.console, body)


def destroy(
    directory: Path,
    options: Options | None = None,
    *,
    auto_approve: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> int:
    """plan -destroy every selected stack, ask, then apply in reverse phase order."""
    opts = options or Options()

    def body() -> int:
        with _session(directory, "destroy", opts) as s:
            planned = s.run(
                s.stacks, lambda st: plan_stack(s.ctx, st, destroy=True), "destroy-plan"
            )
            if s.interrupts.interrupted or any(not r for r in planned):
                return s.finish(planned)
            if any(r.changes and r.stack.kind == "replication" for r in planned):
                s.console.print(
                    REPLICATION_WARNING, style="bold yellow", highlight=False, soft_wrap=True
                )
            if any(r.changes for r in planned) and not _confirm(
                s, planned, "destroy", auto_approve, confirm
            ):
                s.console.print("nothing destroyed", style="yellow", soft_wrap=True)
                return report.EXIT_ERROR
            results = s.run(s.stacks, lambda st: apply_stack(s.ctx, st, destroy=True), "destroy")
            return s.finish(results)

    return _guarded(opts.console, body)


# --- click ----------------------------------------------------------------------------------


def _common(f: Callable[..., None]) -> Callable[..., None]:
    decorators = [
        click.argument(
            "directory",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(),
            required=False,
        ),
        click.option(
            "--stacks",
            "stacks",
            multiple=True,
            metavar="PATTERN",
            help="Only stacks whose id matches this glob (repeatable, or comma-separated).",
        ),
        click.option(
            "--parallelism",
            type=click.IntRange(min=0),
            default=DEFAULT_PARALLELISM,
            show_default=True,
            help="Stacks run at once (0: one per CPU).",
        ),
        click.option(
            "--terraform",
            metavar="PATH",
            help="terraform or tofu binary (default: $TFGEN_TERRAFORM, then PATH).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=1),
            help="Seconds one terraform command may take before it is stopped.",
        ),
        click.option(
            "--env",
            "env",
            multiple=True,
            metavar="KEY=VALUE",
            help="Extra environment for terraform (repeatable).",
        ),
        click.option(
            "--json",
            "json_report",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the JSON report (schema: docs/running.md) here.",
        ),
        click.option(
            "--markdown",
            "markdown_report",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write a Markdown pull-request comment here.",
        ),
        click.option(
            "--applied-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Hashes of the last successful applies, for --changed "
            "(default DIR/.tfgen/applied.json; keep it between CI jobs).",
        ),
        click.option(
            "--report-url",
            metavar="URL",
            help="Where the full report is published; the Markdown comment links it.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else ()


def _options(kw: dict[str, object]) -> Options:
    patterns = tuple(
        p.strip() for raw in _strings(kw.get("stacks")) for p in raw.split(",") if p.strip()
    )
    env: dict[str, str] = {}
    for item in _strings(kw.get("env")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--env")
        env[key] = value
    timeout = kw.get("timeout")
    parallelism = kw.get("parallelism")
    return Options(
        stacks=patterns,
        parallelism=parallelism if isinstance(parallelism, int) else DEFAULT_PARALLELISM,
        terraform=_text(kw.get("terraform")),
        timeout=float(timeout) if isinstance(timeout, int | float) else None,
        env=env,
        json_report=_path(kw.get("json_report")),
        markdown_report=_path(kw.get("markdown_report")),
        report_url=_text(kw.get("report_url")),
        applied_file=_path(kw.get("applied_file")),
    )


def _text(value: object) -> str | None:
    return str(value) if value else None


def _path(value: object) -> Path | None:
    return value if isinstance(value, Path) else None


def _exit(code: int) -> None:
    sys.stdout.flush()
    click.get_current_context().exit(code)


@click.command("plan")
@_common
@click.option("--changed", is_flag=True, help="Only stacks changed since their last apply.")
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 2 changes, 1 any error."
)
def plan_command(directory: Path, changed: bool, detailed_exitcode: bool, **kw: object) -> None:
    """Plan every stack (or --stacks) and save the plans under DIR/.tfgen/plans.

    Runs `init` and `plan -out` in each stack, in parallel, and prints what changes in ECR terms
    (rules, destinations and grants added or removed). Exit 0, or 1 if any stack failed; with
    --detailed-exitcode 0 no changes anywhere, 2 changes, 1 any error.

    \b
    Examples:
      tfgen plan infra/ecr
      tfgen plan infra/ecr --stacks 'prod/*' --parallelism 8
      tfgen plan infra/ecr --detailed-exitcode --json plan.json --markdown plan.md
    """
    _exit(plan(directory, _options(kw), changed=changed, detailed_exitcode=detailed_exitcode))


@click.command("apply")
@_common
@click.option("--auto-approve", is_flag=True, help="Do not ask before applying.")
def apply_command(directory: Path, auto_approve: bool, **kw: object) -> None:
    """Apply the saved plans: registry policies first, then replication.

    Only plans saved by `tfgen plan` are applied, and a stack whose files changed since it was
    planned is refused. A replication stack whose destinations' registry-policy stacks failed is
    not applied.

    \b
    Examples:
      tfgen apply infra/ecr                 # shows the summary and asks
      tfgen apply infra/ecr --auto-approve  # in CI, after a reviewed plan
    """
    _exit(apply(directory, _options(kw), auto_approve=auto_approve))


@click.command("destroy")
@_common
@click.option("--auto-approve", is_flag=True, help="Do not ask before destroying.")
def destroy_command(directory: Path, auto_approve: bool, **kw: object) -> None:
    """Destroy every stack (or --stacks): replication first, then registry policies.

    Removing a replication configuration removes every rule of that registry.

    \b
    Example:
      tfgen destroy infra/ecr --stacks 'old-account/*'
    """
    _exit(destroy(directory, _options(kw), auto_approve=auto_approve))


run_commands = click.Group(
    "run_commands",
    commands=[plan_command, apply_command, destroy_command],
    help="Drive terraform across the rendered stacks.",
)

# For tfgen.cli's `_register(...)`, like tfgen.aws.cli.COMMANDS.
COMMANDS: tuple[click.Command, ...] = (plan_command, apply_command, destroy_command)
