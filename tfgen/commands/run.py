"""`tfgen plan`, `apply`, `destroy`: terraform across the rendered stacks (tfgen.run), then the
reports (tfgen.report). This is the layer that may use both, since the report sits above the run.

`plan`, `apply` and `destroy` are also plain functions returning an ExitCode (docs/running.md).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from tfgen import console, report
from tfgen.aws.parallel import DEFAULT_JOBS
from tfgen.exitcodes import ExitCode
from tfgen.manifest import ManifestStack
from tfgen.run import hashes
from tfgen.run.errors import RunError
from tfgen.run.model import StackResult, Status
from tfgen.run.passthrough import (
    PassThrough,
    backend_config_item,
    duration_problem,
    terraform_habit,
)
from tfgen.run.scheduler import workers
from tfgen.run.selection import split_patterns
from tfgen.run.session import DEFAULT_PARALLELISM, RunOptions, Session, open_session
from tfgen.run.stacks import apply_stack, plan_stack
from tfgen.words import plural

REPLICATION_WARNING = (
    "warning: destroying a replication stack deletes that registry's whole replication "
    "configuration: every rule in the registry goes, including rules tfgen did not write"
)


@dataclass(frozen=True)
class Options(RunOptions):
    """RunOptions plus where the reports go."""

    json_report: Path | None = None
    markdown_report: Path | None = None
    # Where the full report can be read (a CI artifact URL); the Markdown comment links it.
    report_url: str | None = None

    def report_files(self) -> report.ReportFiles:
        return report.ReportFiles(self.json_report, self.markdown_report, self.report_url)


def _run(
    s: Session,
    stacks: Sequence[ManifestStack],
    action: Callable[[ManifestStack], StackResult],
    name: str,
) -> tuple[StackResult, ...]:
    console.detail(f"terraform: {s.ctx.runner.binary} ({s.ctx.terraform_version})")
    # Progress is chatter (stderr, nothing with -q); the table at the end is the output (stdout).
    with report.LiveProgress(console.err, stacks, name, quiet=console.verbosity < 0) as progress:
        return s.run(stacks, action, name, progress)


def _finish(
    s: Session, options: Options, results: Sequence[StackResult], detailed: bool
) -> ExitCode:
    info = report.RunInfo(
        command=s.command,
        directory=s.manifest.root,
        terraform=s.ctx.runner.binary,
        terraform_version=s.ctx.terraform_version,
        started_at=s.started,
        duration=time.time() - s.started,
        parallelism=workers(options.parallelism),
        detailed_exitcode=detailed,
        interrupted=s.interrupts.interrupted,
    )
    files = options.report_files()
    return report.publish(
        console.out,
        results,
        info,
        files,
        s.interrupts.signal_name,
        errors=console.err,
        table=console.verbosity >= 0,
    )


def plan(
    directory: Path,
    options: Options | None = None,
    *,
    changed: bool = False,
    plan_all: bool = False,
    detailed_exitcode: bool = False,
    verify_jobs: int = DEFAULT_JOBS,
) -> ExitCode:
    """init, plan -out and show -json for every selected stack that may differ (every one with
    `plan_all`; with `changed`, those whose files changed); exit 0/1 (or 0/2/1)."""
    if changed and plan_all:
        raise RunError("--changed and --all contradict each other: give one")
    opts = options or Options()
    with open_session(directory, "plan", opts) as s:
        stacks = s.stacks
        verified: tuple[StackResult, ...] = ()
        why: dict[str, str] = {}
        if changed:
            applied = hashes.read_applied(s.ctx.workspace.applied_path)
            stacks = tuple(hashes.changed(s.manifest, stacks, applied))
            console.info(
                f"--changed: {len(stacks)} of {plural(len(s.stacks), 'stack')} changed since "
                "their last successful apply"
            )
        elif not plan_all:
            stacks, verified, why = _triage(s, verify_jobs)
        results = _run(s, stacks, lambda st: plan_stack(s.ctx, st), "plan") if stacks else ()
        results = tuple(replace(r, planned_because=why.get(r.stack.id, "")) for r in results)
        order = {st.id: i for i, st in enumerate(s.stacks)}
        merged = sorted((*results, *verified), key=lambda r: order[r.stack.id])
        return _finish(s, opts, merged, detailed_exitcode)


def _triage(
    s: Session, verify_jobs: int
) -> tuple[tuple[ManifestStack, ...], tuple[StackResult, ...], dict[str, str]]:
    """The stacks to plan, the in-sync ones as results (their records written), and why each
    planned stack is planned (tfgen.triage)."""
    from tfgen import triage
    from tfgen.commands.live import reads_progress

    applied = hashes.read_applied(s.ctx.workspace.applied_path)
    with reads_progress(verify_jobs, None) as reads:
        found = triage.decide(s.manifest, s.stacks, applied, reads)
    verified = []
    for d in found.in_sync:
        assert d.in_sync is not None
        s.ctx.workspace.write_in_sync(d.stack, d.in_sync.content_hash, d.in_sync.verified_at)
        verified.append(
            StackResult(
                d.stack, "verify", Status.OK, started=d.in_sync.verified_at, in_sync=d.in_sync
            )
        )
    planned = found.planned
    reasons = Counter(d.why.split(":")[0] for d in planned)
    console.info(
        f"{len(verified)} of {plural(len(s.stacks), 'stack')} in sync, verified live "
        f"({plural(found.registries_read, 'registry')} read in {found.seconds:.1f}s); planning "
        f"{len(planned)}"
        + (": " + ", ".join(f"{n} {why}" for why, n in reasons.most_common()) if planned else "")
        + " (--all plans every stack)"
    )
    return tuple(d.stack for d in planned), tuple(verified), {d.stack.id: d.why for d in planned}


def _confirm(
    pending: Sequence[StackResult],
    verb: str,
    auto_approve: bool,
    confirm: Callable[[str], bool] | None,
) -> bool:
    if auto_approve:
        if console.verbosity >= 0:
            report.print_pending(console.out, pending, verb)
        return True
    report.print_pending(console.out, pending, verb)  # what the question is about, even with -q
    ask = confirm or (lambda text: click.confirm(text, default=False, err=True))
    try:
        return ask(f"{verb} {plural(sum(1 for r in pending if r.changes), 'stack')}?")
    except click.Abort:
        console.error(
            f"no answer: nothing to {verb} (in CI, where nobody can answer, pass --auto-approve)"
        )
        return False


def apply(
    directory: Path,
    options: Options | None = None,
    *,
    auto_approve: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> ExitCode:
    """Apply the saved plans: registry policies first; a stack whose prerequisite failed, or has
    no saved plan and is not known to be applied, is blocked."""
    opts = options or Options()
    with open_session(directory, "apply", opts) as s:
        stacks = s.saved()
        if not stacks and s.stacks and len(s.in_sync()) == len(s.stacks):
            console.info(
                f"nothing to apply: the last plan found {plural(len(s.stacks), 'stack')} in "
                "sync, verified live, with the files they have now"
            )
            return _finish(s, opts, (), False)
        if not stacks:
            raise RunError(f"no saved plans in {s.ctx.workspace.plans_dir}: run `tfgen plan` first")
        pending = s.pending(stacks)
        if not any(r.changes for r in pending):
            console.info("no changes in the saved plans")
        elif not _confirm(pending, "apply", auto_approve, confirm):
            console.error("nothing applied")
            return ExitCode.ERROR
        results = _run(s, stacks, lambda st: apply_stack(s.ctx, st), "apply")
        return _finish(s, opts, results, False)


def destroy(
    directory: Path,
    options: Options | None = None,
    *,
    auto_approve: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> ExitCode:
    """plan -destroy every selected stack, ask, then apply in reverse phase order."""
    opts = options or Options()
    with open_session(directory, "destroy", opts) as s:
        planned = _run(s, s.stacks, lambda st: plan_stack(s.ctx, st, destroy=True), "destroy-plan")
        if s.interrupts.interrupted or any(not r for r in planned):
            return _finish(s, opts, planned, False)
        if any(r.changes and r.stack.kind == "replication" for r in planned):
            # Before a question it is shown whatever the verbosity: it is what is being asked.
            (console.warning if auto_approve else console.error)(REPLICATION_WARNING)
        if any(r.changes for r in planned) and not _confirm(
            planned, "destroy", auto_approve, confirm
        ):
            console.error("nothing destroyed")
            return ExitCode.ERROR
        results = _run(s, s.stacks, lambda st: apply_stack(s.ctx, st, destroy=True), "destroy")
        return _finish(s, opts, results, False)


# --- click ----------------------------------------------------------------------------------------


class _TerraformCommand(click.Command):
    """A command that answers Terraform habits (`-var`, `-chdir=DIR`, `-lock-timeout=5m`) with
    the tfgen way, as a usage error, before click reads them as bundles of short options."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:
            if arg == "--":
                break
            habit = terraform_habit(arg, self.name or "plan")
            if habit is not None:
                raise click.UsageError(habit, ctx)
        return super().parse_args(ctx, args)


