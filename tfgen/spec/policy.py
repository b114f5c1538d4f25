"""IAM's statement grammar for registry-policy statements, and what a statement does to replication.

`statement_issues` checks one user statement as IAM and ECR would read it, each problem at its path
(`...statements[1].Principal.AWS[0]`). Two shapes are valid IAM yet dangerous, so they are errors
unless the statement opts in with the tfgen-only key `tfgen_accept` (stripped before rendering):

- `any_principal`: an Allow for everyone (`"*"`, `{AWS: "*"}`, or NotPrincipal = everyone but a list);
- `not_action`: an Allow with NotAction (every ECR action but a list).

A third, `denies_replication`, accepts a Deny that blocks replication the spec sets up; deciding that
needs the compiled registries, so `denial` answers it for one (source account, registry) pair.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tfgen.spec.issues import Issue, Severity, SpecPath, did_you_mean

ACCEPT_KEY = "tfgen_accept"
ACCEPTANCES = {
    "any_principal": "an Allow for any principal ('*', {AWS: '*'} or NotPrincipal)",
    "not_action": "an Allow with NotAction",
    "denies_replication": "a Deny that blocks replication this spec sets up",
}
STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    ACCEPT_KEY,
)
REPLICATION_ACTIONS = ("ecr:ReplicateImage", "ecr:CreateRepository")
_PRINCIPAL_KINDS = ("AWS", "Service")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_PRINCIPAL_ARN = re.compile(r"arn:(aws[a-z-]*):(iam|sts)::([0-9]{12}):([\w+=,.@/-]+)")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?")
_ACTION = re.compile(r"([a-zA-Z0-9-]+):([a-zA-Z0-9*?]+)")
_REPOSITORY_ARN = re.compile(r"arn:([^:]+):ecr:([^:]*):([^:]*):repository/(.+)")
_CONDITION_KEY = re.compile(r"[A-Za-z0-9-]+:[\x21-\x7e]+")
# IAM's condition operators (IAM User Guide, "Condition operators"); each but Null also takes an
# IfExists suffix, and multivalued keys a ForAnyValue:/ForAllValues: prefix.
_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
)


def strip(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement as rendered: without tfgen's own key."""
    return {k: v for k, v in statement.items() if k != ACCEPT_KEY}


def accepted(statement: Mapping[str, Any]) -> frozenset[str]:
    value = statement.get(ACCEPT_KEY)
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(i for i in items if isinstance(i, str))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


# --- grammar ---------------------------------------------------------------------------------------


def statement_issues(statement: Mapping[str, Any], path: SpecPath, partition: str) -> list[Issue]:
    """Every grammar problem of one statement, and the risky shapes it has not opted into."""
    out = [
        Issue((*path, key), f"unknown statement key '{key}'" + did_you_mean(key, STATEMENT_KEYS))
        for key in sorted(k for k in statement if k not in STATEMENT_KEYS)
    ]
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        out.append(Issue((*path, "Effect"), "'Effect' must be 'Allow' or 'Deny'"))
    principal = _pair(statement, "Principal", path, out, "a registry policy statement needs")
    action = _pair(statement, "Action", path, out, "a statement needs")
    resource = _pair(statement, "Resource", path, out, "a registry policy statement needs")
    if principal is not None:
        _check_principal(statement[principal], (*path, principal), partition, out)
    if action is not None:
        _check_actions(statement[action], (*path, action), out)
    if resource is not None:
        _check_resources(statement[resource], (*path, resource), partition, out)
    if "Condition" in statement:
        _check_condition(statement["Condition"], (*path, "Condition"), out)
    acceptances = _check_acceptances(statement, path, out)
    if effect == "Allow":
        _check_broad_allow(statement, principal, action, acceptances, path, out)
    return out


def _pair(
    statement: Mapping[str, Any], key: str, path: SpecPath, out: list[Issue], needs: str
) -> str | None:
    """'Action' or 'NotAction' (whichever the statement has), reporting both or neither."""
    have = [k for k in (key, f"Not{key}") if k in statement]
    if not have:
        out.append(Issue(path, f"{needs} '{key}' (or 'Not{key}')"))
        return None
    if len(have) == 2:
        out.append(Issue((*path, f"Not{key}"), f"give '{key}' or 'Not{key}', not both"))
    return have[0]


