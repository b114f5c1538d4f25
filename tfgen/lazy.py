"""A package's names imported when first used (PEP 562), so importing the package stays cheap:
`tfgen --version` and the no-op render need neither pydantic nor Jinja, and the spec's YAML reader
needs neither pydantic nor the checks."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The package's module `__getattr__`: each name in `where` from the module named there."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
