"""Benchmark: validate + compile + render a 1,010-account organisation, then a no-op re-render.

1,000 workload accounts each replicate, from us-east-1 and eu-west-1, to their own us-west-2 and
eu-central-1 and to backup account (i mod 10) in us-east-1 and eu-west-1, with 3 prefix filters;
each backup registry's policy grants 100 source accounts. Targets (2-core machine): full render
< 1 s, no-op re-render < 0.3 s, peak memory < 150 MB.

Each run is a fresh `python -m tfgen render` process, so the times include interpreter start-up and
imports, as a user sees them. Peak memory is the child's max RSS.

    python benchmarks/bench_render.py [--runs 5]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = 1000
BACKUPS = 10


def generate_spec() -> str:
    lines = ["version: 1", "defaults:", '  role_arn: "arn:aws:iam::{account_id}:role/tfgen-ecr"']
    lines.append("accounts:")
    lines.extend(f'  backup-{b:02d}: {{id: "{900000000000 + b:012d}"}}' for b in range(BACKUPS))
    lines.extend(f'  workload-{i:04d}: {{id: "{100000000000 + i:012d}"}}' for i in range(WORKLOADS))
    lines.append("replication:")
    for i in range(WORKLOADS):
        lines += [
            f"  - name: workload-{i:04d}-out",
            f"    from: {{account: workload-{i:04d}, regions: [us-east-1, eu-west-1]}}",
            "    to:",
            f"      - {{account: workload-{i:04d}, regions: [us-west-2, eu-central-1]}}",
            f"      - {{account: backup-{i % BACKUPS:02d}, regions: [us-east-1, eu-west-1]}}",
            "    filters: [team-a/, team-b/, base/]",
        ]
    return "\n".join(lines) + "\n"


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
        noop.append(timed(render)[0])
        val.append(timed(validate)[0])
        startup.append(timed(version)[0])
        floor.append(fs_floor(out, work / "floor"))
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
        f"no-op re-render: {med(noop):.3f} s ({min(noop):.3f}), peak RSS {peak_noop / 1024:.0f} MB"
    )
    print(f"validate only: {med(val):.3f} s; interpreter + CLI start-up: {med(startup):.3f} s")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--base",
        action="append",
        type=Path,
        help="where to render (repeatable); default: the temp dir, and /dev/shm when it exists",
    )
    args = parser.parse_args()
    bases = args.base or [Path(tempfile.gettempdir())] + (
        [Path("/dev/shm")] if Path("/dev/shm").is_dir() else []
    )
    print("targets (2 cores): full render < 1 s, no-op re-render < 0.3 s, peak memory < 150 MB")
    for base in bases:
        bench(base, args.runs)


if __name__ == "__main__":
    main()
