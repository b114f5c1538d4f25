"""Past shape errors: the spec with its broken values set aside, so the cross-field checks still run
and one `tfgen validate` reports every mistake, not the shape errors first and the rest after they
are fixed.

pydantic stops at the shape (an unknown key, a wrong type); the rules that span fields need a `Spec`.
Each broken value is set aside the least harmful way: an unknown key or an optional value is
dropped (its default applies), a required string gets a stand-in, and an entry of `replication` or
`creation_templates` that cannot be mended is dropped, the later entries keeping their numbers in
messages. The checks then run on what is left, and only their errors away from the values set aside
are kept: a stand-in, a default or a gap must not be reported as the user's mistake. When nothing safe
can be done (an invalid account name, which other entries refer to), only the shape errors are
reported, as before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Annotated, Any, get_args, get_origin

from pydantic import ValidationError

from tfgen.spec.issues import Issue, Severity, SpecPath
from tfgen.spec.model import Spec, model_at, spec_path

# Lists whose entries stand alone: one can be dropped without others referring to it by position.
_DROPPABLE = ("replication", "creation_templates")
_PASSES = 3  # setting a value aside may uncover another (a stand-in in a list that is too short)


class _GiveUp(Exception):
    """Nothing safe can be done for this error: report the shape errors only."""


def checked_past_shape_errors(
    data: Any, errors: Sequence[Any], check: Callable[[Spec], list[Issue]]
) -> list[Issue]:
    """The errors `check` finds in `data` with every value pydantic refused set aside; [] when
    that cannot be done safely."""
    if not isinstance(data, dict):
        return []
    mended = copy.deepcopy(data)
    aside: list[SpecPath] = []
    dropped: dict[str, list[int]] = {}  # a list's name → the indices in the file of entries dropped
    try:
        for _ in range(_PASSES):
            marked: dict[str, list[int]] = {}
            for err in errors:
                _set_aside(mended, err, aside, dropped, marked)
            _drop_marked(mended)
            for name, indices in marked.items():
                dropped.setdefault(name, []).extend(indices)
            try:
                spec = Spec.model_validate(mended)
            except ValidationError as exc:
                errors = exc.errors()
                continue
            break
        else:
            return []
    except _GiveUp:
        return []
    found = []
    for issue in check(spec):
        path = _original_path(issue.path, dropped)
        if issue.severity is Severity.ERROR and not any(_about(path, a) for a in aside):
            found.append(Issue(path, issue.message, issue.severity))
    return found


def _about(path: SpecPath, aside: SpecPath) -> bool:
    """Whether an issue at `path` may be about a value set aside: it is in it, or in the object
    that held it (which now lacks it: "missing required key ...")."""
    return path[: len(aside)] == aside or path == aside[:-1]


def _original_path(path: SpecPath, dropped: dict[str, list[int]]) -> SpecPath:
    """A path in the mended spec → the same entry's path in the file."""
    if len(path) < 2 or path[0] not in dropped or not isinstance(path[1], int):
        return path
    index = path[1]
    for gone in sorted(dropped[str(path[0])]):
        if gone <= index:
            index += 1
    return (path[0], index, *path[2:])


def _set_aside(
    data: dict[str, Any],
    err: Any,
    aside: list[SpecPath],
    dropped: dict[str, list[int]],
    marked: dict[str, list[int]],
) -> None:
    loc = tuple(err["loc"])
    if "[key]" in loc:  # an invalid name: other entries refer to it
        raise _GiveUp
    path = spec_path(loc)
    original = _original_path(path, dropped)
    if not path:
        raise _GiveUp
    parent, key = _walk(data, path[:-1]), path[-1]
    if parent is None:
        return  # already set aside with an enclosing value
    if (err["type"] == "extra_forbidden" or _optional(path)) and isinstance(parent, dict):
        parent.pop(key, None)
        aside.append(original)
        return
    if err["type"] in ("string_type", "missing") and _wants_string(path):
        parent[key] = _stand_in(data, path)
        aside.append(original)
        return
    if len(path) >= 2 and path[0] in _DROPPABLE and isinstance(path[1], int):
        entries = data.get(str(path[0]))
        if isinstance(entries, list) and path[1] < len(entries):
            if entries[path[1]] is not _DROP:
                entries[path[1]] = _DROP
                marked.setdefault(str(path[0]), []).append(int(original[1]))
                aside.append(original[:2])
            return
    raise _GiveUp


_DROP = object()  # an entry to remove once every error of the pass is set aside


def _walk(data: Any, path: SpecPath) -> Any:
    node = data
    for part in path:
        if node is _DROP:
            return None
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return None if node is _DROP else node


def _optional(path: SpecPath) -> bool:
    model = model_at(path[:-1])
    if model is None or isinstance(path[-1], int):
        return False
    field = next((f for n, f in model.model_fields.items() if (f.alias or n) == path[-1]), None)
    return field is not None and not field.is_required()


def _wants_string(path: SpecPath) -> bool:
    if isinstance(path[-1], int):  # an item of a list of strings (Regions, filters, accounts)
        model = model_at(path[:-2])
        name = path[-2]
    else:
        model = model_at(path[:-1])
        name = path[-1]
    if model is None:
        return False
    field = next((f for n, f in model.model_fields.items() if (f.alias or n) == name), None)
    if field is None:
        return False
    annotation = field.annotation
    if isinstance(path[-1], int):
        if get_origin(annotation) is not list:
            return False
        (item,) = get_args(annotation)
        return _bare(item) is str
    return _bare(annotation) is str


def _bare(annotation: Any) -> Any:
    """`StrictStr` is `Annotated[str, Strict()]`: the type under the constraints."""
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _stand_in(data: dict[str, Any], path: SpecPath) -> str:
    """A value of the right type that nothing else in the spec uses. An account id is twelve
    digits, so a role ARN built from it still reads as one."""
    if path[:1] == ("accounts",) and path[-1] == "id":
        taken = {
            str(a.get("id")) for a in (data.get("accounts") or {}).values() if isinstance(a, dict)
        }
        return next(f"{n:012d}" for n in range(10**11, 10**12) if f"{n:012d}" not in taken)
    return "tfgen-stand-in-" + "-".join(str(p) for p in path)


def _drop_marked(data: dict[str, Any]) -> None:
    """Remove the entries marked for dropping, once every error of a pass is set aside."""
    for name in _DROPPABLE:
        entries = data.get(name)
        if isinstance(entries, list):
            entries[:] = [e for e in entries if e is not _DROP]
