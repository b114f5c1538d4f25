"""The Python API, for teams that build specs from their own inventory.

from tfgen import load_spec, spec_from_data, compile_spec, render

loaded = spec_from_data({"version": 1, "accounts": {...}, "replication": [...]})
state = compile_spec(loaded)            # raises SpecError listing every problem
for registry in state.to_json(): ...    # the compiled desired state (ECR API shapes)
result = render(state, "infra/ecr")     # writes only what changed
"""

from __future__ import annotations

from typing import Any

# compile_spec: the compiled desired state (raises SpecError on limits); render_tree: write, or
# with check=True compare, the Terraform tree. Re-exported under the API's names.
from tfgen.compile import compile_loaded as compile_spec
from tfgen.render import render_tree
from tfgen.spec import LoadedSpec, load_spec, load_spec_text, validate_document
from tfgen.spec.load import Document, Positions


def spec_from_data(data: dict[str, Any], name: str = "<data>") -> LoadedSpec:
    """Validate a spec given as Python data (the same shape as tfgen.yaml). Errors carry paths but
    no line numbers."""
    return validate_document(Document(data, Positions(name)))


__all__ = ["compile_spec", "load_spec", "load_spec_text", "render_tree", "spec_from_data"]