def _strings(value: Any, path: SpecPath, what: str, out: list[Issue]) -> list[tuple[SpecPath, str]]:
    """A string or a non-empty list of strings, each with its path; problems reported."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list) and value:
        found = []
        for k, item in enumerate(value):
            if isinstance(item, str):
                found.append(((*path, k), item))
            else:
                out.append(Issue((*path, k), f"expected {what} (a string), got {_kind(item)}"))
        return found
    if isinstance(value, list):
        out.append(Issue(path, "must not be empty"))
    else:
        out.append(Issue(path, f"expected {what} (a string) or a list of them, got {_kind(value)}"))
    return []


def _check_principal(value: Any, path: SpecPath, partition: str, out: list[Issue]) -> None:
    if value == "*":
        return
    if not isinstance(value, Mapping) or not value:
        out.append(
            Issue(
                path,
                f"expected '*' or a mapping such as {{AWS: ['arn:{partition}:iam::111122223333:"
                f"root']}}, got {_kind(value)}",
            )
        )
        return
    for kind, members in value.items():
        where = (*path, kind)
        if kind not in _PRINCIPAL_KINDS:
            out.append(
                Issue(
                    where,
                    f"principal type '{kind}' does not apply to an ECR registry policy "
                    "(use AWS or Service)",
                )
            )
            continue
        for at, member in _strings(members, where, "a principal", out):
            problem = _principal_problem(kind, member, partition)
            if problem:
                out.append(Issue(at, problem))


def _principal_problem(kind: str, member: str, partition: str) -> str | None:
    if kind == "Service":
        if _SERVICE.fullmatch(member):
            return None
        return f"{member!r} is not a service principal such as 'replication.ecr.amazonaws.com'"
    if member == "*" or _ACCOUNT_ID.fullmatch(member):
        return None
    if "*" in member or "?" in member:
        return f"{member!r}: IAM allows a wildcard principal only as '*' on its own"
    match = _PRINCIPAL_ARN.fullmatch(member)
    if not match:
        return (
            f"{member!r} is not an AWS principal: a 12-digit account id or an ARN such as "
            f"'arn:{partition}:iam::111122223333:root' or '...:role/NAME'"
        )
    if match.group(1) != partition:
        return f"{member!r} is in partition {match.group(1)}, but this registry is in {partition}"
    return None


def _check_actions(value: Any, path: SpecPath, out: list[Issue]) -> None:
    for at, action in _strings(value, path, "an action", out):
        if action == "*":
            continue
        match = _ACTION.fullmatch(action)
        if not match:
            out.append(Issue(at, f"{action!r} is not an action such as 'ecr:ReplicateImage'"))
        elif match.group(1).lower() != "ecr":
            out.append(
                Issue(at, f"{action!r} is not an ECR action; a registry policy controls only ecr:*")
            )


def _check_resources(value: Any, path: SpecPath, partition: str, out: list[Issue]) -> None:
    for at, resource in _strings(value, path, "a resource", out):
        if resource == "*":
            continue
        match = _REPOSITORY_ARN.fullmatch(resource)
        if not match:
            out.append(
                Issue(
                    at,
                    f"{resource!r} is not an ECR repository ARN such as "
                    f"'arn:{partition}:ecr:REGION:ACCOUNT:repository/NAME' (or '*')",
                )
            )
        elif not wildcard_match(match.group(1), partition):
            out.append(
                Issue(
                    at,
                    f"{resource!r} is in partition {match.group(1)}, but this registry is in "
                    f"{partition}",
                )
            )


def operator_problem(operator: str) -> str | None:
    base = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        base = base.removeprefix(prefix)
    if base != "Null" and base.endswith("IfExists"):
        base = base.removesuffix("IfExists")
    if base in _OPERATORS or (base == "Null" and operator == "Null"):
        return None
    return f"unknown condition operator '{operator}'" + did_you_mean(
        operator, (*_OPERATORS, "Null")
    )


def _check_condition(value: Any, path: SpecPath, out: list[Issue]) -> None:
    if not isinstance(value, Mapping):
        out.append(
            Issue(path, f"expected a mapping of operator → {{key: value}}, got {_kind(value)}")
        )
        return
    for operator, keys in value.items():
        where = (*path, operator)
        problem = operator_problem(str(operator))
        if problem:
            out.append(Issue(where, problem))
        if not isinstance(keys, Mapping) or not keys:
            out.append(
                Issue(where, f"expected a mapping of condition key → value, got {_kind(keys)}")
            )
            continue
        for key, values in keys.items():
            at = (*where, key)
            if not _CONDITION_KEY.fullmatch(str(key)):
                out.append(
                    Issue(
                        at, f"condition key {key!r} is not 'service:Key' (e.g. aws:PrincipalOrgID)"
                    )
                )
            items = values if isinstance(values, list) else [values]
            if not items:
                out.append(Issue(at, "must give at least one value"))
            for k, item in enumerate(items):
                if not isinstance(item, str | int | float | bool):
                    where_item = (*at, k) if isinstance(values, list) else at
                    hint = (
                        "; quote dates and times"
                        if type(item).__name__ in ("date", "datetime")
                        else ""
                    )
                    out.append(
                        Issue(
                            where_item,
                            f"a condition value is a string, number or boolean, got {_kind(item)}{hint}",
                        )
                    )


def _check_acceptances(
    statement: Mapping[str, Any], path: SpecPath, out: list[Issue]
) -> frozenset[str]:
    if ACCEPT_KEY not in statement:
        return frozenset()
    where = (*path, ACCEPT_KEY)
    for at, value in _strings(statement[ACCEPT_KEY], where, "an acceptance", out):
        if value not in ACCEPTANCES:
            out.append(
                Issue(at, f"unknown acceptance '{value}'" + did_you_mean(value, ACCEPTANCES))
            )
    return accepted(statement)


def _check_broad_allow(
    statement: Mapping[str, Any],
    principal: str | None,
    action: str | None,
    acceptances: frozenset[str],
    path: SpecPath,
    out: list[Issue],
) -> None:
    wildcard = _wildcard_principal(statement, principal, path)
    if wildcard is not None and "any_principal" not in acceptances:
        what = (
            "NotPrincipal under Allow lets everyone but the principals listed"
            if (principal == "NotPrincipal")
            else "this Allow lets any AWS account, in any organisation,"
        )
        out.append(
            Issue(
                wildcard,
                f"{what} call the actions it names on this registry; name the accounts instead, or, "
                f"if a Condition narrows it (e.g. aws:PrincipalOrgID), add "
                f"'{ACCEPT_KEY}: [any_principal]' to the statement",
            )
        )
    elif wildcard is None and "any_principal" in acceptances:
        out.append(_unneeded(path, "any_principal", "the statement names its principals"))
    if action == "NotAction" and "not_action" not in acceptances:
        out.append(
            Issue(
                (*path, "NotAction"),
                "NotAction under Allow allows every ECR action except those listed (under registry "
                "policy scope V2, pushing and deleting images too); list the actions, or add "
                f"'{ACCEPT_KEY}: [not_action]' to the statement",
            )
        )
    elif action != "NotAction" and "not_action" in acceptances:
        out.append(_unneeded(path, "not_action", "the statement has no NotAction"))


def _wildcard_principal(
    statement: Mapping[str, Any], principal: str | None, path: SpecPath
) -> SpecPath | None:
    """Where an Allow names everyone, or None."""
    if principal == "NotPrincipal":
        return (*path, "NotPrincipal")
    value = statement.get("Principal")
    if value == "*":
        return (*path, "Principal")
    if isinstance(value, Mapping):
        members = value.get("AWS")
        if members == "*":
            return (*path, "Principal", "AWS")
        if isinstance(members, list) and "*" in members:
            return (*path, "Principal", "AWS", members.index("*"))
    return None


def risky_shapes(statement: Mapping[str, Any]) -> list[str]:
    """The statement-local opt-ins a statement needs to pass: 'any_principal', 'not_action'."""
    if statement.get("Effect") != "Allow":
        return []
    principal = "NotPrincipal" if "NotPrincipal" in statement else "Principal"
    out = ["any_principal"] if _wildcard_principal(statement, principal, ()) is not None else []
    return [*out, "not_action"] if "NotAction" in statement else out


def _unneeded(path: SpecPath, name: str, why: str) -> Issue:
    return Issue(
        (*path, ACCEPT_KEY),
        f"'{name}' accepts nothing here ({why}); remove it so it cannot hide a later change",
        Severity.WARNING,
    )


# --- what a Deny does to replication --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Denial:
    """A Deny statement that covers replication from one source account into one registry."""

    actions: tuple[str, ...]  # the REPLICATION_ACTIONS it denies
    conditional: bool  # a Condition, or a principal inside the account, decides whether it applies


def denial(
    statement: Mapping[str, Any],
    source_id: str,
    partition: str,
    repository_arn: str,
    prefixes: Sequence[str],
) -> Denial | None:
    """Whether a Deny stops `source_id` replicating repositories starting with one of `prefixes`
    (`""` = every repository) into the registry whose repositories are `repository_arn` + name."""
    if statement.get("Effect") != "Deny":
        return None
    principal = _principal_covers(statement, source_id, partition)
    if principal is None:
        return None
    actions = tuple(a for a in REPLICATION_ACTIONS if _action_covers(statement, a))
    if not actions or not any(_resource_covers(statement, repository_arn + p) for p in prefixes):
        return None
    return Denial(actions, principal or "Condition" in statement)


def _principal_covers(statement: Mapping[str, Any], account_id: str, partition: str) -> bool | None:
    """None: not covered; False: covered outright; True: covered only for some of the account's
    principals (a role or user ARN), which may not be the one replication runs as."""
    root = f"arn:{partition}:iam::{account_id}:root"
    if "NotPrincipal" in statement:
        listed = _aws_members(statement["NotPrincipal"])
        return None if account_id in listed or root in listed else False
    value = statement.get("Principal")
    if value == "*":
        return False
    members = _aws_members(value)
    if "*" in members or account_id in members or root in members:
        return False
    inside = any(f"::{account_id}:" in m for m in members)
    return True if inside else None


def _aws_members(value: Any) -> list[str]:
    if value == "*":
        return ["*"]
    if not isinstance(value, Mapping):
        return []
    return [m for m in as_list(value.get("AWS")) if isinstance(m, str)]


def _strings_of(value: Any) -> list[str]:
    return [v for v in as_list(value) if isinstance(v, str)]


def _action_covers(statement: Mapping[str, Any], action: str) -> bool:
    def matches(patterns: Iterable[str]) -> bool:
        return any(wildcard_match(p.lower(), action.lower()) for p in patterns)

    if "NotAction" in statement:
        return not matches(_strings_of(statement["NotAction"]))
    return matches(_strings_of(statement.get("Action")))


def _resource_covers(statement: Mapping[str, Any], prefix: str) -> bool:
    """Whether the statement's resources include some repository whose ARN starts with `prefix`."""
    if "NotResource" in statement:
        return not any(_arn_covers_all(p, prefix) for p in _strings_of(statement["NotResource"]))
    return any(_arn_overlaps(p, prefix) for p in _strings_of(statement.get("Resource")))


