"""`tfgen verify`, `import`, `audit`, `lock`: commands over live registries (tfgen.aws).

Failures are raised as TfgenError (exit 1); results return the exit code: 0 fine, 2 drift or gaps,
1 error. Before any registry is read, one call checks that AWS answers and takes the credentials;
on a terminal a progress bar shows the reads; `--timeout` bounds the whole command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tfgen import console
from tfgen.aws.parallel import DEFAULT_JOBS, Reads
from tfgen.commands.common import load_state, spec_argument
from tfgen.constants import DEFAULT_SPEC
from tfgen.errors import TfgenError
from tfgen.exitcodes import ExitCode

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

_json = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_profile = click.option(
    "--profile", default=None, help="AWS profile of the base credentials (else the ambient ones)."
)
_jobs = click.option(
    "--jobs",
    "-j",
    default=DEFAULT_JOBS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Registries read in parallel.",
)
_timeout = click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="Stop after this long: what is not read by then is an error (no AWS call waits longer).",
)


class _Bar:
    """The reads' progress on a terminal (stderr), for tfgen.aws.parallel.Reads."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._total = 0

    def add(self, count: int, what: str) -> None:
        self._total += count
        if self._task is None:
            self._task = self._progress.add_task(f"reading {what}", total=self._total)
        else:
            self._progress.update(self._task, description=f"reading {what}", total=self._total)

    def advance(self) -> None:
        if self._task is not None:
            self._progress.advance(self._task)


@contextmanager
def reads_progress(jobs: int, timeout: float | None) -> Iterator[Reads]:
    """How the reads run; with a progress bar when stderr is a terminal (and not -q)."""
    err = console.err
    if not err.is_terminal or console.verbosity < 0:
        yield Reads(jobs, timeout)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    with Progress(*columns, console=err, transient=True) as progress:
        yield Reads(jobs, timeout, _Bar(progress))


@click.command()
@spec_argument
@_json
@_profile
@_jobs
@_timeout
def verify(
    spec: Path, as_json: bool, profile: str | None, jobs: int, timeout: float | None
) -> ExitCode:
    """Compare every managed registry with the spec: in sync, drift or missing.

    Reads the replication configuration (DescribeRegistry), the registry policy
    (GetRegistryPolicy) and, where the spec has them, the creation templates of each registry
    tfgen manages, through each account's role_arn. Differences that do not change what ECR does
    are not drift: statement, rule, destination and filter order; a principal written as an
    account id or as its root ARN; a string or a one-element list; the case of action names.

    Exit 0 when every registry is in sync, 2 when any drifted or is missing, 1 on errors.

    \b
    Example:
      tfgen verify tfgen.yaml --json | jq '.registries[] | select(.status != "in_sync")'
    """
    from tfgen.aws.output import verify_json, verify_text
    from tfgen.aws.sessions import Sessions
    from tfgen.aws.verify import exit_status
    from tfgen.aws.verify import verify as run_verify

    console.json_errors = as_json  # a failure answers on stdout too
    state = load_state(spec)
    sessions = Sessions(state.accounts, profile=profile, timeout=timeout)
    sessions.preflight()
    with reads_progress(jobs, timeout) as reads:
        verdicts = run_verify(state, sessions, reads)
    code = exit_status(verdicts)
    if as_json:
        click.echo(json.dumps(verify_json(verdicts, code), indent=2))
    else:
        for line in verify_text(verdicts, only_findings=console.verbosity < 0):
            console.line(line)
    return code


@click.command()
@spec_argument
@click.option(
    "--repository", "prefix", default=None, help="Only source repositories with this name prefix."
)
@_json
@_profile
@_jobs
@_timeout
def audit(
    spec: Path,
    prefix: str | None,
    as_json: bool,
    profile: str | None,
    jobs: int,
    timeout: float | None,
) -> ExitCode:
    """List images that never reached a destination registry.

    For every source repository a replication rule matches, compares its images (by digest)
    with the same repository in each of the rule's destinations. ECR replicates only images
    pushed after a rule exists: older images are never copied and must be pushed again.

    Exit 0 when nothing is missing, 2 when images are missing, 1 on errors.

    \b
    Example:
      tfgen audit tfgen.yaml --repository team-a/
    """
    from tfgen.aws.audit import audit as run_audit
    from tfgen.aws.output import audit_json, audit_text
    from tfgen.aws.sessions import Sessions

    console.json_errors = as_json  # a failure answers on stdout too
    state = load_state(spec)
    sessions = Sessions(state.accounts, profile=profile, timeout=timeout)
    sessions.preflight()
    with reads_progress(jobs, timeout) as reads:
        report = run_audit(state, sessions, prefix, reads)
    code = ExitCode.ERROR if report.errors else (ExitCode.CHANGES if report.gaps else ExitCode.OK)
    if as_json:
        click.echo(json.dumps(audit_json(report), indent=2))
    else:
        for line in audit_text(report, only_findings=console.verbosity < 0):
            console.line(line)
        for error in report.errors:
            console.error(f"error: {error}")
    return code


