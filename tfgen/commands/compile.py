"""`tfgen compile`: print the compiled desired state."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tfgen import console
from tfgen.commands.common import load_state, registry_line, spec_argument
from tfgen.exitcodes import ExitCode


@click.command(name="compile")
@spec_argument
@click.option("--json", "as_json", is_flag=True, help="Print the compiled desired state as JSON.")
def compile_command(spec: Path, as_json: bool) -> ExitCode:
    """Print the desired state of every registry tfgen manages.

    With --json, a list with one object per registry: account, account_id, region, partition,
    replication_configuration (the ECR API's shape), registry_policy and creation_templates.

    \b
    Example:
      tfgen compile tfgen.yaml --json | jq '.[] | select(.account == "prod")'
    """
    console.json_errors = as_json  # a failure answers on stdout too
    state = load_state(spec)
    if as_json:
        click.echo(json.dumps(state.to_json(), indent=2))
        return ExitCode.OK
    for reg in state.registries:
        click.echo(registry_line(reg))
    return ExitCode.OK
