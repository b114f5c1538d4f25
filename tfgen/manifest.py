"""`tfgen.manifest.json`: what tfgen owns in a rendered tree, and the rules for touching it.

The one reader and encoder of the file (schema in docs/architecture.md). Render writes it, the
runner and the CI formats read it; all of them get the same typed `Manifest` and `ManifestStack`.

A manifest arrives in pull requests like any file, and render deletes what it lists, so `parse`
checks every key and type and every path: relative, normalised (no empty, `.` or `..` parts, no
backslash, NUL or control character), under `stacks/` or `modules/` (the only places tfgen writes),
never a hidden name (`.git`, `.terraform`, `.tfgen`). `TreeGuard` adds the checks that can only be
made at use time, against the disk: no directory on the way is a symbolic link, and an owned file
is a regular file, read without following a link. `check_tree` refuses a tree that is not what
its manifest says (before plan, apply and `stacks` act on it).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from tfgen import limits, versions
from tfgen.constants import STATE_DIR
from tfgen.errors import TfgenError

MANIFEST = "tfgen.manifest.json"
MANIFEST_VERSION = 1
# Written by render while it updates a tree (tfgen.render.journal); present only if interrupted.
JOURNAL = f"{STATE_DIR}/render-journal.json"
# Files that change what Terraform plans; run-time files (.terraform/, state, plans) do not.
CONFIG_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json")
REGISTRY_POLICY = "registry-policy"
REPLICATION = "replication"
# Phase 1 (what lets a registry receive) is applied before phase 2 (what it sends): an image pushed
# while a rule exists but its destination's grant does not is never replicated.
PHASES: Mapping[str, int] = {REGISTRY_POLICY: 1, REPLICATION: 2}
PHASE_NAMES: Mapping[int, str] = {phase: kind for kind, phase in PHASES.items()}
OWNED_TOPS = ("modules", "stacks")  # every file tfgen writes lies under one of these

_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_STACK_ID = re.compile(rf"{_NAME}/{_NAME}")
_ACCOUNT_ID = re.compile(r"(\d{12})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ACCOUNT_NAME = re.compile(limits.ACCOUNT_NAME_PATTERN)
_ROLE_ARN = re.compile(limits.ROLE_ARN_PATTERN)
# A Region becomes a provider alias (its '-' as '_'): letters, digits and '-', a letter first.
_REGION = re.compile(r"[a-z][a-z0-9-]{1,24}")
_STACK_KEYS = {
    "id": "a string",
    "path": "a string",
    "kind": "a string",
    "phase": "a number",
    "account": "a string",
    "account_id": "a string",
    "regions": "a list of strings",
    "modules": "a list of strings",
    "depends_on": "a list of strings",
    "retired": "true or false",
    "retired_regions": "a list of strings",
    "role_arn": "a string",
    "aws_provider": "a string",
    "orphaned": "true or false",  # what manifests before 0.2 called `retired`
}
_REQUIRED_STACK_KEYS = ("id", "path", "kind", "phase")
_TOP_KEYS = ("manifest_version", "generator", "files", "stacks")


class ManifestError(TfgenError):
    """`tfgen.manifest.json` is missing, malformed or lists a path outside what tfgen owns."""


class UnsafePathError(TfgenError):
    """A path tfgen owns leads through a symbolic link, or is not a regular file."""


@dataclass(frozen=True, slots=True)
class ManifestStack:
    """One root stack of a rendered tree: what render writes, the runner runs and CI lists.

    `id` is `<account>/<kind>`; `path` (relative to the tree) is its directory; `modules` are the
    tree's module directories it calls; `depends_on` the stacks that must be applied first.
    `retired` marks a stack gone from the spec: it is rendered without module calls, so its plan
    destroys what it managed, and kept until `render --prune` finds that removal applied.
    `retired_regions` are Regions (of `regions`) that left a stack that stays: their providers are
    kept, for the same reason, until `--prune`.
    """

    id: str
    path: str
    kind: str
    phase: int
    depends_on: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    account: str = ""
    account_id: str = ""
    regions: tuple[str, ...] = ()
    retired: bool = False
    retired_regions: tuple[str, ...] = ()
    # What its providers assume and the hashicorp/aws constraint it was rendered with: a retired
    # stack is rendered from these (its account may be gone from the spec), never kept as it was.
    role_arn: str = ""
    aws_provider: str = ""

    @property
    def slug(self) -> str:
        """The id with `/` → `-`: usable in artifact, job and project names."""
        return self.id.replace("/", "-")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "account": self.account,
            "account_id": self.account_id,
            "depends_on": list(self.depends_on),
            "id": self.id,
            "kind": self.kind,
            "modules": list(self.modules),
            "path": self.path,
            "phase": self.phase,
            "regions": list(self.regions),
        }
        if self.retired:
            data["retired"] = True
        if self.retired_regions:
            data["retired_regions"] = list(self.retired_regions)
        if self.role_arn:
            data["role_arn"] = self.role_arn
        if self.aws_provider:
            data["aws_provider"] = self.aws_provider
        return data


@dataclass(frozen=True)
class Manifest:
    """A rendered tree's manifest: every file tfgen owns (relative path → sha256 of the bytes it
    wrote) and every stack, sorted by id as render writes them."""

    root: Path
    files: Mapping[str, str]
    stacks: tuple[ManifestStack, ...]
    generator: str = ""

    def ordered(self) -> tuple[ManifestStack, ...]:
        """Every stack, retired ones too (their plans destroy what they managed), in (phase, id)
        order."""
        return tuple(sorted(self.stacks, key=lambda s: (s.phase, s.id)))


# --- reading --------------------------------------------------------------------------------------


def read(root: Path) -> Manifest | None:
    """The manifest of the tree at `root`, or None when there is none yet."""
    path = root / MANIFEST
    try:
        raw = TreeGuard(root).read(MANIFEST)
    except UnsafePathError as exc:
        raise ManifestError(str(exc)) from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(
            f"{path}: not valid JSON ({exc}); restore it from version control "
            "or re-render into an empty directory"
        ) from None
    return parse(data, root)


def load(root: Path, *, command: str = "plan", shown: Path | None = None) -> Manifest:
    """The manifest of the tree at `root`; when there is none, an error that says where the
    rendered tree is (`tfgen <command> infra/ecr`), or where tfgen looked for one. `shown` is
    `root` as the user wrote it, for the messages."""
    manifest = read(root)
    if manifest is None:
        raise ManifestError(missing(root, command, shown or root))
    return manifest


# Where `missing` looks for a rendered tree: this deep below the directory given, past nothing
# hidden (.git, .terraform, .tfgen, .venv) and no node_modules, and no further than this many
# directories, so a command run in a home directory answers at once.
FIND_DEPTH = 4
_FIND_LIMIT = 5_000


def find_trees(start: Path) -> list[Path]:
    """The rendered trees (directories holding a manifest) below `start`, nearest first."""
    found: list[Path] = []
    seen = 0
    for top, dirs, files in os.walk(start):  # never follows a link to a directory
        depth = len(Path(top).relative_to(start).parts)
        if MANIFEST in files and Path(top) != start:
            found.append(Path(top))
            dirs.clear()  # a tree holds no other tree
            continue
        seen += len(dirs)
        if depth >= FIND_DEPTH or seen > _FIND_LIMIT:
            dirs.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
    return sorted(found, key=lambda p: (len(p.parts), p))


def missing(root: Path, command: str, shown: Path) -> str:
    """What to say when `root` holds no manifest: the tree found below it, or where tfgen looked."""
    here = f"{shown / MANIFEST} not found"
    try:
        trees = find_trees(root) if root.is_dir() else []
    except OSError:
        trees = []
    below = [(shown / t.relative_to(root)).as_posix() for t in trees]
    if len(below) == 1:
        return f"{here}; the rendered tree is in {below[0]}: run `tfgen {command} {below[0]}`"
    if below:
        listed = ", ".join(below[:5]) + (f" and {len(below) - 5} more" if len(below) > 5 else "")
        return f"{here}; rendered trees below it: {listed}. Name one: `tfgen {command} {below[0]}`"
    return (
        f"{here}, nor in the directories below it ({FIND_DEPTH} levels, hidden ones and "
        "node_modules left out). Render a tree first, e.g. `tfgen render tfgen.yaml --out "
        f"infra/ecr`, then `tfgen {command} infra/ecr`; or give the directory you rendered into"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def parse(data: Any, root: Path) -> Manifest:
    """Check `data` (the parsed JSON) against the schema; every problem is reported at once."""
    where = root / MANIFEST
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {_kind(data)}")
    version = data.get("manifest_version")
    if type(version) is not int or version != MANIFEST_VERSION:
        raise ManifestError(
            f"{where}: manifest_version {version!r} is not supported: this tfgen reads version "
            f"{MANIFEST_VERSION}; re-render with this tfgen (or use the tfgen that wrote it)"
        )
    problems.extend(
        f"unknown key {key!r} (the keys are: {', '.join(_TOP_KEYS)})"
        for key in data
        if key not in _TOP_KEYS
    )
    generator = data.get("generator", "")
    if not isinstance(generator, str) or _CONTROL.search(generator):
        problems.append("generator: expected a string without control characters")
        generator = ""
    files = _files(data.get("files"), problems)
    stacks = _stacks(data.get("stacks"), problems)
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if problems[10:] else [])
        raise ManifestError(
            f"{where} is not a manifest tfgen wrote:\n  "
            + "\n  ".join(shown)
            + "\nRestore it from version control, or re-render into an empty directory."
        )
    return Manifest(root=root, files=files, stacks=stacks, generator=generator)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _files(raw: Any, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        problems.append(f"files: expected an object of path → sha256, got {_kind(raw)}")
        return {}
    out: dict[str, str] = {}
    for rel, digest in raw.items():
        where = f"files[{rel!r}]"
        problem = path_problem(rel)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        elif not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            problems.append(f"{where}: expected a sha256 (64 hex digits), got {digest!r}")
        else:
            out[rel] = digest
    return dict(sorted(out.items()))


def _stacks(raw: Any, problems: list[str]) -> tuple[ManifestStack, ...]:
    if not isinstance(raw, list):
        problems.append(f"stacks: expected a list of stacks, got {_kind(raw)}")
        return ()
    out: list[ManifestStack] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        stack = _stack(item, f"stacks[{i}]", problems)
        if stack is None:
            continue
        if stack.id in seen:
            problems.append(f"stacks[{i}]: stack id {stack.id!r} appears twice")
        seen.add(stack.id)
        out.append(stack)
    return tuple(out)


def _stack(raw: Any, where: str, problems: list[str]) -> ManifestStack | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected an object, got {_kind(raw)}")
        return None
    before = len(problems)
    problems.extend(
        f"{where}: unknown key {key!r} (the keys are: {', '.join(_STACK_KEYS)})"
        for key in raw
        if key not in _STACK_KEYS
    )
    problems.extend(
        f"{where}: missing key {key!r}" for key in _REQUIRED_STACK_KEYS if key not in raw
    )
    for key, value in raw.items():
        expected = _STACK_KEYS.get(key)
        if expected is not None and not _has_type(value, expected):
            problems.append(f"{where}.{key}: expected {expected}, got {_kind(value)}")
    if len(problems) > before:
        return None
    stack = ManifestStack(
        id=raw["id"],
        path=raw["path"],
        kind=raw["kind"],
        phase=raw["phase"],
        depends_on=tuple(raw.get("depends_on", ())),
        modules=tuple(raw.get("modules", ())),
        account=raw.get("account", ""),
        account_id=raw.get("account_id", ""),
        regions=tuple(raw.get("regions", ())),
        retired=raw.get("retired", False) or raw.get("orphaned", False),
        retired_regions=tuple(raw.get("retired_regions", ())),
        role_arn=raw.get("role_arn", ""),
        aws_provider=raw.get("aws_provider", ""),
    )
    problems.extend(f"{where}.{p}" for p in _stack_problems(stack))
    return stack if len(problems) == before else None


def _has_type(value: Any, expected: str) -> bool:
    if expected == "a string":
        return isinstance(value, str)
    if expected == "a number":
        return type(value) is int
    if expected == "true or false":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _stack_problems(stack: ManifestStack) -> Iterable[str]:
    if not _STACK_ID.fullmatch(stack.id):
        yield f"id: {stack.id!r} is not a stack id ('<account>/<kind>')"
    if stack.kind not in PHASES:
        yield f"kind: {stack.kind!r} is not one of {', '.join(PHASES)}"
    elif stack.phase != PHASES[stack.kind]:
        yield f"phase: a {stack.kind} stack is in phase {PHASES[stack.kind]}, not {stack.phase}"
    problem = path_problem(stack.path, top="stacks")
    if problem is not None:
        yield f"path: {problem}"
    for i, module in enumerate(stack.modules):
        problem = path_problem(module, top="modules")
        if problem is not None:
            yield f"modules[{i}]: {problem}"
    for i, dep in enumerate(stack.depends_on):
        if not _STACK_ID.fullmatch(dep):
            yield f"depends_on[{i}]: {dep!r} is not a stack id"
    if not _ACCOUNT_ID.fullmatch(stack.account_id):
        yield f"account_id: {stack.account_id!r} is not 12 digits"
    if stack.account and not _ACCOUNT_NAME.fullmatch(stack.account):
        yield f"account: {stack.account!r} is not an account name of a spec"
    for region in stack.regions:
        if not _REGION.fullmatch(region):
            yield f"regions: {region!r} is not a Region name"
    for region in stack.retired_regions:
        if region not in stack.regions:
            yield f"retired_regions: {region!r} is not one of the stack's regions"
    if stack.role_arn and not _ROLE_ARN.fullmatch(stack.role_arn):
        yield f"role_arn: {stack.role_arn!r} is not an IAM role ARN"
    if stack.aws_provider:
        try:
            versions.parse(stack.aws_provider)
        except versions.ConstraintError:
            yield f"aws_provider: {stack.aws_provider!r} is not a version constraint"


def path_problem(rel: Any, *, top: str | None = None) -> str | None:
    """Why `rel` cannot be a path tfgen owns, or None. Owned paths are relative, normalised
    POSIX paths under `stacks/` or `modules/` (or `top`), without hidden or control characters."""
    if not isinstance(rel, str):
        return f"expected a path (a string), got {_kind(rel)}"
    shown = repr(rel)
    drive = rel[:1].isascii() and rel[:1].isalpha() and rel[1:2] == ":"  # C:... on Windows
    if rel.startswith("/") or drive:
        return f"{shown} is absolute; every path must be relative to the tree"
    if "\\" in rel:
        return f"{shown} holds a backslash; paths use '/'"
    if _CONTROL.search(rel):
        return f"{shown} holds a control character"
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"{shown} is not normalised (empty, '.' or '..' parts); it must stay inside the tree"
    if any(p.startswith(".") for p in parts):
        return f"{shown} names a hidden file or directory, which tfgen never writes"
    allowed = (top,) if top else OWNED_TOPS
    if parts[0] not in allowed or len(parts) < 2:
        return f"{shown} is not under {' or '.join(f'{t}/' for t in allowed)}, where tfgen writes"
    return None


def check_path(rel: str) -> str:
    """`rel` if tfgen may own it; UnsafePathError otherwise (for paths render computes)."""
    problem = path_problem(rel)
    if problem is not None:
        raise UnsafePathError(f"refusing to write outside what tfgen owns: {problem}")
    return rel


# --- encoding -------------------------------------------------------------------------------------


def encode(
    files: Mapping[str, str],
    stacks: Sequence[ManifestStack],
    generator: str,
    rows: Mapping[str, str] | None = None,
) -> bytes:
    """The manifest's bytes: one file or stack per line, for readable diffs in review, built with
    the C encoder (json's indent= path is pure Python and 5x slower on large trees). `rows`: the
    stacks' lines by id, made beforehand with `stack_row` (by the processes that rendered them)."""
    quote = encode_basestring_ascii  # what json.dumps does to a str, without its Python layers
    head = f'  "generator": {json.dumps(generator)},\n  "manifest_version": {MANIFEST_VERSION},\n'
    lines = ",\n".join(f"    {quote(k)}: {quote(v)}" for k, v in sorted(files.items()))
    ordered = sorted(stacks, key=lambda s: s.id)
    text = ",\n".join(rows[s.id] if rows else stack_row(s) for s in ordered)
    return f'{{\n{head}  "files": {{\n{lines}\n  }},\n  "stacks": [\n{text}\n  ]\n}}\n'.encode()


def stack_row(stack: ManifestStack) -> str:
    """The manifest's line for one stack."""
    return f"    {json.dumps(stack.to_json(), sort_keys=True)}"


# --- use-time checks ------------------------------------------------------------------------------


class TreeGuard:
    """Paths under a rendered tree, checked when they are used: a directory on the way that is a
    symbolic link is refused (it would carry a read, write or delete outside the tree), and owned
    files are opened without following a link. Checked directories are remembered, so a tree of
    thousands of files costs one `lstat` per directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = str(root)
        self._dirs: set[str] = {""}

    def path(self, rel: str) -> str:
        """The full path of `rel`, after checking the directories that lead to it."""
        parent = rel.rpartition("/")[0]
        if parent not in self._dirs:
            self._check_dirs(parent)
        return os.path.join(self._base, rel)  # noqa: PTH118 - thousands of files: str paths

    def _check_dirs(self, rel_dir: str) -> None:
        prefix = ""
        for part in rel_dir.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix in self._dirs:
                continue
            try:
                mode = os.lstat(os.path.join(self._base, prefix)).st_mode  # noqa: PTH118
            except (FileNotFoundError, NotADirectoryError):
                return  # nothing below exists yet: creating it creates real directories
            if stat.S_ISLNK(mode):
                raise UnsafePathError(
                    f"{self.root / prefix} is a symbolic link; tfgen never follows links inside "
                    "the tree it owns: replace it with the directory, or remove it and re-render"
                )
            if not stat.S_ISDIR(mode):
                return  # a file where a directory must be: nothing below it exists
            self._dirs.add(prefix)

    def read(self, rel: str) -> bytes | None:
        """The bytes of the owned file `rel`; None when it does not exist."""
        full = self.path(rel)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(
                    f"{full} is a symbolic link; tfgen owns a file there and never follows links: "
                    "remove the link and re-render"
                ) from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise UnsafePathError(f"{full} is not a regular file; tfgen owns a file there")
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def exists(self, rel: str) -> bool:
        """Whether anything (a link included) is at `rel`."""
        try:
            os.lstat(self.path(rel))
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def unlink(self, rel: str) -> None:
        """Remove `rel` itself (never what a link points to)."""
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            os.unlink(self.path(rel))  # noqa: PTH108


# --- the tree against its manifest ----------------------------------------------------------------


def config_files(root: Path, rel_dir: str) -> list[str]:
    """The Terraform configuration files under `rel_dir` on disk (relative to `root`), sorted;
    hidden directories (`.terraform`, `.tfgen`) are not configuration and are skipped."""
    out: list[str] = []
    base = os.path.join(str(root), rel_dir)  # noqa: PTH118
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel = os.path.relpath(dirpath, str(root)).replace(os.sep, "/")
        out.extend(f"{rel}/{name}" for name in filenames if name.endswith(CONFIG_SUFFIXES))
    return sorted(out)


def tree_problems(manifest: Manifest) -> list[str]:
    """How the tree differs from its manifest: a listed file missing, changed since render wrote
    it (another sha256) or not a regular file; a configuration file in a stack's or a module's
    directory that the manifest does not list; a stack or module without files."""
    root = manifest.root
    problems: list[str] = []
    if os.path.lexists(root / JOURNAL):
        return [f"{JOURNAL}: a render was interrupted while it updated the tree"]
    guard = TreeGuard(root)
    for rel, digest in manifest.files.items():
        try:
            data = guard.read(rel)
        except (UnsafePathError, OSError) as exc:
            problems.append(f"{rel}: {exc}")
            continue
        if data is None:
            problems.append(f"{rel}: listed, but missing")
        elif hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{rel}: changed since tfgen rendered it")
    dirs = sorted(
        {s.path for s in manifest.stacks} | {m for s in manifest.stacks for m in s.modules}
    )
    listed = set(manifest.files)
    # Every directory that holds a listed file, at any depth: one pass, not one per directory
    # (that was 20,000 stacks x 80,000 files at 10,000 accounts).
    holding = {f[:i] for f in listed for i, c in enumerate(f) if c == "/"}
    for rel_dir in dirs:
        if rel_dir not in holding:
            problems.append(
                f"{rel_dir}/: a stack or module of the manifest, but no file of it is listed"
            )
        problems.extend(
            f"{f}: not rendered by tfgen (not in the manifest)"
            for f in config_files(root, rel_dir)
            if f not in listed
        )
    return problems


def check_tree(manifest: Manifest) -> None:
    """Refuse a tree that is not what its manifest says: tfgen runs only what it rendered."""
    problems = tree_problems(manifest)
    if not problems:
        return
    shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if problems[20:] else [])
    raise ManifestError(
        f"{manifest.root} does not match {MANIFEST}:\n  "
        + "\n  ".join(shown)
        + f"\nRe-render it (`tfgen render SPEC --out {manifest.root}`), review the result and "
        "commit it; tfgen plans and applies only the files it rendered."
    )
