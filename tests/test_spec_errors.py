"""The bad-spec corpus (tests/specs/bad), the warning corpus (tests/specs/good) and generated specs
that break one AWS limit each: every problem names the file, the line, the spec path and the rule;
exit code 1; no traceback; nothing written.

Each corpus file starts with comment lines:

    # expect: <substring of the message>     (bad files; one or more)
    # warn: <substring of the warning>        (good files; zero or more)
    # line: <N> | none                        (applies to the expect/warn above; inherited)
    # path: <spec path> | - (none) | any      (likewise)
    # errors: <N>    /   # warnings: <N>      (exact count, optional; the warning of a spec
                                              with several accounts and no backend counts only
                                              where a `warn:` expects it)
    # absent: <text that must not be printed> (optional, repeatable)
    # xfail: <the known bug that makes this file fail>
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests import specgen
from tfgen import limits
from tfgen.cli import main_group
from tfgen.words import plural

SPECS = Path(__file__).resolve().parent / "specs"
BAD = sorted((SPECS / "bad").glob("*.yaml"))
GOOD = sorted((SPECS / "good").glob("*.yaml"))
REPO = SPECS.parent.parent
ANY = object()


@dataclass
class Expect:
    message: str
    line: int | None
    path: str | object | None  # None: the issue has no path; ANY: not checked


@dataclass
class Header:
    expects: list[Expect] = field(default_factory=list)
    errors: int | None = None
    warnings: int | None = None
    absent: list[str] = field(default_factory=list)
    xfail: str | None = None


def parse_header(file: Path) -> Header:
    """Read the leading comment block. A `line:` or `path:` applies to every expectation above it
    that has none yet, and to the ones below until the next `line:` or `path:`."""
    header = Header()
    line: int | None = None
    path: str | object | None = None
    unset_line: list[Expect] = []
    unset_path: list[Expect] = []
    for raw in file.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("#"):
            break
        key, sep, value = raw[1:].strip().partition(":")
        value = value.strip()
        if not sep:
            continue
        if key in ("expect", "warn"):
            expect = Expect(value, line, path)
            header.expects.append(expect)
            unset_line.append(expect)
            unset_path.append(expect)
        elif key == "line":
            line = None if value == "none" else int(value)
            for expect in unset_line:
                expect.line = line
            unset_line = []
        elif key == "path":
            path = None if value == "-" else ANY if value == "any" else value
            for expect in unset_path:
                expect.path = path
            unset_path = []
        elif key == "errors":
            header.errors = int(value)
        elif key == "warnings":
            header.warnings = int(value)
        elif key == "absent":
            header.absent.append(value)
        elif key == "xfail":
            header.xfail = value
    return header


def _param(file: Path) -> object:
    header = parse_header(file)
    marks = [pytest.mark.xfail(reason=header.xfail, strict=True)] if header.xfail else []
    return pytest.param(file, header, id=file.stem, marks=marks)


@pytest.fixture(autouse=True)
def _crash_logs_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash (a bug, exit 3) writes its log under pytest's tmp dir, not the machine's /tmp."""
    crash_dir = str(tmp_path_factory.mktemp("crash-logs"))
    monkeypatch.setattr(tempfile, "tempdir", crash_dir)
    monkeypatch.setenv("TMPDIR", crash_dir)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(main_group, ["--no-color", *args], catch_exceptions=False)


def run_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tfgen", "--no-color", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def find_issue_line(stderr: str, file: str, severity: str, expect: Expect) -> str:
    """The one printed issue line that has this file, line, severity, path and message."""
    loc = f"{file}:{expect.line}:" if expect.line is not None else f"{file}: "
    candidates = []
    for text in stderr.splitlines():
        if not text.startswith(loc) or f" {severity}: " not in text:
            continue
        rest = text.split(f" {severity}: ", 1)[1]
        # A path-less issue is checked exactly by the --json tests (path "").
        if isinstance(expect.path, str) and not rest.startswith(f"{expect.path}: "):
            continue
        candidates.append(text)
        if expect.message in rest:
            return text
    raise AssertionError(
        f"no {severity} at {loc} path {expect.path!r} containing {expect.message!r}.\n"
        f"Same place: {candidates}\nstderr:\n{stderr}"
    )


