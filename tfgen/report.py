"""Results to people and programs: a live progress view, a terminal table, a versioned JSON
report, a Markdown pull-request comment that fits GitHub's limit, and the one exit code."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tfgen import __version__, escape, safeio
from tfgen import console as tfgen_console
from tfgen.exitcodes import ExitCode
from tfgen.manifest import ManifestStack
from tfgen.run.events import Event
from tfgen.run.model import (
    GrantDelta,
    PlanSummary,
    ReplicationDelta,
    StackResult,
    Status,
    TemplateDelta,
)
from tfgen.run.summary import as_dict
from tfgen.words import plural

REPORT_VERSION = 1
# GitHub rejects comments over 65,536 characters; stay well clear of it.
MARKDOWN_LIMIT = 65_536
MARKDOWN_BUDGET = 60_000
_PER_STACK_OUTPUT = 6_000

_STYLE = {
    Status.OK: "green",
    Status.FAILED: "bold red",
    Status.BLOCKED: "yellow",
    Status.SKIPPED: "yellow",
    Status.BLOCKED: "bold yellow",
    Status.INTERRUPTED: "bold magenta",
    Status.CANCELLED: "magenta",
}


@dataclass(frozen=True)
class ReportFiles:
    """Where a run's reports go, besides the terminal."""

    json: Path | None = None  # the versioned JSON report (docs/running.md)
    markdown: Path | None = None  # a pull-request comment
    # Where the full report can be read (a CI artifact URL); the Markdown comment links it.
    url: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """What was run, for the reports' headers."""

    command: str
    directory: Path
    terraform: str
    terraform_version: str
    started_at: float
    duration: float
    parallelism: int
    detailed_exitcode: bool = False
    interrupted: bool = False


# --- exit code ------------------------------------------------------------------------------


def exit_code(
    results: Sequence[StackResult], *, detailed: bool = False, interrupted: bool = False
) -> ExitCode:
    """130 when interrupted; else 1 if any stack failed; else (with `detailed`) 2 if any stack
    has changes; else 0. Precedence 1 > 2 > 0, whatever order the stacks finished in."""
    if interrupted:
        return ExitCode.INTERRUPTED
    bad = (Status.FAILED, Status.BLOCKED, Status.INTERRUPTED, Status.CANCELLED)
    if any(r.status in bad for r in results):
        return ExitCode.ERROR
    if detailed and any(r.changes for r in results):
        return ExitCode.CHANGES
    return ExitCode.OK


def overall(results: Sequence[StackResult], interrupted: bool) -> str:
    """`success`, `partial` (some failed), `error` (none succeeded) or `interrupted`."""
    if interrupted:
        return "interrupted"
    bad = [r for r in results if not r]
    if not bad:
        return "success"
    return "partial" if len(bad) < len(results) else "error"


# --- short texts ----------------------------------------------------------------------------


def counts(summary: PlanSummary | None) -> str:
    if summary is None:
        return ""
    imported = f" <{summary.imported}" if summary.imported else ""
    return f"+{summary.add} ~{summary.change} -{summary.destroy}{imported}"


def ecr_lines(summary: PlanSummary | None) -> list[str]:
    """The ECR meaning of a plan, one line per fact, for people; each names its registry."""
    if summary is None:
        return []
    lines: list[str] = []

    def where(delta: ReplicationDelta | GrantDelta | TemplateDelta) -> str:
        return f"{delta.registry}: " if delta.registry else ""

    for r in summary.replication:
        for label, items in (
            ("rule added", r.rules_added),
            ("rule removed", r.rules_removed),
            ("destination added", r.destinations_added),
            ("destination removed", r.destinations_removed),
        ):
            lines.extend(f"{where(r)}replication {label}: {item}" for item in items)
        if r.unknown_after:
            lines.append(f"{where(r)}replication: {r.address} known only after apply")
    for g in summary.grants:
        for label, items in (
            ("grant added", g.principals_added),
            ("grant removed", g.principals_removed),
            ("statement added", g.sids_added),
            ("statement removed", g.sids_removed),
            ("access added", g.access_added),
            ("access removed", g.access_removed),
        ):
            lines.extend(f"{where(g)}registry policy {label}: {item}" for item in items)
        if g.unknown_after:
            lines.append(f"{where(g)}registry policy: {g.address} known only after apply")
    for t in summary.templates:
        verb = {"create": "added", "delete": "removed", "replace": "replaced"}.get(
            t.action, "changed"
        )
        changed = f" ({', '.join(t.settings_changed)})" if t.settings_changed else ""
        lines.append(f"{where(t)}creation template {verb}: {t.prefix}{changed}")
    return lines


