"""The Python API, for teams that build specs from their own inventory (README "Python API").

    from tfgen import spec_from_data, compile_spec, render_tree

    loaded = spec_from_data({"version": 1, "accounts": {...}, "replication": [...]})
    state = compile_spec(loaded)            # raises SpecError listing every problem
    for registry in state.to_json(): ...    # the compiled desired state (ECR API shapes)
    result = render_tree(state, "infra/ecr")  # writes only what changed

`compile_spec` is tfgen.compile.compile_loaded under the API's name: a LoadedSpec in, the
DesiredState out (tfgen.compile.compile_model is the step below it, on a bare Spec).
"""

from __future__ import annotations

from typing import Any

from tfgen.compile import compile_loaded as compile_spec
from tfgen.render import render_tree
from tfgen.spec import LoadedSpec, load_spec, load_spec_text, validate_document
from tfgen.spec.document import Document, Positions


def spec_from_data(data: dict[str, Any], name: str = "<data>") -> LoadedSpec:
    """Validate a spec given as Python data (the same shape as tfgen.yaml). Errors carry paths but
    no line numbers."""
    return validate_document(Document(data, Positions(name)))


__all__ = ["compile_spec", "load_spec", "load_spec_text", "render_tree", "spec_from_data"]