def assert_no_crash(*outputs: str) -> None:
    for out in outputs:
        assert "Traceback" not in out
        assert "internal error" not in out


def assert_bad(file: Path, header: Header, stderr: str, exit_code: int) -> None:
    assert_no_crash(stderr)
    assert exit_code == 1, stderr
    assert header.expects, f"{file.name} has no '# expect:' line"
    for expect in header.expects:
        find_issue_line(stderr, str(file), "error", expect)
    printed = [t for t in stderr.splitlines() if t.startswith(str(file)) and " error: " in t]
    if header.errors is not None:
        assert len(printed) == header.errors, stderr
        assert f"{plural(header.errors, 'error')}; nothing was written." in stderr
    for text in header.absent:
        assert text not in stderr


def assert_json_issues(file: Path, header: Header, stdout: str, severity: str) -> None:
    """`validate --json`: the same issues, with the exact path and line as data."""
    report = json.loads(stdout)
    assert report["valid"] is (severity == "warning")
    issues = [i for i in report["issues"] if i["severity"] == severity]
    for expect in header.expects:
        matches = [
            i
            for i in issues
            if expect.message in i["message"]
            and i["line"] == expect.line
            and (expect.path is ANY or i["path"] == (expect.path or ""))
            and i["file"] == str(file)
        ]
        assert matches, f"{expect} not in {issues}"


# ---- the corpus of bad specs ---------------------------------------------------------------


def test_corpus_is_there() -> None:
    assert len(BAD) >= 60
    assert len(GOOD) >= 8
    for file in (*BAD, *GOOD):
        header = parse_header(file)
        assert header.expects or header.warnings == 0, f"{file.name}: no expectation"
        assert all(e.line is not None or e.path is None for e in header.expects), file.name


@pytest.mark.parametrize(("file", "header"), [_param(f) for f in BAD])
def test_bad_spec_validate(file: Path, header: Header) -> None:
    result = run_cli("validate", str(file))
    assert_bad(file, header, result.stderr, result.exit_code)
    assert result.stdout == ""


@pytest.mark.parametrize(("file", "header"), [_param(f) for f in BAD])
def test_bad_spec_validate_json(file: Path, header: Header) -> None:
    result = run_cli("validate", "--json", str(file))
    assert_no_crash(result.stderr, result.stdout)
    assert result.exit_code == 1
    assert_json_issues(file, header, result.stdout, "error")


