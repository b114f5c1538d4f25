"""`{account}`, `{account_id}` and `{stack}` in role ARNs and state keys: checked and filled in.

Never str.format: a user template reaches it from a pull request, and format specs make it a small
language (`{}` raises IndexError; `{account:{account_id}}` pads to a width of 111 billion). Here only
the named placeholders are replaced, literally, and any other brace is refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

_BRACED = re.compile(r"\{([^{}]*)\}")


def problem(template: str, allowed: Collection[str]) -> str | None:
    """Why `template` is not a template of the `allowed` placeholders, or None if it is."""
    for match in _BRACED.finditer(template):
        if match.group(1) not in allowed:
            return f"unknown placeholder {match.group(0)}"
    rest = _BRACED.sub("", template)
    if "{" in rest or "}" in rest:
        return "a '{' or '}' that is not part of a placeholder"
    return None


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder named in `values` replaced (check it with `problem`)."""
    return _BRACED.sub(lambda m: values.get(m.group(1), m.group(0)), template)


__all__ = ["fill", "problem"]
