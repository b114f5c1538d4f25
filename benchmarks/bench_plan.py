"""Benchmark: `tfgen plan --parallelism 2` over 40 null-provider stacks against a sequential shell
loop of `terraform init && terraform plan` in each stack, in one run, on fresh copies.

Run from the repository root:
    python benchmarks/bench_plan.py [--stacks 40] [--rounds 1] [--terraform PATH]
With --rounds N the two contenders alternate N times on fresh copies and the median is taken,
which tames the noise of a shared machine (the load average is printed too).

Prints the wall times, their ratio, and tfgen's own overhead per stack:
- cpu: user+sys CPU time of the tfgen process itself (imports, scheduling, hashing, logs,
  parsing `show -json`, reports), excluding terraform, divided by the number of stacks;
- wall: per stack, the time tfgen spent outside terraform commands, waiting for the
  init lock excluded (mean over stacks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import runkit, tfenv  # noqa: E402

TARGET_RATIO = 0.6
TARGET_OVERHEAD_MS = 50.0

# Runs inside a fresh Python process so its CPU time is tfgen's alone (terraform runs in
# children, which RUSAGE_SELF does not count).
_TFGEN = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from tfgen.commands.run import Options, plan
code = plan(Path(sys.argv[1]), Options(parallelism=2, terraform=sys.argv[2],
            json_report=Path(sys.argv[3])), detailed_exitcode=True)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "cpu": ru.ru_utime + ru.ru_stime}))
"""


def _tree(root: Path, n: int) -> Path:
    stacks = []
    for i in range(n):
        kind = "registry-policy" if i % 2 == 0 else "replication"
        stacks.append(runkit.StackDef(f"acct{i:03d}/{kind}", runkit.resource("r", str(i))))
    return runkit.build_tree(root, stacks)


def _loop(root: Path, terraform: str, env: dict[str, str]) -> float:
    script = (
        'set -e; for d in stacks/*/*; do (cd "$d" && "$TF" init -input=false -no-color '
        '>/dev/null && "$TF" plan -input=false -no-color >/dev/null); done'
    )
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], cwd=root, env={**env, "TF": terraform}, check=True)
    return time.perf_counter() - start


def _tfgen(root: Path, terraform: str, env: dict[str, str]) -> tuple[float, float, Path]:
    report = root.parent / "tfgen-report.json"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _TFGEN, str(root), terraform, str(report)],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
    data = json.loads(last)
    if data.get("code") not in (0, 2):
        sys.exit(f"tfgen plan failed (exit {data.get('code')}):\n{proc.stdout}\n{proc.stderr}")
    return wall, float(data["cpu"]), report


def _outside_terraform(report: Path) -> float:
    stacks = json.loads(report.read_text())["stacks"]
    gaps = [
        s["duration_s"] - sum(c["duration_s"] + c["waited_s"] for c in s["commands"])
        for s in stacks
    ]
    return sum(gaps) / len(gaps)


def _round(
    base: Path, template: Path, i: int, terraform: str, env: dict[str, str]
) -> dict[str, float]:
    loop_root = base / f"loop{i}"
    tfgen_root = base / f"tfgen{i}"
    shutil.copytree(template, loop_root)
    shutil.copytree(template, tfgen_root)
    # Alternate who goes first, so a burst of load elsewhere does not always hit the same one.
    if i % 2 == 0:
        loop = _loop(loop_root, terraform, env)
        wall, cpu, report = _tfgen(tfgen_root, terraform, env)
    else:
        wall, cpu, report = _tfgen(tfgen_root, terraform, env)
        loop = _loop(loop_root, terraform, env)
    return {"loop": loop, "tfgen": wall, "cpu": cpu, "gap": _outside_terraform(report)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--terraform", default=str(tfenv.terraform_on_path() or "terraform"))
    args = parser.parse_args()
    n: int = args.stacks
    load_before = os.getloadavg()[0]
    rounds = []
    with tempfile.TemporaryDirectory(prefix="tfgen-bench-") as tmp:
        base = Path(tmp)
        mirror = tfenv.build_mirror(base / "mirror")
        cli_config = tfenv.write_cli_config(base / "cli.tfrc", {tfenv.NULL: mirror})
        env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_CACHE_DIR"}
        env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1")
        template = _tree(base / "template", n)
        for i in range(args.rounds):
            r = _round(base, template, i, args.terraform, env)
            rounds.append(r)
            if args.rounds > 1:
                print(
                    f"round {i + 1}: loop {r['loop']:.2f} s, tfgen {r['tfgen']:.2f} s, "
                    f"ratio {r['tfgen'] / r['loop']:.2f}",
                    flush=True,
                )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    loop_wall, tfgen_wall = median("loop"), median("tfgen")
    ratio = statistics.median(r["tfgen"] / r["loop"] for r in rounds)
    cpu_ms = median("cpu") / n * 1000
    gap_ms = median("gap") * 1000
    print(
        f"stacks: {n}, rounds: {args.rounds}, cpus: {os.cpu_count()}, "
        f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(f"terraform: {args.terraform}")
    print(
        f"sequential loop (init && plan): {loop_wall:7.2f} s  ({loop_wall / n * 1000:.0f} ms/stack)"
    )
    print(
        f"tfgen plan --parallelism 2:     {tfgen_wall:7.2f} s  ({tfgen_wall / n * 1000:.0f} ms/stack)"
    )
    print(f"ratio tfgen/loop:               {ratio:7.2f}   (target <= {TARGET_RATIO})")
    print(f"tfgen overhead, CPU per stack:  {cpu_ms:7.1f} ms (target <= {TARGET_OVERHEAD_MS:.0f})")
    print(f"tfgen wall outside terraform:   {gap_ms:7.1f} ms per stack (init-lock wait excluded)")
    ok = ratio <= TARGET_RATIO and cpu_ms <= TARGET_OVERHEAD_MS and gap_ms <= TARGET_OVERHEAD_MS
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