@pytest.mark.parametrize(("file", "header"), [_param(f) for f in BAD])
def test_bad_spec_writes_nothing(file: Path, header: Header, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("render", str(file), "--out", str(out))
    assert_bad(file, header, result.stderr, result.exit_code)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    compiled = run_cli("compile", "--json", str(file))
    assert compiled.exit_code == 1
    # --json: a program reading stdout gets a JSON answer, never nothing (nor a half state)
    answer = json.loads(compiled.stdout)
    assert answer["exit_code"] == 1 and answer["error"]


SUBPROCESS = [
    "unknown-key-nested",
    "duplicate-key-deep",
    "malformed-flow-mapping",
    "empty",
    "cross-partition",
]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_bad_spec_real_process(name: str) -> None:
    file = SPECS / "bad" / f"{name}.yaml"
    proc = run_subprocess("validate", str(file))
    assert_bad(file, parse_header(file), proc.stderr, proc.returncode)
    assert_no_crash(proc.stdout)


def test_bad_spec_real_process_renders_nothing(tmp_path: Path) -> None:
    file = SPECS / "bad" / "region-typo-to.yaml"
    out = tmp_path / "out"
    proc = run_subprocess("render", str(file), "--out", str(out))
    assert_bad(file, parse_header(file), proc.stderr, proc.returncode)
    assert not out.exists()


def test_missing_spec_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run_cli("validate", str(missing))
    assert result.exit_code == 1
    assert f"{missing}: error: no such file" in result.stderr
    assert_no_crash(result.stderr)


def test_spec_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "latin1.yaml"
    file.write_bytes("version: 1\naccounts: {caf\xe9: {id: '111111111111'}}\n".encode("latin-1"))
    result = run_cli("validate", str(file))
    assert result.exit_code == 1
    assert f"{file}: error: cannot read the spec" in result.stderr
    assert_no_crash(result.stderr)


# ---- generated specs that break one limit each ----------------------------------------------


@dataclass
class Generated:
    build: Callable[[], specgen.Spec]
    marker: str  # a unique substring of the line the error must point at
    path: str
    messages: list[str]
    errors: int = 1


LIMIT_CASES = {
    "eleven-rules-in-one-registry": Generated(
        lambda: specgen.too_many_rules(11),
        '"rule-10"',
        "replication[10]",
        [
            "registry hub/us-east-1 gets 11 rules (replication[0], replication[1]",
            f"at most {limits.RULES_PER_REGISTRY.value} replication rules",
        ],
    ),
    "twenty-six-unique-destinations-across-two-rules": Generated(
        lambda: specgen.many_destinations([13, 13]),
        '"fan-1"',  # the entry whose rule adds the 26th destination
        "replication[1].to",
        [
            "registry hub/us-east-1 replicates to 26 unique destinations",
            f"at most {limits.UNIQUE_DESTINATIONS_PER_REGISTRY.value} unique destinations",
        ],
    ),
    "twenty-six-destinations-in-one-rule": Generated(
        lambda: specgen.many_destinations([26]),
        '"fan-0"',
        "replication[0].to",
        ["replicates to 26 unique destinations"],
        errors=2,
    ),
    "hundred-and-one-filters": Generated(
        lambda: specgen.many_filters(101),
        '"filtered"',
        "replication[0].filters",
        ["101 filters; at most 100 repository filters in one rule"],
    ),
    "policy-too-large-350-sources": Generated(
        lambda: specgen.fan_in(350),
        '"in-000"',
        "replication[0]",
        [
            "the registry policy of sink/us-east-1 would be ",
            "(grants for 350 source accounts and 0 extra statements)",
            "the API allows at most 10,240",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(LIMIT_CASES))
def test_generated_limit_breach(name: str, tmp_path: Path) -> None:
    case = LIMIT_CASES[name]
    file = tmp_path / f"{name}.yaml"
    text = specgen.to_yaml(case.build())
    file.write_text(text)
    line = specgen.line_of(text, case.marker)
    header = Header(expects=[Expect(m, line, case.path) for m in case.messages], errors=case.errors)
    result = run_cli("validate", str(file))
    assert_bad(file, header, result.stderr, result.exit_code)
    out = tmp_path / "out"
    result = run_cli("render", str(file), "--out", str(out))
    assert_bad(file, header, result.stderr, result.exit_code)
    assert not out.exists()


def test_one_rule_over_25_destinations_names_the_rule(tmp_path: Path) -> None:
    text = specgen.to_yaml(specgen.many_destinations([26]))
    file = tmp_path / "wide.yaml"
    file.write_text(text)
    result = run_cli("validate", str(file))
    expect = Expect(
        "the rule for hub/us-east-1 has 26 destinations; at most 25 destinations in one rule",
        specgen.line_of(text, '"fan-0"'),
        "replication[0].to",
    )
    find_issue_line(result.stderr, str(file), "error", expect)


def test_policy_size_message_has_the_real_size(tmp_path: Path) -> None:
    file = tmp_path / "fan-in.yaml"
    file.write_text(specgen.to_yaml(specgen.fan_in(350)))
    result = run_cli("validate", str(file))
    found = re.search(r"would be ([\d,]+) characters \(grants for (\d+) source", result.stderr)
    assert found, result.stderr
    size, count = int(found.group(1).replace(",", "")), int(found.group(2))
    assert count == 350
    # Each principal is '"arn:aws:iam::<12 digits>:root",' (33 characters) in compact JSON.
    assert 350 * 33 < size < 350 * 33 + 600
    assert size > limits.REGISTRY_POLICY_MAX_LENGTH.value


LIMIT_BOUNDARIES = {
    "ten-rules": lambda: specgen.too_many_rules(10),
    "twenty-five-unique-destinations": lambda: specgen.many_destinations([13, 12]),
    "twenty-five-destinations-in-one-rule": lambda: specgen.many_destinations([25]),
    "hundred-filters": lambda: specgen.many_filters(100),
    "three-hundred-sources-fit-in-one-policy": lambda: specgen.fan_in(300),
}


@pytest.mark.parametrize("name", sorted(LIMIT_BOUNDARIES))
def test_generated_at_the_limit_is_valid(name: str, tmp_path: Path) -> None:
    file = tmp_path / f"{name}.yaml"
    file.write_text(specgen.to_yaml(LIMIT_BOUNDARIES[name]()))
    result = run_cli("validate", str(file))
    assert result.exit_code == 0, result.stderr
    assert " error: " not in result.stderr
    assert f"{file}: valid;" in result.stderr


def test_three_hundred_sources_share_one_packed_grant(tmp_path: Path) -> None:
    file = tmp_path / "fan-in.yaml"
    file.write_text(specgen.to_yaml(specgen.fan_in(300)))
    result = run_cli("compile", "--json", str(file))
    assert result.exit_code == 0, result.stderr
    sink = next(r for r in json.loads(result.stdout) if r["account"] == "sink")
    policy = sink["registry_policy"]
    assert len(json.dumps(policy, separators=(",", ":"), sort_keys=True)) <= 10240
    principals = [p for s in policy["Statement"] for p in s["Principal"]["AWS"]]
    assert sorted(principals) == sorted(
        f"arn:aws:iam::{specgen.account_id(i)}:root" for i in range(1, 301)
    )


# ---- warnings: valid specs, exit 0 ----------------------------------------------------------

# Most corpus specs have several accounts and no backend, which is not what they are about.
NO_BACKEND = ": no backend for "


def expects_no_backend(header: Header) -> bool:
    return any(e.message.startswith("no backend") for e in header.expects)


@pytest.mark.parametrize(("file", "header"), [_param(f) for f in GOOD])
def test_warning_spec(file: Path, header: Header) -> None:
    result = run_cli("validate", str(file))
    assert_no_crash(result.stderr)
    assert result.exit_code == 0, result.stderr
    assert " error: " not in result.stderr
    for expect in header.expects:
        find_issue_line(result.stderr, str(file), "warning", expect)
    warnings = [t for t in result.stderr.splitlines() if " warning: " in t]
    counted = [t for t in warnings if NO_BACKEND not in t or expects_no_backend(header)]
    if header.warnings is not None:
        assert len(counted) == header.warnings, result.stderr
        if warnings:
            assert plural(len(warnings), "warning") in result.stderr
    for text in header.absent:
        assert text not in result.stderr
    as_json = run_cli("validate", "--json", str(file))
    assert as_json.exit_code == 0
    assert_json_issues(file, header, as_json.stdout, "warning")
    compiled = run_cli("compile", "--json", str(file))
    assert compiled.exit_code == 0
    assert json.loads(compiled.stdout)


def test_mesh_drops_the_source_registry_from_every_rule() -> None:
    result = run_cli("compile", "--json", str(SPECS / "good" / "mesh.yaml"))
    assert result.exit_code == 0, result.stderr
    registries = json.loads(result.stdout)
    assert len(registries) == 6
    for reg in registries:
        (rule,) = reg["replication_configuration"]["rules"]
        dests = {(d["registryId"], d["region"]) for d in rule["destinations"]}
        assert len(dests) == 5
        assert (reg["account_id"], reg["region"]) not in dests


def test_unquoted_dates_compile_to_the_text_written() -> None:
    result = run_cli("compile", "--json", str(SPECS / "good" / "unquoted-dates.yaml"))
    assert result.exit_code == 0, result.stderr
    prod = next(r for r in json.loads(result.stdout) if r["account"] == "prod")
    (template,) = prod["creation_templates"]
    assert json.loads(template["repositoryPolicy"])["Version"] == "2012-10-17"
    audit = next(s for s in prod["registry_policy"]["Statement"] if s["Sid"] == "AuditUntil2030")
    assert audit["Condition"] == {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}