def _complete_stacks(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Stack ids of the manifest in DIR (the argument, default .), for shell completion."""
    from tfgen import manifest
    from tfgen.errors import TfgenError

    # While the option's value is incomplete, click leaves DIR unparsed, in ctx.args.
    unparsed = [a for a in ctx.args if not a.startswith("-")]
    directory = Path(unparsed[0]) if unparsed else ctx.params.get("directory") or Path()
    done, _, current = incomplete.rpartition(",")  # --stacks a,b<TAB>
    prefix = f"{done}," if done else ""
    try:
        found = manifest.read(Path(directory))
    except (TfgenError, OSError):
        return []
    if found is None:
        return []
    return [CompletionItem(prefix + s.id) for s in found.ordered() if s.id.startswith(current)]


def _lock_timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        problem = duration_problem(value)
        if problem is not None:
            raise click.BadParameter(problem)
    return value


def _backend_config(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    try:
        return tuple(backend_config_item(v, Path.cwd()) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
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
            shell_complete=_complete_stacks,
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
            "--keep-going",
            is_flag=True,
            help="Run every stack even when the first ones fail alike (no credentials, no "
            "provider download, ...); by default the run stops starting stacks then.",
        ),
        click.option(
            "--env",
            "env",
            multiple=True,
            metavar="KEY=VALUE",
            help="Extra environment for terraform (repeatable).",
        ),
        click.option(
            "--lock-timeout",
            metavar="DURATION",
            callback=_lock_timeout,
            help="How long plan and apply wait for the Terraform state lock (e.g. 5m).",
        ),
        click.option(
            "--backend-config",
            multiple=True,
            metavar="KEY=VALUE|FILE",
            callback=_backend_config,
            help="Backend setting for every `terraform init`, or a file of them (repeatable).",
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


_refresh = click.option(
    "--refresh",
    type=click.BOOL,
    default=True,
    show_default=True,
    metavar="true|false",
    help="--refresh=false plans without reading the live objects first (Terraform's -refresh).",
)


def _options(kw: dict[str, Any]) -> Options:
    env: dict[str, str] = {}
    for item in kw["env"]:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--env")
        env[key] = value
    return Options(
        stacks=split_patterns(kw["stacks"]),
        parallelism=kw["parallelism"],
        terraform=kw["terraform"] or None,
        timeout=kw["timeout"],
        env=env,
        applied_file=kw["applied_file"],
        keep_going=kw["keep_going"],
        flags=PassThrough(
            lock_timeout=kw["lock_timeout"],
            refresh=kw.get("refresh", True),
            backend_config=kw["backend_config"],
        ),
        json_report=kw["json_report"],
        markdown_report=kw["markdown_report"],
        report_url=kw["report_url"] or None,
    )


@click.command("plan", cls=_TerraformCommand)
@_common
@_refresh
@click.option(
    "--all",
    "plan_all",
    is_flag=True,
    help="Plan every stack, also those proven in sync (a scheduled full plan).",
)
@click.option(
    "--changed",
    is_flag=True,
    help="Only stacks whose files changed since their last apply; reads nothing live.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 no changes, 2 changes, 1 any error."
)
@click.option(
    "--verify-jobs",
    type=click.IntRange(1, 64),
    default=DEFAULT_JOBS,
    show_default=True,
    help="Registries read in parallel to find the stacks in sync.",
)
def plan_command(
    directory: Path,
    plan_all: bool,
    changed: bool,
    detailed_exitcode: bool,
    verify_jobs: int,
    **kw: Any,
) -> ExitCode:
    """Plan the stacks that may differ (or --all, or --stacks) and save the plans.

    A stack whose files are those of its last successful apply (DIR/.tfgen/applied.json or
    --applied-file) and whose registries, read live as `tfgen verify` reads them, hold what it
    makes true is in sync: it is reported with that evidence and not planned. Every other stack
    gets `init` and `plan -out`, in parallel, and what changes is shown in ECR terms (rules,
    destinations and grants added or removed). Exit 0, or 1 if any stack failed; with
    --detailed-exitcode 0 no changes anywhere, 2 changes, 1 any error.

    \b
    Examples:
      tfgen plan infra/ecr
      tfgen plan infra/ecr --all --detailed-exitcode   # the scheduled full plan
      tfgen plan infra/ecr --stacks 'prod/*' --parallelism 8
      tfgen plan infra/ecr --detailed-exitcode --json plan.json --markdown plan.md
      tfgen plan infra/ecr --lock-timeout 5m --refresh=false --backend-config bucket=other
    """
    return plan(
        directory,
        _options(kw),
        changed=changed,
        plan_all=plan_all,
        detailed_exitcode=detailed_exitcode,
        verify_jobs=verify_jobs,
    )


@click.command("apply", cls=_TerraformCommand)
@_common
@click.option("--auto-approve", is_flag=True, help="Do not ask before applying.")
def apply_command(directory: Path, auto_approve: bool, **kw: Any) -> ExitCode:
    """Apply the saved plans: registry policies first, then replication.

    Only plans saved by `tfgen plan` are applied, and a stack whose files changed since it was
    planned is refused. A replication stack is not applied (it is blocked) when a destination's
    registry-policy stack failed, or has no saved plan and is not known to be applied as it is.

    \b
    Examples:
      tfgen apply infra/ecr                 # shows the summary and asks
      tfgen apply infra/ecr --auto-approve  # in CI, after a reviewed plan
    """
    return apply(directory, _options(kw), auto_approve=auto_approve)


@click.command("destroy", cls=_TerraformCommand)
@_common
@_refresh
@click.option("--auto-approve", is_flag=True, help="Do not ask before destroying.")
def destroy_command(directory: Path, auto_approve: bool, **kw: Any) -> ExitCode:
    """Destroy every stack (or --stacks): replication first, then registry policies.

    Removing a replication configuration removes every rule of that registry.

    \b
    Example:
      tfgen destroy infra/ecr --stacks 'old-account/*'
    """
    return destroy(directory, _options(kw), auto_approve=auto_approve)
