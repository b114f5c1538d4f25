"""`tfgen stacks`: the rendered stacks by phase, in shapes CI systems take (tfgen.ciformats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tfgen import console
from tfgen.ciformats import MAX_JOBS
from tfgen.exitcodes import ExitCode
from tfgen.words import plural


@click.command(name="stacks")
@click.argument(
    "directory",
    default=".",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "github", "gitlab"]),
    default="table",
    show_default=True,
    help="table: for people; json: per-phase matrices; github: lines for $GITHUB_OUTPUT; "
    "gitlab: a child pipeline.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option(
    # Retired stacks are always listed now: their plans destroy what they managed.
    "--include-orphaned",
    is_flag=True,
    hidden=True,
)
@click.option(
    "--job-prefix",
    default="plan",
    show_default=True,
    help="gitlab: job names are '<prefix> <stack id>'.",
)
@click.option(
    "--extends",
    default=".tfgen-stack",
    show_default=True,
    help="gitlab: the hidden job every stack job extends (it holds the script).",
)
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="FILE",
    help="gitlab: a local file the child pipeline includes (repeatable).",
)
@click.option(
    "--stage",
    default=None,
    metavar="NAME",
    help="gitlab: put every job in this one stage (plans need no order); "
    "default: one stage per phase.",
)
@click.option(
    "--max-jobs",
    type=click.IntRange(min=1),
    default=MAX_JOBS,
    show_default=True,
    help="Jobs per matrix (GitHub allows 256); above it several stacks share a job.",
)
def stacks(
    directory: Path,
    fmt: str,
    as_json: bool,
    include_orphaned: bool,
    job_prefix: str,
    extends: str,
    includes: tuple[str, ...],
    stage: str | None,
    max_jobs: int,
) -> ExitCode:
    """List the rendered stacks by phase, in shapes CI systems take directly.

    Reads DIR/tfgen.manifest.json, and refuses a tree that does not match it (a listed file
    missing or changed, an unlisted .tf file in a stack or module). Phase 1 (registry-policy) must be applied before phase 2
    (replication); both phases are always listed, even when empty.

    --json prints {"phases": [{"phase": 1, "name": "registry-policy", "has_stacks": true,
    "count": N, "matrix": {"include": [{"stack", "slug", "path", "dir", "kind", "phase", "account",
    "account_id", "regions", "depends_on"}, ...]}, "job_count": J, "jobs": {"include": [{"job",
    "slug", "stacks", "paths", "count", ...}, ...]}}, {"phase": 2, ...}], "all": {...}}. "matrix"
    has one entry per stack; "jobs" at most --max-jobs (GitHub allows 256 per matrix), several
    stacks each when there are more (`tfgen plan --stacks <stacks>` runs one job). Both are a
    GitHub Actions strategy.matrix as is; "all" holds every stack, for plans, which need no
    order. GitHub fails a job whose matrix is empty: guard it with has_stacks.

    --format github prints phase1=<jobs>, phase1_has_stacks=true|false, phase1_count=N,
    phase1_jobs=J (and the same for phase2 and all) for `>> "$GITHUB_OUTPUT"`.

    --format gitlab prints a child pipeline for `trigger: include: - artifact:` (GitLab's
    parallel:matrix must be static, so a generated child pipeline is how a stack list fans out):
    one job per stack (per run of stacks above --max-jobs a phase), extending --extends, with
    its stacks in TFGEN_STACKS and TFGEN_STACK_PATHS; one stage per phase.

    \b
    Examples:
      tfgen stacks infra/ecr
      tfgen stacks infra/ecr --json | jq '.phases[0].matrix'
      tfgen stacks infra/ecr --format github >> "$GITHUB_OUTPUT"
      tfgen stacks infra/ecr --format gitlab --include .gitlab/tfgen-jobs.yml \\
          --extends .tfgen-apply --job-prefix apply > apply-pipeline.yml
    """
    from tfgen import ciformats, manifest

    if as_json:
        if fmt not in ("table", "json"):
            raise click.UsageError("--json and --format are alternatives; give one")
        fmt = "json"
    del include_orphaned  # accepted for pipelines written for tfgen 0.1
    console.json_errors = fmt == "json"  # a failure answers on stdout too
    tree = manifest.load(directory, command="stacks")
    manifest.check_tree(tree)  # CI runs what this lists: only what tfgen rendered
    listed = tree.ordered()
    where = directory.as_posix()
    if fmt == "gitlab":
        options = ciformats.GitlabOptions(
            job_prefix=job_prefix,
            extends=extends,
            includes=includes,
            stage=stage,
            max_jobs=max_jobs,
        )
        click.echo(ciformats.gitlab_child_pipeline(listed, where, options), nl=False)
        return ExitCode.OK
    phases = ciformats.stack_phases(listed, where, max_jobs)
    if fmt == "json":
        click.echo(json.dumps(phases, indent=2))
    elif fmt == "github":
        click.echo(ciformats.github_outputs(phases), nl=False)
    else:
        _print_table(phases)
    return ExitCode.OK


def _print_table(phases: dict[str, Any]) -> None:
    from rich.table import Table

    from tfgen import ciformats

    table = Table(title_justify="left")
    for header in ("Phase", "Stack", "Account id", "Regions", "Depends on"):
        table.add_column(header, overflow="fold", no_wrap=header != "Depends on")
    for row in ciformats.table_rows(phases):
        table.add_row(*row)
    if phases["count"]:
        console.out.print(table)
    for name in ciformats.empty_phases(phases):
        console.info(f"phase {name}: no stacks")
    console.info(f"{plural(phases['count'], 'stack')} in {phases['directory']}")
