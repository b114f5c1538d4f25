"""docs/architecture.md, the import-linter contract and the package agree: every module is in the
module table and in exactly one layer, and the paths the checklists name exist."""

from __future__ import annotations

import re
import tomllib

from tests.rendering import REPO

DOC = (REPO / "docs" / "architecture.md").read_text()
LAYERS: list[str] = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
    "contracts"
][0]["layers"]
ROOT_FILES = {"tfgen/__init__.py", "tfgen/__main__.py"}  # the package itself: in no layer


def _table(marker: str) -> list[list[str]]:
    body = DOC.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    rows = [line for line in body.strip().splitlines() if line.startswith("|")][2:]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def _members(layer: str) -> set[str]:
    return {m.strip() for m in layer.split("|")}


def _layer_of(path: str) -> int:
    top = "tfgen." + path.removeprefix("tfgen/").split("/")[0].removesuffix(".py")
    found = [i + 1 for i, layer in enumerate(LAYERS) if top in _members(layer)]
    assert len(found) == 1, f"{top} is in {len(found)} layers of the import contract"
    return found[0]


def test_the_layers_table_is_the_import_contract() -> None:
    table = _table("layers")
    assert [int(number) for number, _ in table] == list(range(1, len(LAYERS) + 1))
    for (_, members), layer in zip(table, LAYERS, strict=True):
        assert set(re.findall(r"`([\w.]+)`", members)) == _members(layer)


def test_every_module_is_in_the_table_and_in_its_layer() -> None:
    rows = {path.strip("`"): layer for path, _, layer in _table("modules")}
    package = {p.relative_to(REPO).as_posix() for p in (REPO / "tfgen").rglob("*.py")}
    assert set(rows) == package
    for path, layer in rows.items():
        if path in ROOT_FILES:
            assert layer == "-"
        else:
            assert int(layer) == _layer_of(path), path


def test_every_path_the_page_names_exists() -> None:
    named = set(re.findall(r"`((?:tfgen|templates|modules|tests|docs|examples)/[\w./*-]*)`", DOC))
    assert len(named) > 80
    for path in named:
        assert list(REPO.glob(path.rstrip("/"))), path
