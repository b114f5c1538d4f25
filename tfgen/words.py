"""Counted nouns in messages: "1 file", "2 files", "1 registry", "3 registries"."""

from __future__ import annotations

_IRREGULAR = {"registry": "registries", "is": "are", "was": "were", "has": "have"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, the noun in the plural unless the count is exactly 1."""
    return f"{count} {noun_for(count, noun, many)}"


def noun_for(count: int, noun: str, many: str | None = None) -> str:
    """The singular or plural form of `noun` for `count`, without the number."""
    if count == 1:
        return noun
    return many or _IRREGULAR.get(noun) or noun + "s"
