"""Benchmark: validate + compile + render a 1,010-account organisation, then a no-op re-render;
with --curve, tfgen's own cost at 1,000, 3,000 and 10,000 workload accounts.

1,000 workload accounts each replicate, from us-east-1 and eu-west-1, to their own us-west-2 and
eu-central-1 and to backup account (i mod 10) in us-east-1 and eu-west-1, with 3 prefix filters;
each backup registry's policy grants 100 source accounts. Targets (2-core machine): full render
< 1 s, no-op re-render < 0.3 s, peak memory < 150 MB.

Each run is a fresh `python -m tfgen render` process, so the times include interpreter start-up and
imports, as a user sees them. Peak memory is the child's max RSS.

Each run also writes the same files with a bare Python loop (the file-system floor) right after
the render, and the ratio render / floor is taken run by run, so both see the same load.

--curve N,N,...: for each number of workload accounts, a fresh tree of benchmarks/bench_scale.py's
organisation (the one above plus a build account per 20 workloads replicating `base/` into them,
so every workload sends and receives: two stacks per account; one backup per 50 workloads): the full render, a no-op re-render, validate, `tfgen stacks --json` and, with
--verify, the verify pass `tfgen plan` makes before it runs Terraform (every stack's files hashed
against the applied record, every desired.json parsed, every registry read live through its
account's role and compared) against a moto server on 127.0.0.1 seeded with the desired state
(written into moto's backends directly; the applied record is written as `tfgen apply` would);
wall time, peak RSS and CPU of each, and the growth from one size to the next against the growth in
accounts.

    python benchmarks/bench_render.py [--runs 5]
    python benchmarks/bench_render.py --curve 1000,3000,10000 [--verify] [--base /tmp]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The curve's organisation is bench_scale's: every workload both sends and receives, two stacks
# per account, as in the 10,000 accounts / 20,000 stacks.
from bench_scale import Org, aws_env
from bench_scale import generate_spec as scale_spec

WORKLOADS = 1000
BACKUPS = 10


def generate_spec() -> str:
    workloads, backups = WORKLOADS, BACKUPS
    lines = ["version: 1", "defaults:", '  role_arn: "arn:aws:iam::{account_id}:role/tfgen-ecr"']
    lines.append("accounts:")
    lines.extend(f'  backup-{b:02d}: {{id: "{900000000000 + b:012d}"}}' for b in range(backups))
    lines.extend(f'  workload-{i:04d}: {{id: "{100000000000 + i:012d}"}}' for i in range(workloads))
    lines.append("replication:")
    for i in range(workloads):
        lines += [
            f"  - name: workload-{i:04d}-out",
            f"    from: {{account: workload-{i:04d}, regions: [us-east-1, eu-west-1]}}",
            "    to:",
            f"      - {{account: workload-{i:04d}, regions: [us-west-2, eu-central-1]}}",
            f"      - {{account: backup-{i % backups:02d}, regions: [us-east-1, eu-west-1]}}",
            "    filters: [team-a/, team-b/, base/]",
        ]
    return "\n".join(lines) + "\n"


def timed_peak(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds of one run, in a fresh helper so no earlier
    child counts (the children's figures cover the forked render process too, once waited for)."""
    code = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE);"
        "t = time.perf_counter() - t;"
        "sys.exit(p.stderr.decode()[-3000:]) if p.returncode not in (0, 2) else None;"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(t, u.ru_maxrss, u.ru_utime + u.ru_stime)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{out.stderr}")
    wall, peak, cpu = out.stdout.split()
    return float(wall), int(peak), float(cpu)


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    # ru_maxrss of children is the max over all waited children; each run is measured alone
    # in a fresh interpreter below, so the first run's figure is exact and later ones bounded.
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def measure_peak(argv: list[str]) -> int:
    """Peak RSS (KiB) of one run, measured in a fresh helper so earlier children don't count."""
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    return int(out.stdout.strip())


def fs_floor(tree: Path, target: Path) -> float:
    """Seconds a bare Python loop takes to create the same directories and files: what any tool
    pays this file system for the tree, whatever it computes."""
    files = [(p.relative_to(tree), p.read_bytes()) for p in tree.rglob("*") if p.is_file()]
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    for rel, data in files:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(data)
    elapsed = time.perf_counter() - start
    shutil.rmtree(target, ignore_errors=True)
    return elapsed


