"""Step 1 of the pipeline: tfgen.yaml → a validated Spec (or a SpecError listing every problem).

The names are imported when first used, not with the package: reading the YAML
(tfgen.spec.load) needs neither pydantic nor the checks, so a large spec can be read while they
are imported (tfgen.spec.load.read_ahead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfgen import lazy

if TYPE_CHECKING:
    from tfgen.constants import DEFAULT_SPEC
    from tfgen.spec.issues import Issue, Severity, SpecError
    from tfgen.spec.model import Spec
    from tfgen.spec.validate import LoadedSpec, load_spec, load_spec_text, validate_document

_WHERE = {
    "DEFAULT_SPEC": "tfgen.constants",
    "Issue": "tfgen.spec.issues",
    "Severity": "tfgen.spec.issues",
    "SpecError": "tfgen.spec.issues",
    "Spec": "tfgen.spec.model",
    "LoadedSpec": "tfgen.spec.validate",
    "load_spec": "tfgen.spec.validate",
    "load_spec_text": "tfgen.spec.validate",
    "validate_document": "tfgen.spec.validate",
}


__getattr__ = lazy.attributes(__name__, _WHERE)


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
