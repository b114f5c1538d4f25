"""What several commands share: the SPEC argument and loading it into the desired state."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tfgen import console
from tfgen.constants import DEFAULT_SPEC
from tfgen.words import plural

if TYPE_CHECKING:
    from tfgen.state import DesiredState, RegistryState

spec_argument = click.argument(
    "spec", default=DEFAULT_SPEC, type=click.Path(dir_okay=False, path_type=Path)
)


def load_state(spec: Path) -> DesiredState:
    """Validate and compile the spec (SpecError lists every problem); print its warnings."""
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec

    state = compile_loaded(load_spec(spec))
    for warning in state.warnings:
        console.warning(warning.format())
    return state


def registry_line(reg: RegistryState) -> str:
    """One managed registry in a line: its rules, the sources it grants, its templates."""
    config = reg.replication_configuration()
    return (
        f"{reg.label} ({reg.account_id}): "
        f"{plural(len(config['rules']) if config else 0, 'rule')}, "
        f"{plural(len(reg.grant_sources), 'source account')} granted, "
        f"{plural(len(reg.creation_templates), 'creation template')}"
    )