def _segments(arn: str) -> list[str] | None:
    parts = arn.split(":", 5)
    return parts if len(parts) == 6 else None


def _arn_overlaps(pattern: str, prefix: str) -> bool:
    """Whether some ARN starting with `prefix` matches `pattern`."""
    return _arn_test(pattern, prefix, _overlaps)


def _arn_covers_all(pattern: str, prefix: str) -> bool:
    """Whether `pattern` matches every ARN starting with `prefix`."""
    return _arn_test(pattern, prefix, _covers_all)


def _arn_test(pattern: str, prefix: str, last: Callable[[str, str], bool]) -> bool:
    """IAM matches an ARN segment by segment (a wildcard never spans a ':'): the first five
    segments of `prefix` are whole, the last is a beginning of the resource, tested by `last`."""
    if pattern == "*":
        return True
    want, have = _segments(pattern), _segments(prefix)
    if want is None or have is None:
        return False
    heads = all(wildcard_match(w, h) for w, h in zip(want[:5], have[:5], strict=True))
    return heads and last(want[5], have[5])


def _states(pattern: str, text: str) -> set[int]:
    """Positions in an IAM wildcard pattern ('*' any run, '?' one character, nothing else special)
    reachable after reading `text`."""
    states = _closure({0}, pattern)
    for char in text:
        step = set()
        for i in states:
            if i < len(pattern):
                if pattern[i] == "*":
                    step.add(i)
                elif pattern[i] == "?" or pattern[i] == char:
                    step.add(i + 1)
        states = _closure(step, pattern)
        if not states:
            break
    return states


