"""Counted nouns: correct English in every message."""

from __future__ import annotations

import pytest

from tfgen.words import noun_for, plural


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "file", "0 files"),
        (1, "file", "1 file"),
        (2, "file", "2 files"),
        (1, "registry", "1 registry"),
        (3, "registry", "3 registries"),
        (1, "account", "1 account"),
        (2, "stack", "2 stacks"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


def test_irregular_and_explicit_forms() -> None:
    assert noun_for(2, "was") == "were"
    assert plural(2, "child", "children") == "2 children"
    assert plural(1, "child", "children") == "1 child"
