"""The rendered tree's stacks → what CI systems take: per-phase stack matrices (GitHub Actions), a
child pipeline (GitLab CI) and the text of an `atlantis.yaml` (Atlantis).

Pure: every function takes the typed stacks of the manifest (`tfgen.manifest.Manifest.ordered()`)
and returns data or text; nothing here reads or writes files (`tfgen.render.atlantis` writes
atlantis.yaml). Output is deterministic: stacks in (phase, id) order, keys in a fixed order.

Phase 1 (`registry-policy`) must be applied before phase 2 (`replication`): an image pushed while a
rule exists but its destination's grant does not is never replicated. Every format keeps that order.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from tfgen.manifest import PHASE_NAMES, ManifestError, ManifestStack

STACKS_FORMAT_VERSION = 1
# GitHub Actions: "A job matrix can generate a maximum of 256 jobs per workflow run." Above it,
# stacks share jobs (each job runs `tfgen plan/apply --stacks a,b,c`), in the same phase order.
MAX_JOBS = 256


def _ordered(stacks: Iterable[ManifestStack]) -> list[ManifestStack]:
    return sorted(stacks, key=lambda s: (s.phase, s.id))


# --- stack matrices (GitHub Actions strategy.matrix) ----------------------------------------------


def _join(directory: str, path: str) -> str:
    directory = directory.replace("\\", "/").rstrip("/")
    if directory in ("", "."):
        return path
    return posixpath.normpath(posixpath.join(directory, path))


def matrix_entry(stack: ManifestStack, directory: str = ".") -> dict[str, Any]:
    """One `include` entry. `dir` is the stack's directory as seen from where the command ran
    (`directory` joined with `path`), for steps that call terraform in the stack directly."""
    return {
        "stack": stack.id,
        "slug": stack.slug,
        "path": stack.path,
        "dir": _join(directory, stack.path),
        "kind": stack.kind,
        "phase": stack.phase,
        "account": stack.account,
        "account_id": stack.account_id,
        "regions": list(stack.regions),
        "depends_on": list(stack.depends_on),
    }


def chunks(stacks: Sequence[ManifestStack], max_jobs: int) -> list[list[ManifestStack]]:
    """The stacks split into at most `max_jobs` runs of consecutive stacks, as even as can be:
    one stack each while they fit."""
    if len(stacks) <= max_jobs:
        return [[s] for s in stacks]
    size = -(-len(stacks) // max_jobs)
    return [list(stacks[i : i + size]) for i in range(0, len(stacks), size)]


def job_entry(
    chunk: Sequence[ManifestStack], directory: str, group: str, index: int, total: int
) -> dict[str, Any]:
    """One CI job of `total` for a group: the stacks it runs (`stacks`, comma-separated, for
    `--stacks`; `paths`, space-separated, relative to DIR), its name and a slug for artifact
    names. While every stack has a job of its own, a job is named after its stack and carries
    that stack's matrix entry too; once stacks share jobs, jobs are named `<group> i/total`."""
    if len(chunk) == 1 and total == 0:
        (only,) = chunk
        head = {"job": only.id, "slug": only.slug}
    else:
        head = {"job": f"{group} {index}/{total}", "slug": f"{group}-{index:03d}-of-{total:03d}"}
    entry: dict[str, Any] = {
        **head,
        "stacks": ",".join(s.id for s in chunk),
        "paths": " ".join(s.path for s in chunk),
        "count": len(chunk),
    }
    if len(chunk) == 1 and total == 0:
        entry.update(matrix_entry(chunk[0], directory))
    return entry


def _jobs(stacks: Sequence[ManifestStack], directory: str, group: str, max_jobs: int) -> list[Any]:
    split = chunks(stacks, max_jobs)
    total = 0 if len(split) == len(stacks) else len(split)  # 0: a job per stack
    return [job_entry(c, directory, group, i, total) for i, c in enumerate(split, 1)]


def _group(
    stacks: Sequence[ManifestStack], directory: str, name: str, max_jobs: int
) -> dict[str, Any]:
    jobs = _jobs(stacks, directory, name, max_jobs)
    return {
        "has_stacks": bool(stacks),
        "count": len(stacks),
        "matrix": {"include": [matrix_entry(s, directory) for s in stacks]},
        "job_count": len(jobs),
        "jobs": {"include": jobs},
    }


