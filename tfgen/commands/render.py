"""`tfgen render`: write the Terraform tree of a spec (tfgen.render.update does the work)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from tfgen import console
from tfgen.commands.common import spec_argument
from tfgen.exitcodes import ExitCode
from tfgen.render.update import RenderOptions, TreeUpdate, update_tree
from tfgen.words import plural


@click.command()
@spec_argument
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the rendered tree (created if missing).",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Drop stacks and Regions an earlier render retired, once their removal is applied.",
)
@click.option(
    "--applied-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --prune: the record of the last applies (default DIR/.tfgen/applied.json; the "
    "same file as plan/apply's --applied-file).",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if any file would change (for CI)."
)
@click.option(
    "--atlantis",
    is_flag=True,
    help="Also write atlantis.yaml (at the repository root) with one project per stack.",
)
@click.option(
    "--adopt",
    "adopt_all",
    is_flag=True,
    help="Add Terraform import blocks so the first apply takes over existing settings.",
)
@click.option(
    "--adopt-account",
    "adopt_accounts",
    multiple=True,
    metavar="NAME",
    help="Like --adopt, for this account only (repeatable).",
)
def render(
    spec: Path,
    out_dir: Path,
    prune: bool,
    applied_file: Path | None,
    check: bool,
    atlantis: bool,
    adopt_all: bool,
    adopt_accounts: tuple[str, ...],
) -> ExitCode:
    """Write the Terraform tree: modules/, stacks/<account>/{registry-policy,replication}/.

    Only changed files are written; a re-render of an unchanged spec touches nothing. Files tfgen
    did not write are never touched.

    What left the spec is retired, not deleted: a stack gone from the spec is rendered without
    module calls (its plan destroys what it managed), and a Region gone from a stack keeps its
    provider (the plan destroys the Region's settings). Once that plan is applied, --prune drops
    them; it refuses while the local state still holds their resources, or, for remote state,
    while tfgen has no record of the apply (see --applied-file).

    With --adopt (or --adopt-account NAME), each stack also gets imports.tf: Terraform import
    blocks for the replication configuration, registry policy and creation templates that already
    exist, so the first apply takes them over. Importing an object that does not exist fails the
    plan, so adopt only accounts whose settings exist (see `tfgen import`). Applying replaces
    each registry's whole registry policy: render reads the live policies (through each
    account's role, as verify does) and lists the statements the spec would drop; offline it
    says it could not.

    \b
    Examples:
      tfgen render tfgen.yaml --out infra/ecr
      tfgen render tfgen.yaml --out infra/ecr --check   # in CI: fail if not re-rendered
      tfgen render tfgen.yaml --out infra/ecr --adopt-account prod
      tfgen render tfgen.yaml --out infra/ecr --prune   # after applying a removal
    """
    may_prune = None
    if prune:
        from tfgen import manifest
        from tfgen.run.evidence import prune_check

        tree = manifest.read(out_dir)
        may_prune = prune_check(tree, applied_file) if tree is not None else None
    options = RenderOptions(prune, check, atlantis, adopt_all, adopt_accounts, may_prune)
    update = update_tree(spec, out_dir, options)
    if update.unchanged:
        for message in update.warnings:
            console.warning(message)
        console.info(
            f"{out_dir}: 0 files changed (nothing tfgen reads changed since the last render)"
        )
        if adopt_all or adopt_accounts:
            _warn_adoption(spec, adopt_all, adopt_accounts, check)
        return ExitCode.OK
    _print_changes(update, out_dir, check)
    for message in (*update.notices, *update.warnings):
        console.warning(message)
    console.info(summary(update))
    if adopt_all or adopt_accounts:
        _warn_adoption(spec, adopt_all, adopt_accounts, check)
    if update.out_of_date:
        console.error("the rendered tree is out of date; run `tfgen render` and commit the result")
        return ExitCode.ERROR
    return ExitCode.OK


def _warn_adoption(spec: Path, adopt_all: bool, accounts: tuple[str, ...], check: bool) -> None:
    """Applying an adopted stack replaces the registry's whole policy: say so, and list the live
    statements it would drop (read through each account's role, as verify does)."""
    from tfgen.aws import adopt
    from tfgen.aws.sessions import Sessions
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec

    console.warning(adopt.GENERAL)
    if check:
        return  # --check compares files; it reads nothing live
    state = compile_loaded(load_spec(spec))
    names = set(state.accounts) if adopt_all else set(accounts)
    found = adopt.check(state, names, Sessions(state.accounts))
    for dropped in found.dropped:
        console.warning(dropped.warning())
    for reason in found.unread:
        console.warning(
            f"--adopt: could not read the live registry policies, so the statements applying "
            f"would drop are not listed: {reason}"
        )
    if found.checked and not found.dropped:
        console.info(
            f"--adopt: the live policies of {found.checked} registries hold no statement the "
            "spec drops"
        )


# A --check in CI prints the diffs of the files that would change, up to this many lines in all.
DIFF_BUDGET = 400


def _print_changes(update: TreeUpdate, out_dir: Path, check: bool) -> None:
    """One line per changed file (by default only with --check, else with -v), and with --check
    the diffs, on stdout: they are what the check found."""
    line = console.info if check else console.detail
    if console.verbosity < (0 if check else 1):
        return  # nothing below prints: 4,000 lines a large render would build for nothing
    verb = "would " if check else ""
    for c in update.changed:
        note = f" ({c.note})" if c.note else ""
        line(f"{verb}{c.change.value:9} {out_dir / c.path}{note}")
    if update.atlantis is not None:
        path, change = update.atlantis
        line(f"{verb}{change:9} {path}")
    if not check:
        return
    budget = DIFF_BUDGET
    diffs = [c for c in update.changed if c.diff]
    for shown, c in enumerate(diffs):
        lines = c.diff.splitlines()
        if len(lines) > budget:
            rest = len(diffs) - shown
            click.echo(f"... the diffs of {plural(rest, 'more file')} are not shown")
            return
        budget -= len(lines)
        click.echo(c.diff)


def summary(update: TreeUpdate) -> str:
    """`DIR: 12 files changed: 3 created, 9 updated; 933 identical` (with --check: would change)."""
    counts = Counter(c.change.value for c in update.changed)
    if update.atlantis is not None:
        counts[update.atlantis[1]] += 1
    n = sum(counts.values())
    verb = "would change" if update.check else "changed"
    kinds = [
        f"{counts[k]} {done}"
        for k, done in (("create", "created"), ("update", "updated"), ("remove", "removed"))
        if counts[k]
    ]
    detail = f": {', '.join(kinds)};" if kinds else ","
    return f"{update.out_dir}: {plural(n, 'file')} {verb}{detail} {update.identical} identical"
