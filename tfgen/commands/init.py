"""`tfgen init`: write the commented starter spec."""

from __future__ import annotations

from pathlib import Path

import click

from tfgen import console
from tfgen.constants import DEFAULT_SPEC
from tfgen.exitcodes import ExitCode


@click.command(name="init")
@click.argument("path", default=DEFAULT_SPEC, required=False, type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(path: Path, force: bool) -> ExitCode:
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
    from tfgen.starter import write_starter

    written = write_starter(path, force=force)
    console.info(f"wrote {written}")
    console.info(
        "next: edit the accounts and replication, uncomment the backend (where Terraform "
        f"keeps state), then `tfgen validate {written}`, "
        f"`tfgen explain {written}` and `tfgen render {written} --out infra/ecr`"
    )
    return ExitCode.OK
