"""Text and JSON forms of what verify, audit, lock and import found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tfgen.aws.audit import NOTICE, Report
from tfgen.aws.orglock import LockResult
from tfgen.aws.verify import Status, Verdict
from tfgen.spec.targets import describe_target
from tfgen.words import plural

_STATUS_TEXT = {
    Status.IN_SYNC: "in sync",
    Status.DRIFT: "DRIFT",
    Status.MISSING: "MISSING",
    Status.ERROR: "ERROR",
}


def verify_summary(verdicts: Sequence[Verdict]) -> dict[str, int]:
    counts = Counter(v.status for v in verdicts)
    return {s.value: counts.get(s, 0) for s in Status}


def verify_json(verdicts: Sequence[Verdict], exit_code: int) -> dict[str, Any]:
    status = {0: "in_sync", 2: "drift"}.get(exit_code, "error")
    return {
        "status": status,
        "summary": verify_summary(verdicts),
        "registries": [v.to_json() for v in verdicts],
    }


def verify_text(verdicts: Sequence[Verdict], *, only_findings: bool = False) -> list[str]:
    """Every registry and a summary; with `only_findings` (-q) the registries not in sync only."""
    lines = []
    for v in verdicts:
        if only_findings and v.status is Status.IN_SYNC:
            continue
        lines.append(f"{v.label} ({v.account_id}): {_STATUS_TEXT[v.status]}")
        if v.error:
            lines.append(f"  {v.error}")
        lines.extend(f"  - {d.format()}" for d in v.differences)
        lines.extend(f"  note: {n}" for n in v.notes)
    if only_findings:
        return lines
    s = verify_summary(verdicts)
    lines.append(
        f"{plural(len(verdicts), 'registry')}: {s['in_sync']} in sync, {s['drift']} drift, "
        f"{s['missing']} missing, {plural(s['error'], 'error')}"
    )
    return lines


def _image(tags: Sequence[str], digest: str) -> str:
    return f"{', '.join(tags)} ({digest})" if tags else f"{digest} (untagged)"


def audit_json(report: Report) -> dict[str, Any]:
    return {
        "notice": NOTICE,
        "repositories_checked": report.repositories,
        "gaps": [g.to_json() for g in report.gaps],
        "push_again": [
            {"source": s, "repository": r, **i.to_json()} for s, r, i in report.push_again()
        ],
        "errors": list(report.errors),
    }


def audit_text(report: Report, *, only_findings: bool = False) -> list[str]:
    """The gaps, what to push again and a summary (the errors are the caller's, for stderr);
    with `only_findings` (-q) the gaps and what to push again only."""
    lines = [] if only_findings else [NOTICE, ""]
    for gap in report.gaps:
        where = " (no such repository there)" if gap.repository_missing else ""
        lines.append(
            f"{gap.source} {gap.repository} -> {gap.destination} ({gap.destination_account_id}): "
            f"{len(gap.missing)} of {plural(gap.images, 'image')} missing{where}"
        )
        lines.extend(f"  {_image(i.tags, i.digest)}" for i in gap.missing)
    again = report.push_again()
    if again:
        lines += ["", f"To replicate them, push {plural(len(again), 'image')} to the source again:"]
        lines.extend(f"  {s} {r}: {_image(i.tags, i.digest)}" for s, r, i in again)
    if only_findings:
        return lines
    with_gaps = len({(g.source, g.repository) for g in report.gaps})
    lines.append(
        f"{plural(report.repositories, 'source repository', 'source repositories')} checked: {with_gaps} with gaps, "
        f"{plural(len(again), 'image')} to push again"
    )
    return lines


def lock_text(result: LockResult) -> list[str]:
    if result.lock is None:
        return ["the spec has no Organizations targets; there is nothing to lock"]
    lines = [f"{result.path}: {'written' if result.written else 'unchanged'}"]
    for change in result.changes:
        lines.append(f"{describe_target(change.target)}:")
        lines.extend(f"  + {a.id} {a.spec_name} ({a.name})" for a in change.added)
        lines.extend(f"  - {a.id} {a.spec_name} ({a.name})" for a in change.removed)
        lines.extend(
            f"  ~ {new.id} {old.spec_name} -> {new.spec_name} ({new.name})"
            for old, new in change.renamed
        )
    if not result.changes:
        lines.append("no account added or removed")
    return lines


__all__ = ["audit_json", "audit_text", "lock_text", "verify_json", "verify_text"]