def wildcard_match(pattern: str, text: str) -> bool:
    return len(pattern) in _states(pattern, text)


def matches_some(pattern: str, prefix: str) -> bool:
    """Whether the IAM wildcard `pattern` matches some string that starts with `prefix`."""
    return _overlaps(pattern, prefix)


def _overlaps(pattern: str, prefix: str) -> bool:
    """Whether some string starting with `prefix` matches the IAM wildcard `pattern`: any state
    left can still reach the end, since '*' and '?' match anything."""
    return bool(_states(pattern, prefix))


def _closure(states: set[int], pattern: str) -> set[int]:
    out = set(states)
    for i in sorted(states):
        j = i
        while j < len(pattern) and pattern[j] == "*":
            j += 1
            out.add(j)
    return out


def _covers_all(pattern: str, prefix: str) -> bool:
    """Whether `pattern` matches every string starting with `prefix` (it ends in '*' after a
    part that matches some beginning of the prefix)."""
    if not pattern.endswith("*"):
        return False
    head = pattern[:-1]
    return any(wildcard_match(head, prefix[:i]) for i in range(len(prefix) + 1))


__all__ = [
    "ACCEPTANCES",
    "ACCEPT_KEY",
    "REPLICATION_ACTIONS",
    "STATEMENT_KEYS",
    "Denial",
    "accepted",
    "as_list",
    "denial",
    "matches_some",
    "risky_shapes",
    "statement_issues",
    "strip",
    "wildcard_match",
]
