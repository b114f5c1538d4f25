"""tfgen.spec.ahead.read_ahead: a large spec read in a forked child gives exactly what load_file
gives (data, notes, every position), a spec with a problem raises the same errors, the child is
gone once its result is taken, and anything but a clean read is read again in this process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import tfgen.spec
from tests.test_atomic import spec_text
from tfgen.spec.ahead import READ_AHEAD_MIN_BYTES, read_ahead
from tfgen.spec.issues import SpecError
from tfgen.spec.load import Document, load_file

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="reads ahead only with fork"
)


def big_spec(accounts: int = 800, tail: str = "") -> str:
    return spec_text(accounts) + tail


def counting_forks() -> list[int]:
    """Count the children forked from now on (the real fork, wrapped)."""
    pids: list[int] = []
    real = os.fork

    def counted() -> int:
        pid = real()
        if pid:
            pids.append(pid)
        return pid

    os.fork = counted
    return pids


def same(doc: Document, ref: Document) -> None:
    assert doc.data == ref.data
    assert doc.positions.file == ref.positions.file
    assert doc.positions.notes == ref.positions.notes
    assert doc.positions.all_marks() == ref.positions.marks


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


# The cases that fork run in a new interpreter: the test process may run other threads (a test
# before this one may have started a server), and read_ahead rightly never forks then.


def case_clean(tmp: Path) -> None:
    # `011` and `on` are read as numbers and booleans: their notes come back from the child too.
    path = tmp / "tfgen.yaml"
    path.write_text(big_spec(tail="extra: {octal: 011, flag: on}\n"))
    assert path.stat().st_size >= READ_AHEAD_MIN_BYTES
    forks = counting_forks()
    doc = read_ahead(path)()
    (pid,) = forks
    assert reaped(pid)
    ref = load_file(path)
    assert ref.positions.notes  # the check means something
    # the marks under top-level keys stay pickled until a path under one is located
    assert sorted(doc.positions.later) == ["accounts", "extra", "replication", "version"]
    assert doc.positions.locate(("extra", "flag")) == ref.positions.locate(("extra", "flag"))
    assert sorted(doc.positions.later) == ["accounts", "replication", "version"]
    assert doc.positions.locate(("replication", 3, "to", 0)) == ref.positions.locate(
        ("replication", 3, "to", 0)
    )
    same(doc, ref)
    assert not doc.positions.later


def case_problem(tmp: Path) -> None:
    path = tmp / "tfgen.yaml"
    path.write_text(big_spec(tail="extra: 1\nextra: 2\n"))
    forks = counting_forks()
    try:
        read_ahead(path)()
        raise AssertionError("no error")
    except SpecError as exc:
        ahead = exc.issues
    (pid,) = forks
    assert reaped(pid)
    try:
        load_file(path)
        raise AssertionError("no error")
    except SpecError as exc:
        assert exc.issues == ahead
    assert "duplicate key 'extra'" in ahead[0].message


def _read_with_a_failing_child(tmp: Path, dumps: Callable[..., bytes]) -> None:
    """read_ahead with the child's pickling replaced by `dumps` (the forked child inherits it):
    the result is what this process reads itself."""
    import pickle

    path = tmp / "tfgen.yaml"
    path.write_text(big_spec())
    real = pickle.dumps
    pickle.dumps = dumps
    forks = counting_forks()
    try:
        doc = read_ahead(path)()
    finally:
        pickle.dumps = real
    assert len(forks) == 1 and reaped(forks[0])
    same(doc, load_file(path))


def case_child_cannot_report(tmp: Path) -> None:
    def broken(*_: object, **__: object) -> bytes:
        raise RuntimeError("cannot pickle")

    _read_with_a_failing_child(tmp, broken)


def case_child_cut_off(tmp: Path) -> None:
    import pickle

    real = pickle.dumps
    _read_with_a_failing_child(tmp, lambda *a, **k: real(*a, **k)[:1000])  # died mid-write


def case_load_spec_reads_ahead_the_first_time(tmp: Path) -> None:
    # The first load_spec has pydantic and the checks to import: the YAML is read meanwhile.
    path = tmp / "tfgen.yaml"
    path.write_text(big_spec())
    forks = counting_forks()
    assert "tfgen.spec.validate" not in sys.modules
    first = tfgen.spec.load_spec(path)
    assert len(forks) == 1 and reaped(forks[0])
    again = tfgen.spec.load_spec(path)  # nothing left to import: read here
    assert len(forks) == 1
    assert first == again and len(first.spec.accounts) == 800


@pytest.mark.parametrize(
    "case",
    [
        "case_clean",
        "case_problem",
        "case_child_cannot_report",
        "case_child_cut_off",
        "case_load_spec_reads_ahead_the_first_time",
    ],
)
def test_reading_ahead_in_a_child(case: str, tmp_path: Path) -> None:
    code = f"import sys, pathlib; from tests.test_read_ahead import {case}; {case}(pathlib.Path(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_small_spec_a_missing_file_or_another_thread_means_no_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise AssertionError("read_ahead forked")

    monkeypatch.setattr(os, "fork", no_fork)
    small = tmp_path / "small.yaml"
    small.write_text(big_spec(accounts=3))
    same(read_ahead(small)(), load_file(small))
    with pytest.raises(SpecError) as missing:
        read_ahead(tmp_path / "missing.yaml")()
    assert "no such file" in missing.value.issues[0].message
    big = tmp_path / "big.yaml"
    big.write_text(big_spec())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        same(read_ahead(big)(), load_file(big))
    finally:
        stop.set()
        other.join()


def test_the_yaml_reader_is_imported_without_pydantic_and_the_names_are_all_there() -> None:
    code = "import sys, tfgen.spec.load; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    for name in tfgen.spec.__all__:
        assert getattr(tfgen.spec, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = tfgen.spec.nope