def bench(base: Path, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="tfgen-bench-", dir=base))
    spec = work / "tfgen.yaml"
    spec.write_text(generate_spec())
    out = work / "out"
    render = [sys.executable, "-m", "tfgen", "-q", "render", str(spec), "--out", str(out)]
    validate = [sys.executable, "-m", "tfgen", "-q", "validate", str(spec)]
    version = [sys.executable, "-m", "tfgen", "--version"]

    full, noop, val, startup, floor = [], [], [], [], []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        full.append(timed(render)[0])
        floor.append(fs_floor(out, work / "floor"))
        noop.append(timed(render)[0])
        val.append(timed(validate)[0])
        startup.append(timed(version)[0])
    ratios = [f / b for f, b in zip(full, floor, strict=True)]
    shutil.rmtree(out, ignore_errors=True)
    peak_full = measure_peak(render)
    peak_noop = measure_peak(render)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    stacks = len(list(out.glob("stacks/*/*")))
    med = statistics.median
    print(f"== {base} ({runs} runs; medians, min in brackets)")
    print(
        f"spec: {WORKLOADS + BACKUPS} accounts, {spec.stat().st_size // 1024} KiB; "
        f"rendered {stacks} stacks, {files} files"
    )
    print(
        f"full render (validate+compile+render, empty dir): {med(full):.3f} s ({min(full):.3f}), "
        f"peak RSS {peak_full / 1024:.0f} MB"
    )
    print(
        f"  file-system floor (bare loop writing the same files): {med(floor):.3f} s "
        f"({min(floor):.3f}); tfgen above the floor: {med(full) - med(floor):.3f} s"
    )
    print(
        f"  render / floor, run by run: median {med(ratios):.2f}x (best {min(ratios):.2f}x, "
        f"worst {max(ratios):.2f}x; target <= 3x)"
    )
    print(
        f"no-op re-render: {med(noop):.3f} s ({min(noop):.3f}), peak RSS {peak_noop / 1024:.0f} MB"
    )
    print(f"validate only: {med(val):.3f} s; interpreter + CLI start-up: {med(startup):.3f} s")
    shutil.rmtree(work, ignore_errors=True)


def seed_moto(spec: Path) -> int:
    """Write the compiled desired state into the in-process moto server's ECR backends, as an
    apply would leave it; returns the registries written."""
    from moto.ecr.models import ecr_backends

    from tfgen.api import compile_spec, load_spec

    state = compile_spec(load_spec(spec))
    for r in state.registries:
        backend = ecr_backends[r.account_id][r.region]
        policy = r.registry_policy()
        if policy is not None:
            backend.registry_policy = json.dumps(policy)
        config = r.replication_configuration()
        if config is not None:
            backend.replication_config = config
    return len(state.registries)


def write_live(spec: Path, path: Path) -> int:
    """What moto would answer for each registry (the desired state, applied), as JSON, for the
    offline verify pass; returns the registries written."""
    from tfgen.api import compile_spec, load_spec

    state = compile_spec(load_spec(spec))
    live: dict[str, dict[str, Any]] = {}
    for r in state.registries:
        live.setdefault(r.account, {})[r.region] = {
            "account_id": r.account_id,
            "replication_configuration": r.replication_configuration(),
            "registry_policy": r.registry_policy(),
        }
    path.write_text(json.dumps(live))
    return len(state.registries)


# The verify pass without its HTTP reads: `tfgen plan` as it runs, but each registry's read
# (AssumeRole, DescribeRegistry, GetRegistryPolicy) answered from a file of what the registries
# hold. Everything else is tfgen's own code: the tree check, the hashes against the applied
# record, every desired.json parsed, the comparison, the in-sync records and the report.
OFFLINE = """
import json, sys
from tfgen.aws import live, sessions, verify
held = json.load(open(sys.argv[1]))
def read(_sessions, account, region, templates=False):
    r = held[account][region]
    return live.LiveRegistry(account, r["account_id"], region, r["replication_configuration"],
                             r["registry_policy"], None if templates else ())
verify.read_registry = read
sessions.Sessions.preflight = lambda self: None
from tfgen.cli import main
sys.argv = ["tfgen", *sys.argv[2:]]
main()
"""


def write_applied(out: Path) -> int:
    """The applied record `tfgen apply` would have written: every stack's content hash."""
    from tfgen.manifest import load as load_manifest
    from tfgen.run import hashes

    manifest = load_manifest(out)
    hasher = hashes.Hasher(manifest)
    hashes.write_applied(
        out / ".tfgen" / "applied.json", {s.id: hasher.hash(s) for s in manifest.stacks}
    )
    return len(manifest.stacks)


