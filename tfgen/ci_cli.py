"""Click commands for reviewers and pipelines: `tfgen explain`, `tfgen init`, `tfgen stacks`.

tfgen.cli registers them on `main_group`. They take `handle_errors` from tfgen.cli when they run,
not when this module is imported, so tfgen.cli may import this module at any point.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from tfgen.errors import TfgenError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_SPEC = "tfgen.yaml"
PIPE_WIDTH = 120  # tables written to a file or a CI log: wider than rich's 80 columns


def _stdout() -> Console:
    """The stdout console; when stdout is not a terminal (a CI log, a file) and COLUMNS is not
    set, one 120 columns wide so tables stay readable."""
    from tfgen import console

    out = console.out
    if out.is_terminal or os.environ.get("COLUMNS"):
        return out
    return Console(
        file=sys.stdout, width=PIPE_WIDTH, no_color=True, highlight=False, soft_wrap=True
    )


def _handled(func: F) -> F:
    """tfgen.cli.handle_errors, looked up at call time (tfgen.cli imports this module)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tfgen.cli import handle_errors

        return handle_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- tfgen explain --------------------------------------------------------------------------------


@click.command(name="explain")
@click.argument("spec", default=DEFAULT_SPEC, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "mermaid", "dot"]),
    default="text",
    show_default=True,
    help="text: words and tables; markdown: for a pull request; mermaid/dot: the topology.",
)
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON instead.")
@_handled
def explain(spec: Path, fmt: str, as_json: bool) -> None:
    """Say who replicates what to where, which grants exist, and the warnings.

    What a reviewer reads in a pull request: per source registry, in plain words, which
    repositories go where (same account or cross-account); a table of the rules; the grant each
    destination registry's policy holds; the creation templates; and the spec's warnings.

    --format mermaid draws the topology as a Mermaid flowchart (one subgraph per account, one node
    per registry, edges labelled with the filters, dotted within an account), which GitHub and
    GitLab render inside Markdown; --format dot writes the same for Graphviz.

    \b
    Examples:
      tfgen explain tfgen.yaml
      tfgen explain tfgen.yaml --format markdown >> "$GITHUB_STEP_SUMMARY"
      tfgen explain tfgen.yaml --format dot | dot -Tsvg > topology.svg
      tfgen explain tfgen.yaml --json | jq '.replication[].text'
    """
    from tfgen import explain as ex
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec

    if as_json and fmt != "text":
        raise click.UsageError("--json and --format are alternatives; give one")
    state = compile_loaded(load_spec(spec))
    explanation = ex.explain(state, str(spec))
    if as_json:
        click.echo(json.dumps(ex.to_json(explanation, state.warnings), indent=2))
    elif fmt == "text":
        out = _stdout()
        for item in ex.renderables(explanation):
            out.print(item)
    else:
        click.echo(ex.render(explanation, fmt), nl=False)


# --- tfgen init -----------------------------------------------------------------------------------


