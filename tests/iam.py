"""A small IAM evaluator for registry policies, written for the tests alone.

It shares no code with tfgen (not tfgen.grants, not tfgen.aws.canonical), so a test can check what
tfgen compiles against an independent reading of IAM's rules (IAM User Guide, "Policy evaluation
logic" and "IAM JSON policy elements"):

- an explicit Deny wins; otherwise some Allow must apply; otherwise the request is denied;
- a statement applies when its principal, action and resource match (or, for NotPrincipal /
  NotAction / NotResource, do not match) and it has no Condition (conditions are not modelled:
  an Allow with one never applies and a Deny with one always does, the cautious reading);
- a principal `"*"` or `{"AWS": "*"}` is everyone; an account is named by its 12-digit id or by
  `arn:PARTITION:iam::ID:root`, and replication runs as the source account itself;
- actions match case-insensitively, resources case-sensitively, `*` any run of characters and `?`
  one character.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names_account(principal: Any, account_id: str, partition: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    root = f"arn:{partition}:iam::{account_id}:root"
    return any(m in ("*", account_id, root) for m in _items(principal.get("AWS", [])))


def _applies(
    statement: Mapping[str, Any], account_id: str, partition: str, action: str, resource: str
) -> bool:
    if "Principal" in statement:
        who = _names_account(statement["Principal"], account_id, partition)
    else:
        who = not _names_account(statement.get("NotPrincipal"), account_id, partition)
    if "Action" in statement:
        what = any(matches(a, action, ignore_case=True) for a in _items(statement["Action"]))
    else:
        what = not any(
            matches(a, action, ignore_case=True) for a in _items(statement.get("NotAction"))
        )
    if "Resource" in statement:
        where = any(matches(r, resource) for r in _items(statement["Resource"]))
    else:
        where = not any(matches(r, resource) for r in _items(statement.get("NotResource")))
    return who and what and where


def allows(
    policy: Mapping[str, Any] | None, account_id: str, partition: str, action: str, resource: str
) -> bool:
    """Whether the policy lets `account_id` call `action` on `resource`."""
    if policy is None:
        return False
    statements = [s for s in _items(policy.get("Statement", [])) if isinstance(s, Mapping)]
    for s in statements:
        if s.get("Effect") == "Deny" and _applies(s, account_id, partition, action, resource):
            return False
    return any(
        s.get("Effect") == "Allow"
        and "Condition" not in s
        and _applies(s, account_id, partition, action, resource)
        for s in statements
    )


def sent_length(policy: Mapping[str, Any]) -> int:
    """The length of the policy as the AWS provider sends it: compact JSON from Go's
    encoding/json, which writes `<`, `>`, `&`, U+2028 and U+2029 as \\u escapes."""
    text = json.dumps(policy, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return len(text)
