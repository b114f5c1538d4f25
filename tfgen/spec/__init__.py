"""Step 1 of the pipeline: tfgen.yaml → a validated Spec (or a SpecError listing every problem).

The names are imported when first used, not with the package: reading the YAML
(tfgen.spec.load) needs neither pydantic nor the checks, so a large spec is read in a forked child
while they are imported (tfgen.spec.ahead).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tfgen import lazy
from tfgen.constants import DEFAULT_SPEC

if TYPE_CHECKING:
    from tfgen.spec.issues import Issue, Severity, SpecError
    from tfgen.spec.model import Spec
    from tfgen.spec.validate import LoadedSpec, load_spec_text, validate_document

_WHERE = {
    "Issue": "tfgen.spec.issues",
    "Severity": "tfgen.spec.issues",
    "SpecError": "tfgen.spec.issues",
    "Spec": "tfgen.spec.model",
    "LoadedSpec": "tfgen.spec.validate",
    "load_spec_text": "tfgen.spec.validate",
    "validate_document": "tfgen.spec.validate",
}


__getattr__ = lazy.attributes(__name__, _WHERE)


def load_spec(path: str | Path = DEFAULT_SPEC) -> LoadedSpec:
    """Read, parse and check a spec file. Raises SpecError with every problem found.

    The first time (pydantic and the checks not imported yet), a large spec is read in a forked
    child while they are imported here; after that there is nothing to overlap.
    """
    from tfgen.gcpause import cycle_collection_paused
    from tfgen.spec.ahead import read_ahead, read_here

    first = "tfgen.spec.validate" not in sys.modules
    read = read_ahead(path) if first else (lambda: read_here(path))
    from tfgen.spec.validate import validate_document

    with cycle_collection_paused():
        return validate_document(read())


__all__ = [
    "DEFAULT_SPEC",
    "Issue",
    "LoadedSpec",
    "Severity",
    "Spec",
    "SpecError",
    "load_spec",
    "load_spec_text",
    "validate_document",
]