@click.command(name="init")
@click.argument("path", default=DEFAULT_SPEC, required=False, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@_handled
def init(path: Path, force: bool) -> None:
    """Write a commented starter tfgen.yaml (to PATH, default ./tfgen.yaml).

    The starter is valid as written: two accounts, one replication entry, a registry policy and a
    creation template, with every other field of the spec shown commented out with its default.
    Replace the example ids and names with yours. An existing file is never overwritten without
    --force; when PATH is a directory the file is PATH/tfgen.yaml.

    \b
    Examples:
      tfgen init
      tfgen init infra/tfgen.yaml
      tfgen init --force && tfgen validate && tfgen explain
    """
    from tfgen import console
    from tfgen.starter import write_starter

    written = write_starter(path, force=force)
    console.info(f"wrote {written}")
    console.info(
        f"next: edit the accounts and replication, then `tfgen validate {written}`, "
        f"`tfgen explain {written}` and `tfgen render {written} --out infra/ecr`"
    )


# --- tfgen stacks ---------------------------------------------------------------------------------


def _read_manifest(directory: Path) -> dict[str, Any]:
    from tfgen.render.writer import MANIFEST, read_manifest

    manifest = read_manifest(directory)
    if manifest is None:
        raise TfgenError(
            f"{directory / MANIFEST} not found: run `tfgen render SPEC --out {directory}` first"
        )
    return manifest


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
    "--include-orphaned",
    is_flag=True,
    help="Also list stacks gone from the spec but kept (not yet --prune'd).",
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
@_handled
def stacks(
    directory: Path,
    fmt: str,
    as_json: bool,
    include_orphaned: bool,
    job_prefix: str,
    extends: str,
    includes: tuple[str, ...],
    stage: str | None,
) -> None:
    """List the rendered stacks by phase, in shapes CI systems take directly.

    Reads DIR/tfgen.manifest.json. Phase 1 (registry-policy) must be applied before phase 2
    (replication); both phases are always listed, even when empty.

    --json prints {"phases": [{"phase": 1, "name": "registry-policy", "has_stacks": true,
    "count": N, "matrix": {"include": [{"stack", "slug", "path", "dir", "kind", "phase", "account",
    "account_id", "regions", "depends_on"}, ...]}}, {"phase": 2, ...}], "all": {"has_stacks",
    "count", "matrix"}}. Each "matrix" is a GitHub Actions strategy.matrix as is; "all" holds every
    stack, for plans, which need no order. GitHub fails a job whose matrix is empty: guard it with
    has_stacks.

    --format github prints phase1=<matrix>, phase1_has_stacks=true|false, phase1_count=N (and the
    same for phase2 and all) for `>> "$GITHUB_OUTPUT"`.

    --format gitlab prints a child pipeline for `trigger: include: - artifact:` (GitLab's
    parallel:matrix must be static, so a generated child pipeline is how a stack list fans out):
    one job per stack, extending --extends, with the stack in TFGEN_STACK, TFGEN_STACK_DIR, ...;
    one stage per phase.

    \b
    Examples:
      tfgen stacks infra/ecr
      tfgen stacks infra/ecr --json | jq '.phases[0].matrix'
      tfgen stacks infra/ecr --format github >> "$GITHUB_OUTPUT"
      tfgen stacks infra/ecr --format gitlab --include .gitlab/tfgen-jobs.yml \\
          --extends .tfgen-apply --job-prefix apply > apply-pipeline.yml
    """
    from tfgen import pipelines

    if as_json:
        if fmt not in ("table", "json"):
            raise click.UsageError("--json and --format are alternatives; give one")
        fmt = "json"
    manifest = _read_manifest(directory)
    where = directory.as_posix()
    if fmt == "gitlab":
        options = pipelines.GitlabOptions(
            job_prefix=job_prefix, extends=extends, includes=includes, stage=stage
        )
        click.echo(
            pipelines.gitlab_child_pipeline(
                manifest, where, options, include_orphaned=include_orphaned
            ),
            nl=False,
        )
        return
    phases = pipelines.stack_phases(manifest, where, include_orphaned=include_orphaned)
    if fmt == "json":
        click.echo(json.dumps(phases, indent=2))
    elif fmt == "github":
        click.echo(pipelines.github_outputs(phases), nl=False)
    else:
        _print_table(phases)


def _print_table(phases: dict[str, Any]) -> None:
    from rich.table import Table

    from tfgen import console, pipelines

    table = Table(title_justify="left")
    for header in ("Phase", "Stack", "Account id", "Regions", "Depends on"):
        table.add_column(header, overflow="fold", no_wrap=header != "Depends on")
    for row in pipelines.table_rows(phases):
        table.add_row(*row)
    if phases["count"]:
        _stdout().print(table)
    for name in pipelines.empty_phases(phases):
        console.info(f"phase {name}: no stacks")
    console.info(f"{phases['count']} stack(s) in {phases['directory']}")