def curve(sizes: list[int], base: Path, verify: bool, online_max: int) -> list[dict[str, float]]:
    work = Path(tempfile.mkdtemp(prefix="tfgen-bench-curve-", dir=base))
    rows: list[dict[str, float]] = []
    tfgen = [sys.executable, "-m", "tfgen", "-q"]
    try:
        online = verify and any(n <= online_max for n in sizes)
        serve = _serving() if online else contextlib.nullcontext("")
        with serve as endpoint:
            env = None
            if verify:
                endpoint = endpoint or "http://127.0.0.1:9"  # never reached offline
                env = aws_env(endpoint, work)
                env["PATH"] = os.environ.get("PATH", "")
            for workloads in sizes:
                org = Org(workloads, max(1, workloads // 50))
                spec = work / f"org-{workloads}.yaml"
                spec.write_text(scale_spec(org))
                out = work / f"out-{workloads}"
                row: dict[str, float] = {
                    "workloads": workloads,
                    "accounts": workloads + org.backups + org.builds,
                }
                row["render_s"], row["render_kib"], row["render_cpu"] = timed_peak(
                    [*tfgen, "render", str(spec), "--out", str(out)]
                )
                row["floor_s"] = fs_floor(out, work / "floor")
                row["noop_s"], row["noop_kib"], row["noop_cpu"] = timed_peak(
                    [*tfgen, "render", str(spec), "--out", str(out)]
                )
                row["validate_s"], row["validate_kib"], row["validate_cpu"] = timed_peak(
                    [*tfgen, "validate", str(spec)]
                )
                row["stacks_s"], row["stacks_kib"], row["stacks_cpu"] = timed_peak(
                    [*tfgen, "stacks", str(out), "--json"]
                )
                row["stacks"] = write_applied(out) if verify else 0
                if verify:
                    held = work / "live.json"
                    row["registries"] = write_live(spec, held)
                    offline = [sys.executable, "-c", OFFLINE, str(held), "-q", "plan", str(out)]
                    row["offline_s"], row["offline_kib"], row["offline_cpu"] = timed_peak(
                        [*offline, "--detailed-exitcode"], env
                    )
                    held.unlink()
                if verify and workloads <= online_max:
                    seed_moto(spec)
                    row["verify_s"], row["verify_kib"], row["verify_cpu"] = timed_peak(
                        [*tfgen, "plan", str(out), "--detailed-exitcode"], env
                    )
                rows.append(row)
                show_row(row)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    growth(rows)
    return rows


@contextlib.contextmanager
def _serving() -> Iterator[str]:
    from tests.moto_server import serving

    with serving() as url:
        yield url


def show_row(row: dict[str, float]) -> None:
    parts = [
        f"{int(row['accounts']):>6} accounts",
        f"render {row['render_s']:.1f} s / {row['render_kib'] / 1024:.0f} MB "
        f"(floor {row['floor_s']:.1f} s)",
        f"no-op {row['noop_s']:.2f} s / {row['noop_kib'] / 1024:.0f} MB",
        f"validate {row['validate_s']:.2f} s / {row['validate_kib'] / 1024:.0f} MB",
        f"stacks {row['stacks_s']:.2f} s / {row['stacks_kib'] / 1024:.0f} MB",
    ]
    if "offline_s" in row:
        parts.append(
            f"verify pass without the reads ({int(row['stacks'])} stacks, "
            f"{int(row['registries'])} registries) {row['offline_s']:.1f} s / "
            f"{row['offline_kib'] / 1024:.0f} MB"
        )
    if "verify_s" in row:
        parts.append(
            f"verify pass against moto {row['verify_s']:.1f} s / "
            f"{row['verify_kib'] / 1024:.0f} MB, tfgen's CPU {row['verify_cpu']:.1f} s"
        )
    print("; ".join(parts), flush=True)


def growth(rows: list[dict[str, float]]) -> None:
    """Each step's growth against the growth in accounts (1.0: linear)."""
    steps = ("render_s", "noop_s", "validate_s", "stacks_s", "offline_s", "verify_s")
    for a, b in itertools.pairwise(rows):
        scale = b["accounts"] / a["accounts"]
        found = ", ".join(
            f"{k[:-2]} x{b[k] / a[k]:.1f} ({b[k] / a[k] / scale:.2f} of linear)"
            for k in steps
            if k in a and k in b and a[k] > 0
        )
        print(f"{int(a['accounts'])} -> {int(b['accounts'])} accounts (x{scale:.1f}): {found}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--curve", help="workload counts, comma-separated: the growth curve")
    parser.add_argument("--verify", action="store_true", help="with --curve: the verify pass too")
    parser.add_argument(
        "--online-max",
        type=int,
        default=3000,
        help="with --verify: read moto only up to this many workloads (above, the pass without "
        "the reads alone)",
    )
    parser.add_argument("--json", type=Path, help="with --curve: also write the rows here")
    parser.add_argument(
        "--base",
        action="append",
        type=Path,
        help="where to render (repeatable); default: the temp dir, and /dev/shm when it exists",
    )
    args = parser.parse_args()
    # As installed: every module's bytecode compiled once (with PYTHONDONTWRITEBYTECODE set, a
    # checkout's edited modules would otherwise be compiled again by every timed run).
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "tfgen", quiet=1)
    if args.curve:
        sizes = [int(n) for n in args.curve.split(",")]
        base = (args.base or [Path(tempfile.gettempdir())])[0]
        rows = curve(sizes, base, args.verify, args.online_max)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n")
        return
    bases = args.base or [Path(tempfile.gettempdir())] + (
        [Path("/dev/shm")] if Path("/dev/shm").is_dir() else []
    )
    print("targets (2 cores): full render < 1 s, no-op re-render < 0.3 s, peak memory < 150 MB")
    for base in bases:
        bench(base, args.runs)


if __name__ == "__main__":
    main()
