#!/usr/bin/env python3
"""GitLab API steps of examples/ci/gitlab-ci.yml that GitLab CI has no keyword for.

Copy to .gitlab/tfgen_ci.py. Standard library only (it runs in a plain python image).

  find-plans   on the default branch: the merge request this commit merged, its last successful
               pipeline on the reviewed head commit, and the child pipeline of its `plan` trigger
               job; writes TFGEN_PLAN_PIPELINE_ID=... to a dotenv file.
  fetch-plan   download and unpack the artifacts (saved plan, lock file, log, reports) of one job
               of that child pipeline, e.g. "plan prod/registry-policy".
  note         create or update the one merge-request note that carries tfgen's plan report.

Environment: CI_API_V4_URL and CI_PROJECT_ID (set by GitLab), CI_COMMIT_SHA (find-plans), and
TFGEN_GITLAB_TOKEN: a project access token with the `api` scope (Developer, to write notes).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Any

MARKER = "<!-- tfgen-plan -->"


class Failure(Exception):
    pass


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise Failure(f"{name} is not set")
    return value


def api(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the project's API; JSON in and out (bytes for artifact archives)."""
    url = f"{_env('CI_API_V4_URL')}/projects/{_env('CI_PROJECT_ID')}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("PRIVATE-TOKEN", _env("TFGEN_GITLAB_TOKEN"))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = response.read()
            kind = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise Failure(f"{method} {path}: HTTP {exc.code} {exc.read()[:300]!r}") from None
    return json.loads(payload) if "json" in kind else payload


def pages(path: str) -> list[Any]:
    """Every item of a paginated list."""
    items: list[Any] = []
    sep = "&" if "?" in path else "?"
    for page in range(1, 101):
        batch = api("GET", f"{path}{sep}per_page=100&page={page}")
        items.extend(batch)
        if len(batch) < 100:
            break
    return items


def find_plans(args: argparse.Namespace) -> None:
    sha = _env("CI_COMMIT_SHA")
    merged = [
        m for m in api("GET", f"/repository/commits/{sha}/merge_requests") if m["state"] == "merged"
    ]
    mr = next(
        (m for m in merged if sha in (m.get("merge_commit_sha"), m.get("squash_commit_sha"))),
        merged[0] if merged else None,
    )
    if mr is None:
        raise Failure(f"{sha} is not the merge of a merge request: nothing reviewed to apply")
    for pipeline in api("GET", f"/merge_requests/{mr['iid']}/pipelines"):  # newest first
        if pipeline["status"] != "success" or pipeline["sha"] != mr["sha"]:
            continue
        bridges = api("GET", f"/pipelines/{pipeline['id']}/bridges")
        bridge = next((b for b in bridges if b["name"] == args.bridge), None)
        child = (bridge or {}).get("downstream_pipeline") or {}
        if child.get("id"):
            print(
                f"applying the plans of !{mr['iid']}: pipeline {pipeline['web_url']}, child {child['id']}"
            )
            with open(args.dotenv, "w", encoding="utf-8") as out:
                out.write(f"TFGEN_PLAN_PIPELINE_ID={child['id']}\nTFGEN_PLAN_MR_IID={mr['iid']}\n")
            return
    raise Failure(
        f"no successful pipeline of !{mr['iid']} at {mr['sha']} with a '{args.bridge}' child pipeline"
    )


def fetch_plan(args: argparse.Namespace) -> None:
    jobs = pages(f"/pipelines/{args.pipeline}/jobs")
    job = next((j for j in jobs if j["name"] == args.job and j["status"] == "success"), None)
    if job is None:
        raise Failure(f"pipeline {args.pipeline} has no successful job '{args.job}'")
    archive = api("GET", f"/jobs/{job['id']}/artifacts")
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        zipped.extractall(".")  # zipfile drops absolute and '..' parts of member names
        print(f"unpacked {len(zipped.namelist())} file(s) of job {job['id']} ({args.job})")


def note(args: argparse.Namespace) -> None:
    with open(args.file, encoding="utf-8") as f:
        body = f"{MARKER}\n{f.read()}"
    notes = f"/merge_requests/{args.mr}/notes"
    mine = next((n for n in pages(f"{notes}?sort=desc") if MARKER in n.get("body", "")), None)
    if mine is None:
        api("POST", notes, {"body": body})
    else:
        api("PUT", f"{notes}/{mine['id']}", {"body": body})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("find-plans")
    p.add_argument("--bridge", default="plan", help="the trigger job that ran the plans")
    p.add_argument("--dotenv", default="plans.env")
    p.set_defaults(run=find_plans)
    p = sub.add_parser("fetch-plan")
    p.add_argument("--pipeline", required=True, help="the child pipeline that ran the plans")
    p.add_argument("--job", required=True, help='e.g. "plan prod/registry-policy"')
    p.set_defaults(run=fetch_plan)
    p = sub.add_parser("note")
    p.add_argument("file")
    p.add_argument("--mr", required=True, help="the merge request's IID")
    p.set_defaults(run=note)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