@click.command(name="import")
@click.option(
    "--account",
    "account_pairs",
    multiple=True,
    required=True,
    metavar="NAME=ID",
    help="An account to read, and its name in the spec; repeat for each account.",
)
@click.option(
    "--regions", required=True, help="Comma-separated Regions to read, e.g. us-east-1,eu-west-1."
)
@click.option(
    "--role-arn",
    default=None,
    help="Role to assume in each account, with {account_id} or {account} (becomes "
    "defaults.role_arn). Without it the ambient credentials are used for every account.",
)
@click.option(
    "--out",
    default=DEFAULT_SPEC,
    show_default=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write the spec; '-' for stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@_profile
@_jobs
@_timeout
def import_(
    account_pairs: tuple[str, ...],
    regions: str,
    role_arn: str | None,
    out: Path,
    force: bool,
    profile: str | None,
    jobs: int,
    timeout: float | None,
) -> ExitCode:
    """Write a spec from the live registries of existing accounts.

    Replication rules become `replication` entries (identical rules of one account in several
    Regions share an entry); replication grants become each account's `grants` settings where
    tfgen's grant allows exactly the same, and every other statement is kept under
    `registry_policies`; creation templates become `creation_templates`. The written spec is
    compiled back and compared with what was read, and every difference is printed.

    Exit 0 when the spec was written (differences from the live state are printed); 1 on
    errors: nothing is written, except a spec that does not validate, which is written for
    editing by hand.

    \b
    Example:
      tfgen import --account build=111111111111 --account prod=222222222222 \\
        --regions us-east-1,eu-west-1 --role-arn 'arn:aws:iam::{account_id}:role/tfgen' \\
        --out tfgen.yaml
    """
    from tfgen.aws.import_run import account_states, parse_accounts, parse_regions, run_import
    from tfgen.aws.sessions import Sessions

    accounts = parse_accounts(account_pairs)
    region_list, partition = parse_regions(regions)
    to_stdout = str(out) == "-"
    if not to_stdout and out.exists() and not force:
        raise TfgenError(f"{out} exists; pass --force to overwrite it, or choose another --out")
    sessions = Sessions(
        account_states(accounts, role_arn, partition), profile=profile, timeout=timeout
    )
    sessions.preflight()
    with reads_progress(jobs, timeout) as reads:
        result = run_import(
            sessions, accounts, region_list, role_arn=role_arn, partition=partition, reads=reads
        )
    if to_stdout:
        click.echo(result.text, nl=False)
    else:
        try:
            out.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            raise TfgenError(f"cannot write {out}: {exc}") from None
        console.info(f"{out}: written from {result.registries} registries with settings")
    for note in result.notes:
        console.warning(f"note: {note}")
    for warning in result.warnings:
        console.warning(warning)
    if result.errors:
        for error in result.errors:
            console.error(error)
        raise TfgenError("the imported spec does not validate (see above); edit it by hand")
    if result.differences:
        console.warning(
            "round trip: compiling the spec gives a state that differs from the live one as "
            "follows (the first apply makes these changes):"
        )
        for difference in result.differences:
            console.warning(f"  {difference}")
    else:
        console.info("round trip: compiling the spec gives exactly the live state")
    return ExitCode.OK


@click.command()
@spec_argument
@click.option("--refresh", is_flag=True, help="Re-read every target, not only new ones.")
@_profile
@click.option(
    "--role-arn",
    default=None,
    help="Role to assume for the Organizations API (management or delegated admin account).",
)
@_timeout
def lock(
    spec: Path, refresh: bool, profile: str | None, role_arn: str | None, timeout: float | None
) -> ExitCode:
    """Resolve Organizations targets into accounts and write tfgen.lock.json beside the spec.

    A `from`/`to` entry may name `organizational_unit: ou-...` (its accounts and those of all
    its child OUs) or `organization: true` (every account). Only ACTIVE accounts count. The lock
    makes every other command work offline and reproducibly; commit it. Without --refresh only
    targets missing from the lock are read; with it, all are. Either way the accounts each
    target gained or lost are printed.

    Exit 0, or 1 on errors.

    \b
    Examples:
      tfgen lock tfgen.yaml
      tfgen lock tfgen.yaml --refresh   # after accounts joined or left an OU
    """
    from tfgen.aws.orglock import update_lock
    from tfgen.aws.output import lock_text
    from tfgen.aws.sessions import organizations_client

    with reads_progress(1, timeout) as reads:
        result = update_lock(
            spec,
            refresh=refresh,
            client=lambda: organizations_client(
                profile=profile, role_arn=role_arn, timeout=timeout
            ),
            progress=reads.progress,
        )
    if console.verbosity >= 0:  # what changed; -q: only errors
        for line in lock_text(result):
            console.line(line)
    if result.lock is not None:
        load_state(spec)  # the spec with this lock must still be valid
    return ExitCode.OK
