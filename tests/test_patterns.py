"""Every pattern check matches the whole string: `$` with re.match accepts a trailing newline, which
once let `evil\\n` through as an account id, a filter, a prefix, a lock-file name and an OU id
(broken HCL, directories named `evil\\n`)."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest

import tfgen
from tfgen.spec import SpecError
from tfgen.spec.lockfile import LOCK_VERSION, parse_lock

PACKAGE = Path(tfgen.__file__).resolve().parent
# (file, function) where a prefix match is the intent, with the reason.
PREFIX_MATCHES = {
    ("run/terraform.py", "parse_version"): "reads the leading x.y.z of `terraform version`",
}


class _MatchCalls(ast.NodeVisitor):
    """Each `<something>.match(...)` call, with the function it is in."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.function = "<module>"
        self.found: list[tuple[str, str, int]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "match":
            self.found.append((self.file, self.function, node.lineno))
        self.generic_visit(node)


def _match_calls() -> list[tuple[str, str, int]]:
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        visitor = _MatchCalls(file.relative_to(PACKAGE).as_posix())
        visitor.visit(ast.parse(file.read_text(encoding="utf-8")))
        found.extend(visitor.found)
    return found


def test_the_package_matches_patterns_only_in_full() -> None:
    calls = {(f, n) for f, n, _ in _match_calls()}
    assert calls - set(PREFIX_MATCHES) == set(), (
        "use re.fullmatch (or pattern.fullmatch): re.match with '$' accepts a trailing newline"
    )


def test_the_guard_sees_match_calls() -> None:
    assert ("run/terraform.py", "parse_version") in {(f, n) for f, n, _ in _match_calls()}


LOCK = {
    "lock_version": LOCK_VERSION,
    "organization_id": "o-abc",
    "accounts": {"111111111111": {"name": "Prod", "spec_name": "prod", "partition": "aws"}},
    "targets": {"ou-ab12-cdef3456": ["111111111111"]},
}


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("spec_name", "spec_name 'prod\\n' must be lowercase letters"),
        ("account", "'111111111111\\n' is not a 12-digit account id"),
        ("target", "unknown target 'ou-ab12-cdef3456\\n'"),
    ],
)
def test_lock_file_values_with_a_trailing_newline_are_refused(where: str, message: str) -> None:
    data = copy.deepcopy(LOCK)
    if where == "spec_name":
        data["accounts"]["111111111111"]["spec_name"] = "prod\n"
    elif where == "account":
        data["accounts"] = {"111111111111\n": data["accounts"]["111111111111"]}
        data["targets"] = {}
    else:
        data["targets"] = {"ou-ab12-cdef3456\n": ["111111111111"]}
    with pytest.raises(SpecError) as caught:
        parse_lock(data, "tfgen.lock.json")
    assert message in caught.value.issues[0].message


def test_account_names_with_a_trailing_newline_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        tfgen.spec_from_data({"version": 1, "accounts": {"evil\n": {"id": "111111111111"}}})
    assert "account name 'evil\\n' must be lowercase letters" in caught.value.issues[0].message