def stack_phases(
    stacks: Iterable[ManifestStack], directory: str = ".", max_jobs: int = MAX_JOBS
) -> dict[str, Any]:
    """`tfgen stacks --json`: one entry per phase (both phases always present, in order), each with
    a `matrix` (one entry per stack) and `jobs` (at most `max_jobs` entries, several stacks each
    when there are more stacks than that), which GitHub Actions' `strategy.matrix` takes as is,
    and `has_stacks` to guard on: GitHub fails a job whose matrix is empty. `all` holds every
    stack, for jobs that need no order (plans)."""
    ordered = _ordered(stacks)
    phases = [
        {
            "phase": phase,
            "name": name,
            **_group([s for s in ordered if s.phase == phase], directory, name, max_jobs),
        }
        for phase, name in sorted(PHASE_NAMES.items())
    ]
    return {
        "stacks_version": STACKS_FORMAT_VERSION,
        "directory": directory,
        "count": len(ordered),
        "max_jobs": max_jobs,
        "phases": phases,
        "all": _group(ordered, directory, "all", max_jobs),
    }


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def github_outputs(phases: Mapping[str, Any]) -> str:
    """`tfgen stacks --format github`: lines for `>> "$GITHUB_OUTPUT"`: per phase N, `phaseN`
    (the jobs matrix, at most `max_jobs` entries, compact JSON on one line), `phaseN_has_stacks`
    (`true`/`false`), `phaseN_count` (stacks) and `phaseN_jobs`; and the same for `all`."""
    groups = [(f"phase{p['phase']}", p) for p in phases["phases"]] + [("all", phases["all"])]
    lines = []
    for name, group in groups:
        lines.append(f"{name}={_compact(group['jobs'])}")
        lines.append(f"{name}_has_stacks={'true' if group['has_stacks'] else 'false'}")
        lines.append(f"{name}_count={group['count']}")
        lines.append(f"{name}_jobs={group['job_count']}")
    return "\n".join(lines) + "\n"


# --- GitLab CI child pipeline ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GitlabOptions:
    """How `tfgen stacks --format gitlab` writes the child pipeline."""

    job_prefix: str = "plan"  # job names: "<prefix> <stack id>"
    extends: str = ".tfgen-stack"  # the hidden job (from `includes`) that holds the script
    includes: tuple[str, ...] = ()  # local files the child pipeline includes
    stage: str | None = None  # one stage for every job (plans need no order); else one per phase
    max_jobs: int = MAX_JOBS  # per phase; above it stacks share jobs (the same in every pipeline)


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases: the child pipeline reads like a hand-written one."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def gitlab_child_pipeline(
    stacks: Iterable[ManifestStack], directory: str = ".", options: GitlabOptions | None = None
) -> str:
    """A GitLab child pipeline (for `trigger: include: - artifact: ...`): one job per stack (or,
    above `max_jobs` stacks in a phase, per run of stacks), each `extends` the given hidden job
    and gets its stacks in `TFGEN_STACKS` (for `--stacks`), `TFGEN_STACK_PATHS`, `TFGEN_JOB`;
    a one-stack job also gets the stack's own `TFGEN_STACK`, `TFGEN_ACCOUNT_ID`, ... Jobs are
    split per phase the same way whatever the stage, so a plan job and an apply job of the same
    stacks have the same `TFGEN_JOB`. Stages are the phases, so every registry-policy job finishes
    before any replication job starts (no job has `needs`, which would bypass stage order).
    GitLab refuses an empty pipeline, so without stacks the pipeline has one job that says so."""
    opts = options or GitlabOptions()
    ordered = _ordered(stacks)
    stages = [opts.stage] if opts.stage else [PHASE_NAMES[p] for p in sorted(PHASE_NAMES)]
    doc: dict[str, Any] = {}
    if opts.includes:
        doc["include"] = [{"local": path} for path in opts.includes]
    doc["stages"] = stages
    for phase, name in sorted(PHASE_NAMES.items()):
        for job in _jobs([s for s in ordered if s.phase == phase], directory, name, opts.max_jobs):
            variables = {
                "TFGEN_DIR": directory,
                "TFGEN_JOB": job["job"],
                "TFGEN_JOB_SLUG": job["slug"],
                "TFGEN_STACKS": job["stacks"],
                "TFGEN_STACK_PATHS": job["paths"],
                "TFGEN_PHASE": str(phase),
            }
            if "stack" in job:  # a job of its own: the stack's own variables too
                s = next(x for x in ordered if x.id == job["stack"])
                variables |= {
                    "TFGEN_STACK": s.id,
                    "TFGEN_STACK_SLUG": s.slug,
                    "TFGEN_STACK_PATH": s.path,
                    "TFGEN_STACK_DIR": _join(directory, s.path),
                    "TFGEN_STACK_KIND": s.kind,
                    "TFGEN_ACCOUNT": s.account,
                    "TFGEN_ACCOUNT_ID": s.account_id,
                    "TFGEN_DEPENDS_ON": ",".join(s.depends_on),
                }
            doc[f"{opts.job_prefix} {job['job']}"] = {
                "extends": opts.extends,
                "stage": opts.stage or name,
                "variables": variables,
            }
    if not ordered:
        doc[f"{opts.job_prefix} (no stacks)"] = {
            "stage": stages[0],
            "script": [f"echo 'tfgen: {directory} has no stacks; nothing to do'"],
        }
    order = (
        f"# Every job is in stage {opts.stage}: they run in parallel, in no order.\n"
        if opts.stage
        else "# Registry-policy stacks (phase 1) run before replication stacks (phase 2).\n"
    )
    header = (
        f"# Generated by `tfgen stacks {directory} --format gitlab`: a child pipeline with one job "
        "per stack.\n" + order
    )
    return header + _dump(doc)