def ecr_brief(summary: PlanSummary | None) -> str:
    if summary is None:
        return ""
    parts: list[str] = []
    rules_add = sum(len(r.rules_added) for r in summary.replication)
    rules_del = sum(len(r.rules_removed) for r in summary.replication)
    grants_add = sum(len(g.principals_added) for g in summary.grants)
    grants_del = sum(len(g.principals_removed) for g in summary.grants)
    if rules_add or rules_del:
        parts.append(f"rules +{rules_add} -{rules_del}")
    if grants_add or grants_del:
        parts.append(f"grants +{grants_add} -{grants_del}")
    templates = {a: sum(t.action == a for t in summary.templates) for a in ("create", "delete")}
    templates_changed = len(summary.templates) - templates["create"] - templates["delete"]
    if summary.templates:
        parts.append(
            f"templates +{templates['create']} ~{templates_changed} -{templates['delete']}"
        )
    return ", ".join(parts)


def tally(results: Sequence[StackResult]) -> dict[Status, int]:
    """How many stacks ended each way, every status present, in Status order."""
    counted = {s: 0 for s in Status}
    for r in results:
        counted[r.status] += 1
    return counted


def tally_text(results: Sequence[StackResult]) -> str:
    """`3 ok, 1 failed, 2 interrupted, 4 cancelled`: ok and failed always, the other statuses
    when any stack has them. The live view, the table, the Markdown comment and the interrupt
    notice all say this, so their words and counts agree with each other and the JSON totals."""
    counted = tally(results)
    return ", ".join(
        f"{n} {s.value}" for s, n in counted.items() if n or s in (Status.OK, Status.FAILED)
    )


IN_SYNC_NOTE = "in sync, verified live"


def _note(result: StackResult) -> str:
    found = result.in_sync
    if found is not None:
        where = ", ".join(e.registry for e in found.registries)
        return (
            f"{IN_SYNC_NOTE}: files as last applied ({found.content_hash[:12]}); {where} "
            "hold what it makes true"
        )
    if result.status is Status.OK:
        if result.action in ("plan", "destroy-plan"):
            note = "changes" if result.changes else "no changes"
            why = result.planned_because.split(":")[0]
            return f"{note} ({why})" if why else note
        return result.reason or ("applied" if result.changes else "no changes")
    return result.reason


def evidence_lines(result: StackResult) -> list[str]:
    """What proves an unplanned stack in sync, one line per registry, for people."""
    found = result.in_sync
    if found is None:
        return []
    lines = [
        f"files as last applied (content hash {found.content_hash[:12]}), registries read "
        f"live at {_iso(found.verified_at)}"
    ]
    for r in found.registries:
        notes = f"; note: {'; '.join(r.notes)}" if r.notes else ""
        lines.append(f"{r.registry} ({r.account}): {', '.join(r.settings)} as desired{notes}")
    return lines


# --- live progress --------------------------------------------------------------------------


