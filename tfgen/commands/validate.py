"""`tfgen validate`: check a spec as AWS would, write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tfgen import console
from tfgen.commands.common import registry_line, spec_argument
from tfgen.exitcodes import ExitCode
from tfgen.words import plural


@click.command()
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="Print the issues as JSON.")
def validate(spec: Path, as_json: bool) -> ExitCode:
    """Check a spec as AWS would, without writing anything.

    Exit 0 when valid (warnings are printed), 1 with every error found, each with its file, line
    and path.

    \b
    Example:
      tfgen validate examples/hub-and-spoke/tfgen.yaml
    """
    from tfgen.spec import SpecError, load_spec

    try:
        loaded = load_spec(spec)  # first: a large spec is read while pydantic is imported
        from tfgen.compile import compile_loaded

        state = compile_loaded(loaded)
    except SpecError as exc:
        if not as_json:
            raise
        issues = [i.to_json() for i in exc.issues]
        click.echo(json.dumps({"valid": False, "issues": issues}, indent=2))
        return ExitCode.ERROR
    if as_json:
        issues = [i.to_json() for i in state.warnings]
        click.echo(json.dumps({"valid": True, "issues": issues}, indent=2))
        return ExitCode.OK
    for warning in state.warnings:
        console.warning(warning.format())
    for reg in state.registries:  # -v: what the spec manages
        console.detail(f"  {registry_line(reg)}")
    console.info(
        f"{spec}: valid; {plural(len(state.registries), 'registry')} in "
        f"{plural(len(state.accounts), 'account')}"
        + (f", {plural(len(state.warnings), 'warning')}" if state.warnings else "")
    )
    return ExitCode.OK