# --- Atlantis -------------------------------------------------------------------------------------


def atlantis_projects(
    stacks: Iterable[ManifestStack], *, dir_prefix: str = "", workflow: str | None = None
) -> list[dict[str, Any]]:
    """One Atlantis project per stack, in (phase, id) order."""
    projects = []
    for s in _ordered(stacks):
        when_modified = ["*.tf", ".terraform.lock.hcl"]
        when_modified += [
            posixpath.join(posixpath.relpath(m, s.path), "*.tf") for m in sorted(s.modules)
        ]
        project: dict[str, Any] = {
            "name": s.slug,
            "dir": _join(dir_prefix, s.path),
        }
        if workflow:
            project["workflow"] = workflow
        project["execution_order_group"] = s.phase
        project["autoplan"] = {"when_modified": when_modified, "enabled": True}
        projects.append(project)
    return projects


def atlantis_yaml(
    stacks: Iterable[ManifestStack], *, dir_prefix: str = "", workflow: str | None = None
) -> str:
    """An `atlantis.yaml` (repo config version 3) with one project per stack.

    `dir_prefix` is the rendered directory relative to the repository root (Atlantis reads
    `atlantis.yaml` at the root and resolves every `dir` from there): `infra/ecr` when tfgen renders
    into `infra/ecr`, "" when it renders into the root. `workflow` names a server-side or repo
    workflow for every project. Registry-policy stacks get `execution_order_group` 1 and
    replication stacks 2, with `abort_on_execution_order_fail`, so no replication rule is applied
    when a grant failed. Autoplan watches the stack's `*.tf`, its lock file and the `*.tf` of every
    module the stack uses.
    """
    ordered = list(_ordered(stacks))
    names: dict[str, str] = {}
    for s in ordered:
        if s.slug in names:
            raise ManifestError(
                f"stacks {names[s.slug]!r} and {s.id!r} would both be Atlantis project {s.slug!r}"
            )
        names[s.slug] = s.id
    doc: dict[str, Any] = {
        "version": 3,
        "parallel_plan": True,
        "parallel_apply": True,
        "abort_on_execution_order_fail": True,
        "projects": atlantis_projects(ordered, dir_prefix=dir_prefix, workflow=workflow),
    }
    header = (
        "# Generated by tfgen from tfgen.manifest.json. Do not edit: change the spec and run\n"
        "# `tfgen render --atlantis`. Registry-policy stacks (execution_order_group 1) are applied\n"
        "# before replication stacks (group 2).\n"
    )
    return header + _dump(doc)


# --- a readable table -----------------------------------------------------------------------------


def table_rows(phases: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """(phase, stack, account id, Regions, depends on) per stack, for the `tfgen stacks` table."""
    return [
        (
            str(p["phase"]),
            e["stack"],
            e["account_id"] or e["account"],
            "\n".join(e["regions"]),
            "\n".join(e["depends_on"]) or "-",
        )
        for p in phases["phases"]
        for e in p["matrix"]["include"]
    ]


def empty_phases(phases: Mapping[str, Any]) -> Sequence[str]:
    """'N name' of each phase without stacks."""
    return [f"{p['phase']} {p['name']}" for p in phases["phases"] if not p["has_stacks"]]
