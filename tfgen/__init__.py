"""tfgen: one description of Amazon ECR replication, compiled into Terraform for every registry.

Public API (see tfgen.api): load_spec, load_spec_text, spec_from_data, compile_spec, render_tree,
SpecError, TfgenError. Imported lazily so `tfgen --version` and the no-op render stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfgen import lazy

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tfgen.api import compile_spec, load_spec, load_spec_text, render_tree, spec_from_data
    from tfgen.errors import TfgenError
    from tfgen.spec.issues import SpecError

_LAZY = {
    "compile_spec": "tfgen.api",
    "load_spec": "tfgen.api",
    "load_spec_text": "tfgen.api",
    "render_tree": "tfgen.api",
    "spec_from_data": "tfgen.api",
    "SpecError": "tfgen.spec.issues",
    "TfgenError": "tfgen.errors",
}


__getattr__ = lazy.attributes(__name__, _LAZY)


__all__ = [
    "SpecError",
    "TfgenError",
    "__version__",
    "compile_spec",
    "load_spec",
    "load_spec_text",
    "render_tree",
    "spec_from_data",
]
