"""The Python API, for teams that build specs from their own inventory.

from tfgen import load_spec, spec_from_data, compile_spec, render

loaded = spec_from_data({"version": 1, "accounts": {...}, "replication": [...]})
state = compile_spec(loaded)            # raises SpecError listing every problem
for registry in state.to_json(): ...    # the compiled desired state (ECR API shapes)
result = render(state, "infra/ecr")     # writes only what changed
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tfgen.compile import compile_loaded
from tfgen.render import SyncResult
from tfgen.render import render_tree as _render_tree
from tfgen.spec import LoadedSpec, load_spec, load_spec_text, validate_document
from tfgen.spec.load import Document, Positions
from tfgen.state import DesiredState


def spec_from_data(data: dict[str, Any], name: str = "<data>") -> LoadedSpec:
    """Validate a spec given as Python data (the same shape as tfgen.yaml). Errors carry paths but
    no line numbers."""
    return validate_document(Document(data, Positions(name)))


def compile_spec(spec: LoadedSpec) -> DesiredState:
    """The compiled desired state: one RegistryState per registry. Raises SpecError on limits."""
    return compile_loaded(spec)


def render_tree(
    state: DesiredState,
    out_dir: str | Path,
    *,
    prune: bool = False,
    check: bool = False,
    adopt: frozenset[str] = frozenset(),
) -> SyncResult:
    """Write (or with check=True, compare) the Terraform tree for a compiled state."""
    return _render_tree(state, out_dir, prune=prune, check=check, adopt=adopt)


__all__ = ["compile_spec", "load_spec", "load_spec_text", "render_tree", "spec_from_data"]