class LiveProgress:
    """A listener for the scheduler's events. On a terminal: a live view of running stacks and
    counts. Elsewhere (CI logs): one line per finished stack, never interleaved output."""

    def __init__(
        self,
        console: Console,
        stacks: Sequence[ManifestStack],
        action: str,
        *,
        quiet: bool = False,
    ) -> None:
        self.console = console
        self.quiet = quiet  # -q: nothing at all
        self.total = len(stacks)
        self.action = action
        self._lock = threading.Lock()
        self._running: dict[str, tuple[str, float]] = {}
        self._done: list[StackResult] = []
        self._live: Live | None = None
        self._start = time.monotonic()

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal and not self.quiet:
            self._live = Live(
                get_renderable=self._render, console=self.console, refresh_per_second=8
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def __call__(self, event: Event) -> None:
        result = event.result
        with self._lock:
            if event.kind == "step":
                self._running[event.stack.id] = (event.step, time.monotonic())
                return
            self._running.pop(event.stack.id, None)
            if result is None:
                return
            self._done.append(result)
            n = len(self._done)
        if self._live is None and not self.quiet:
            note = _note(result)
            self.console.print(
                f"[{n}/{self.total}] {result.stack.id}: {result.status.value}"
                + (f" ({note})" if note else ""),
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

    def _render(self) -> Group:
        with self._lock:
            running = dict(self._running)
            done = list(self._done)
        now = time.monotonic()
        head = Text(
            f"tfgen {self.action}: {len(done)}/{self.total} done, {len(running)} running: "
            f"{tally_text(done)}; {now - self._start:.0f}s"
        )
        table = Table(show_header=False, box=None, pad_edge=False)
        for stack_id, (step, since) in sorted(running.items()):
            table.add_row(Text(stack_id), Text(step, style="cyan"), f"{now - since:.0f}s")
        return Group(head, table)


# --- terminal table -------------------------------------------------------------------------


# More in-sync stacks than this are one line under the table (-v lists them): a row costs rich
# about 10 ms, 200 s for the 20,000 stacks of an unchanged organisation of 10,000 accounts.
TABLE_IN_SYNC_ROWS = 20


def print_table(console: Console, results: Sequence[StackResult], info: RunInfo) -> None:
    verified = sum(1 for r in results if r.in_sync is not None)
    folded = verified > TABLE_IN_SYNC_ROWS and tfgen_console.verbosity <= 0
    shown = [r for r in results if not (folded and r.in_sync is not None)]
    table = Table(title=f"tfgen {info.command}: {info.directory}", title_justify="left")
    table.add_column("stack", no_wrap=True)
    ecr = any(ecr_brief(r.summary) for r in shown)
    for column in ("phase", "status", "changes", *(("ECR",) if ecr else ()), "time", "note"):
        table.add_column(column, overflow="fold")
    for r in shown:
        cells: list[Text | str] = [r.stack.id, str(r.stack.phase)]
        cells.append(Text(r.status.value, style=_STYLE[r.status]))
        cells.append(counts(r.summary))
        if ecr:
            cells.append(ecr_brief(r.summary))
        table.add_row(*cells, f"{r.duration:.1f}s", _note(r))
    if shown:
        console.print(table)
    if folded:
        console.print(
            f"{plural(verified, 'stack')} {IN_SYNC_NOTE}, not planned (-v lists them; the JSON "
            "and Markdown reports give each one's evidence)",
            highlight=False,
            soft_wrap=True,
        )
    totals = _totals(results)
    in_sync = f"; {totals['in_sync']} {IN_SYNC_NOTE}" if totals["in_sync"] else ""
    console.print(
        f"{plural(len(results), 'stack')}: {tally_text(results)}; "
        f"{totals['with_changes']} with changes{in_sync}; {info.duration:.1f}s wall time",
        highlight=False,
        soft_wrap=True,
    )


def print_errors(console: Console, results: Sequence[StackResult]) -> None:
    """Each failure once: stacks that failed alike (same reason and hint) share one block, and
    a run that stopped early says why once, with how many stacks it did not start."""
    groups: dict[tuple[Status, str, str], list[StackResult]] = {}
    for r in results:
        if r.status in (Status.FAILED, Status.INTERRUPTED):
            groups.setdefault((r.status, r.reason, r.hint), []).append(r)
    for (status, _, _), alike in groups.items():
        text = error_text(alike[0], alike)
        console.print(text, style=_STYLE[status], highlight=False, markup=False, soft_wrap=True)
    skipped = [r for r in results if r.status is Status.SKIPPED]
    if skipped:
        console.print(
            f"stopped early: {skipped[0].reason.removeprefix('not started: ')}; "
            f"{plural(len(skipped), 'stack')} not started. Fix the cause above and run again.",
            style="bold red",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


_SHOWN_IDS = 5


def error_text(r: StackResult, alike: Sequence[StackResult] = ()) -> str:
    """Every error names the stack, the command and the log file, and a hint when we know one.
    With `alike` (stacks that failed the same way, `r` first), one block names them all."""
    many = len(alike) > 1
    if many:
        ids = ", ".join(a.stack.id for a in alike[:_SHOWN_IDS])
        more = f" and {len(alike) - _SHOWN_IDS} more" if len(alike) > _SHOWN_IDS else ""
        text = f"error: {len(alike)} stacks {r.status.value} alike: {r.reason}"
        text += f"\n  stacks: {ids}{more}"
    else:
        text = f"error: stack {r.stack.id}: {r.reason}"
    if r.failed_command:
        text += f"\n  command: {r.failed_command}" + (f" (in {r.stack.id})" if many else "")
    if r.log is not None:
        text += f"\n  logs: {r.log.parent}/" if many else f"\n  log: {r.log}"
    if r.hint:
        text += f"\n  hint: {r.hint}"
    return text


def print_pending(console: Console, results: Sequence[StackResult], verb: str) -> None:
    """What is about to be applied or destroyed, before asking."""
    for r in results:
        if not r.changes:
            continue
        console.print(
            f"{verb} {r.stack.id}: {counts(r.summary)}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        for line in ecr_lines(r.summary):
            console.print(f"    {line}", highlight=False, markup=False, soft_wrap=True)


# --- JSON -----------------------------------------------------------------------------------


def _totals(results: Sequence[StackResult]) -> dict[str, int]:
    totals = {s.value: n for s, n in tally(results).items()}
    totals.update({"stacks": len(results), "with_changes": 0, "add": 0, "change": 0})
    totals["destroy"] = totals["import"] = 0
    totals["in_sync"] = sum(1 for r in results if r.in_sync is not None)
    for r in results:
        totals["with_changes"] += r.changes
        if r.summary is not None and r.changes:
            totals["add"] += r.summary.add
            totals["change"] += r.summary.change
            totals["destroy"] += r.summary.destroy
            totals["import"] += r.summary.imported
    return totals


def _iso(epoch: float) -> str:
    millis = int(epoch * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def _stack_dict(r: StackResult) -> dict[str, Any]:
    return {
        "id": r.stack.id,
        "path": r.stack.path,
        "kind": r.stack.kind,
        "phase": r.stack.phase,
        "depends_on": list(r.stack.depends_on),
        "action": r.action,
        "status": r.status.value,
        "changes": r.changes,
        "reason": r.reason or None,
        "hint": r.hint or None,
        "cause": r.cause or None,
        "failed_command": r.failed_command or None,
        "log": str(r.log) if r.log else None,
        "started_at": _iso(r.started) if r.started else None,
        "duration_s": round(r.duration, 3),
        "summary": as_dict(r.summary) if r.summary else None,
        "planned_because": r.planned_because or None,
        "in_sync": _in_sync_dict(r),
        "commands": [
            {
                "name": s.name,
                "argv": list(s.argv),
                "exit_code": s.returncode,
                "duration_s": round(s.duration, 3),
                "waited_s": round(s.waited, 3),
                "timed_out": s.timed_out,
                "interrupted": s.interrupted,
            }
            for s in r.steps
        ],
    }


def _in_sync_dict(r: StackResult) -> dict[str, Any] | None:
    found = r.in_sync
    if found is None:
        return None
    return {
        "content_hash": found.content_hash,
        "verified_at": _iso(found.verified_at),
        "registries": [
            {
                "account": e.account,
                "registry": e.registry,
                "settings": list(e.settings),
                "notes": list(e.notes),
            }
            for e in found.registries
        ],
    }


def report_dict(results: Sequence[StackResult], info: RunInfo, code: int) -> dict[str, Any]:
    """The `--json` report; its schema is documented in docs/running.md and versioned."""
    return {
        "report_version": REPORT_VERSION,
        "generator": f"tfgen {__version__}",
        "command": info.command,
        "directory": str(info.directory),
        "terraform": {"path": info.terraform, "version": info.terraform_version},
        "started_at": _iso(info.started_at),
        "duration_s": round(info.duration, 3),
        "parallelism": info.parallelism,
        "detailed_exitcode": info.detailed_exitcode,
        "status": overall(results, info.interrupted),
        "exit_code": code,
        "totals": _totals(results),
        "stacks": [_stack_dict(r) for r in results],
    }


def write_json(path: Path, results: Sequence[StackResult], info: RunInfo, code: int) -> None:
    _write(path, json.dumps(report_dict(results, info, code), indent=2) + "\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    safeio.replace(path, text.encode())  # never through a link planted at a temporary name


# --- Markdown -------------------------------------------------------------------------------


def _fence(text: str, limit: int) -> str:
    """Terraform's output in a fenced block: literal in Markdown whatever it holds."""
    text = escape.printable(text.strip("\n"))
    if len(text) > limit:
        text = "… (cut; the whole output is in the log)\n" + text[-limit:]
    # A fence longer than any run of backticks inside, so the output cannot close it.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _section(r: StackResult) -> str:
    """One stack's collapsible section. Every string from the stack, Terraform or AWS is escaped
    (tfgen.escape.markdown): a `<!--` in a name or an error must not hide the sections after it."""
    md, code = escape.markdown, escape.markdown_code
    icon = {"ok": "✅", "failed": "❌", "blocked": "🚧", "skipped": "⏭️"}.get(r.status.value, "⛔")
    title = f"{icon} {code(r.stack.id)} {r.status.value} {counts(r.summary)}".rstrip()
    body: list[str] = []
    if r.reason:
        body.append(f"**{md(r.reason)}**")
    if r.planned_because:
        body.append(f"planned because: {md(r.planned_because)}")
    if r.failed_command:
        body.append(f"command: {code(r.failed_command)}")
    if r.hint:
        body.append(f"hint: {md(r.hint)}")
    if r.log is not None:
        body.append(f"log: {code(str(r.log))}")
    lines = ecr_lines(r.summary)
    if lines:
        body.append("\n".join(f"- {md(line)}" for line in lines))
    step = next((s for s in r.steps if not s.ok), None)
    if step is None:
        step = next((s for s in reversed(r.steps) if s.name in ("plan", "apply")), None)
    if step is not None and step.output.strip() and (r.changes or not r):
        body.append(_fence(step.output, _PER_STACK_OUTPUT))
    return f"<details><summary>{title}</summary>\n\n" + "\n\n".join(body) + "\n\n</details>\n"


def markdown(
    results: Sequence[StackResult], info: RunInfo, code: int, full_report: str | None
) -> str:
    """A pull-request comment: totals, then one collapsible section per stack that failed or
    has changes (failures first), cut to stay under GitHub's comment limit."""
    totals = _totals(results)
    md = escape.markdown
    head = [
        f"### tfgen {info.command}: {overall(results, info.interrupted)} (exit {code})",
        "",
        f"{plural(totals['stacks'], 'stack')}: {tally_text(results)}; "
        f"{totals['with_changes']} with changes "
        f"(+{totals['add']} ~{totals['change']} -{totals['destroy']}). "
        f"Terraform {md(info.terraform_version)}, {info.duration:.0f}s.",
        "",
    ]
    shown = sorted(
        (r for r in results if r.changes or not r or r.status is not Status.OK),
        key=lambda r: (bool(r), r.stack.phase, r.stack.id),
    )
    verified = [r for r in results if r.in_sync is not None]
    quiet = len(results) - len(shown) - len(verified)
    if verified:
        head.append(
            f"{plural(len(verified), 'stack')} in sync, verified live, and not planned: "
            "the files are those of the last successful apply and every registry read live "
            "holds what the stack makes true (evidence below; `tfgen plan --all` plans them "
            "too).\n"
        )
    if quiet:
        head.append(
            f"{plural(quiet, 'stack')} {'has' if quiet == 1 else 'have'} no changes and "
            f"{'is' if quiet == 1 else 'are'} not listed.\n"
        )
    pointer = (
        md(full_report)
        if full_report
        else "the JSON report (`--json`) and the logs in `.tfgen/logs/`"
    )
    if full_report:
        head.append(f"Full report: {pointer}\n")
    text = "\n".join(head) + "\n"
    for i, r in enumerate(shown):
        section = _section(r)
        tail = f"\n… {len(shown) - i} more stacks not shown: see {pointer}\n"
        if len(text) + len(section) + len(tail) > MARKDOWN_BUDGET:
            text += tail
            break
        text += section
    else:
        text += _in_sync_section(verified, MARKDOWN_BUDGET - len(text), pointer)
    assert len(text) < MARKDOWN_LIMIT
    return text


def _in_sync_section(verified: Sequence[StackResult], budget: int, pointer: str) -> str:
    """The in-sync stacks and their evidence, one collapsible list, cut to `budget`."""
    if not verified or budget < 1_000:
        return ""
    md, code = escape.markdown, escape.markdown_code
    head = (
        f"<details><summary>✔️ {plural(len(verified), 'stack')} in sync, verified live</summary>\n\n"
    )
    end = "\n</details>\n"
    items = []
    used = len(head) + len(end)
    for i, r in enumerate(verified):
        lines = evidence_lines(r)
        item = f"- {code(r.stack.id)}: " + "; ".join(md(line) for line in lines) + "\n"
        tail = f"- … {len(verified) - i} more: see {pointer}\n"
        if used + len(item) + len(tail) > budget:
            items.append(tail)
            break
        items.append(item)
        used += len(item)
    return head + "".join(items) + end


def write_markdown(
    path: Path,
    results: Sequence[StackResult],
    info: RunInfo,
    code: int,
    full_report: str | None = None,
) -> None:
    _write(path, markdown(results, info, code, full_report))


# --- everything at the end of a run -----------------------------------------------------------


def publish(
    console: Console,
    results: Sequence[StackResult],
    info: RunInfo,
    files: ReportFiles,
    interrupt_signal: str = "",
    *,
    errors: Console | None = None,
    table: bool = True,
) -> ExitCode:
    """The table (on `console`, unless not `table`), the errors and the interrupt notice (on
    `errors`, default `console`) and the report files; returns the run's exit code."""
    code = exit_code(results, detailed=info.detailed_exitcode, interrupted=info.interrupted)
    if table:
        print_table(console, results, info)
    errors = errors or console
    print_errors(errors, results)
    if info.interrupted:
        errors.print(
            f"interrupted ({interrupt_signal}): {tally_text(results)}; running terraform "
            "processes were told to stop and release their locks",
            style="bold magenta",
            highlight=False,
            soft_wrap=True,
        )
    if files.json:
        write_json(files.json, results, info, code)
    if files.markdown:
        pointer = files.url or (str(files.json) if files.json else None)
        write_markdown(files.markdown, results, info, code, pointer)
    return code
