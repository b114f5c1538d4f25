"""The YAML loader (tfgen.spec.load): plain data plus the line and column of every path, duplicate
keys refused at any depth, merge keys and anchors, and malformed YAML reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfgen.spec import load_spec_text
from tfgen.spec.issues import Issue, Severity, SpecError
from tfgen.spec.load import (
    MAX_ALIAS_NODES,
    MAX_BYTES,
    MAX_DEPTH,
    Positions,
    load_file,
    load_text,
)

SPEC = """\
version: 1
accounts:
  build: {id: "111111111111"}
  prod:
    id: "222222222222"
    role_arn: "arn:aws:iam::222222222222:role/x"
replication:
  - name: first
    from: {account: build, regions: [us-east-1]}
    to: [{account: prod, regions: [us-east-1]}]
  - name: second
    from:
      account: build
      regions:
        - us-east-1
    to:
      - account: build
        regions: [us-west-2, eu-west-1]
      - {account: prod,
         regions: [eu-central-1]}
"""


def errors_of(text: str) -> tuple[Issue, ...]:
    with pytest.raises(SpecError) as caught:
        load_text(text, "t.yaml")
    return caught.value.issues


def only_error(text: str) -> Issue:
    (issue,) = errors_of(text)
    return issue


# ---- positions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ((), (1, 1)),
        (("version",), (1, 1)),
        (("accounts",), (2, 1)),
        (("accounts", "build"), (3, 3)),
        (("accounts", "build", "id"), (3, 11)),
        (("accounts", "prod", "role_arn"), (6, 5)),
        (("replication",), (7, 1)),
        (("replication", 0), (8, 5)),
        (("replication", 0, "from", "regions", 0), (9, 38)),
        (("replication", 0, "to", 0, "account"), (10, 11)),
        (("replication", 1, "from", "regions", 0), (15, 11)),
        (("replication", 1, "to", 0, "regions", 1), (18, 30)),
        (("replication", 1, "to", 1), (19, 9)),
        (("replication", 1, "to", 1, "regions"), (20, 10)),
        (("replication", 1, "to", 1, "regions", 0), (20, 20)),
    ],
)
def test_position_of_every_path(path: tuple[str | int, ...], where: tuple[int, int]) -> None:
    assert load_text(SPEC).positions.locate(path) == where


def test_a_duplicate_key_is_reported_with_the_line_of_the_first() -> None:
    text = SPEC.replace("  - name: second\n", "  - name: second\n    name: third\n")
    (issue,) = errors_of(text)
    assert "first set at line 11" in issue.message
    assert (issue.line, issue.column) == (12, 5)


def test_data_is_plain() -> None:
    data = load_text(SPEC).data
    assert data["replication"][1]["to"][1] == {"account": "prod", "regions": ["eu-central-1"]}
    assert data["accounts"]["prod"]["id"] == "222222222222"
    assert type(data["replication"][0]["to"]) is list


def test_missing_path_falls_back_to_the_nearest_parent() -> None:
    positions = load_text(SPEC).positions
    assert positions.locate(("replication", 1, "filters")) == (11, 5)
    assert positions.locate(("replication", 1, "to", 0, "regions", 7)) == (18, 9)
    assert positions.locate(("nope", "deeper")) == (1, 1)
    assert Positions("x.yaml").locate(("a",)) == (None, None)


def test_issue_gets_file_line_and_column() -> None:
    positions = load_text(SPEC, "dir/tfgen.yaml").positions
    issue = positions.issue(Issue(("replication", 1, "to", 0, "regions", 1), "bad"))
    assert (issue.file, issue.line, issue.column) == ("dir/tfgen.yaml", 18, 30)
    assert issue.format() == ("dir/tfgen.yaml:18:30: error: replication[1].to[0].regions[1]: bad")


def test_error_lines_through_the_whole_pipeline() -> None:
    text = SPEC.replace("[us-west-2, eu-west-1]", "[us-west-2, eu-wst-1]").replace(
        "account: prod, regions: [us-east-1]", "account: prd, regions: [us-east-1]"
    )
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "t.yaml")
    found = {(i.where, i.line) for i in caught.value.issues if i.severity is Severity.ERROR}
    assert found == {("replication[0].to[0].account", 10), ("replication[1].to[0].regions[1]", 18)}


# ---- anchors and merge keys ----------------------------------------------------------------

ANCHORS = """\
version: 1
x-regions: &eu [eu-west-1, eu-central-1]
x-account: &acct
  role_arn: "arn:aws:iam::{account_id}:role/base"
  partition: aws
accounts:
  build:
    <<: *acct
    id: "111111111111"
  prod:
    id: "222222222222"
    role_arn: "arn:aws:iam::{account_id}:role/prod"
    <<: *acct
replication:
  - from: {account: build, regions: *eu}
    to: [{account: prod, regions: *eu}]
"""


def test_merge_key_fills_in_missing_keys() -> None:
    data = load_text(ANCHORS).data
    assert data["accounts"]["build"] == {
        "id": "111111111111",
        "role_arn": "arn:aws:iam::{account_id}:role/base",
        "partition": "aws",
    }


def test_explicit_key_wins_over_merge_wherever_the_merge_is() -> None:
    prod = load_text(ANCHORS).data["accounts"]["prod"]
    assert prod["role_arn"] == "arn:aws:iam::{account_id}:role/prod"
    assert prod["partition"] == "aws"
    assert "<<" not in prod


def test_merge_list_first_source_wins() -> None:
    data = load_text("a: &a {k: 1, x: 1}\nb: &b {k: 2, y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n").data
    assert data["c"] == {"k": 1, "x": 1, "y": 2, "z": 3}


def test_quoted_merge_key_is_a_plain_key() -> None:
    assert load_text("'<<': {x: 1}\n").data == {"<<": {"x": 1}}


def test_aliases_give_equal_values() -> None:
    data = load_text(ANCHORS).data
    assert data["replication"][0]["from"]["regions"] == ["eu-west-1", "eu-central-1"]
    assert data["replication"][0]["to"][0]["regions"] == ["eu-west-1", "eu-central-1"]


def test_anchors_validate_as_a_spec() -> None:
    # Spec v1 has no place for anchor-only keys, so the model reports exactly those two and
    # nothing about the merged and aliased values, which reach it intact.
    text = ANCHORS.replace("x-regions: &eu", "defaults: {}\n_r: &eu", 1)
    data = load_text(text).data
    assert data["_r"] == ["eu-west-1", "eu-central-1"]
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "t.yaml")
    unknown = {i.where for i in caught.value.issues}
    assert unknown == {"_r", "x-account"}


def test_merged_and_aliased_values_point_at_where_they_are_used() -> None:
    positions = load_text(ANCHORS).positions
    # The merged key has no place of its own in 'build': the mapping that merges it stands in.
    assert positions.locate(("accounts", "build", "partition")) == (7, 3)
    # An aliased list: items resolve to the key that holds the alias.
    assert positions.locate(("replication", 0, "to", 0, "regions", 1)) == (16, 26)


def test_bad_region_inside_an_alias_is_reported_where_the_alias_is_used() -> None:
    text = (
        "version: 1\n"
        "accounts:\n"
        "  build: {id: '111111111111'}\n"
        "replication:\n"
        "  - from: {account: build, regions: &r [us-east-1, us-eest-2]}\n"
        "    to: [{account: build, regions: [us-west-2]}]\n"
        "  - from: {account: build, regions: [eu-west-1]}\n"
        "    to: [{account: build, regions: *r}]\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "t.yaml")
    found = {(i.where, i.line) for i in caught.value.issues}
    assert found == {
        ("replication[0].from.regions[1]", 5),
        ("replication[1].to[0].regions[1]", 8),
    }


def test_self_referencing_alias_is_malformed() -> None:
    issue = only_error("a: &x\n  b: *x\n")
    assert issue.message == "malformed YAML: unknown alias *x"
    assert issue.line == 2


# ---- scalars -------------------------------------------------------------------------------


def test_unquoted_12_digit_account_ids_are_accepted() -> None:
    text = (
        "version: 1\n"
        "accounts:\n"
        "  build: {id: 111111111111}\n"
        "  prod:\n"
        "    id: 999999999999\n"
        "  dr: {id: '012345678901'}\n"
    )
    assert load_text(text).data["accounts"]["build"]["id"] == 111111111111
    spec = load_spec_text(text).spec
    assert {n: a.id for n, a in spec.accounts.items()} == {
        "build": "111111111111",
        "prod": "999999999999",
        "dr": "012345678901",
    }


def test_quoted_scalars_stay_strings() -> None:
    data = load_text("a: '1'\nb: \"true\"\nc: 'null'\nd: yes\ne: ~\nf: 1.5\n").data
    assert data == {"a": "1", "b": "true", "c": "null", "d": True, "e": None, "f": 1.5}


def test_unsafe_tag_is_refused_with_its_line() -> None:
    issue = only_error("a: 1\nb: !!python/name:os.system 'true'\n")
    assert issue.line == 2
    assert issue.message.startswith("malformed YAML: could not determine a constructor")


@pytest.mark.parametrize(
    "text", ["b: !!python/object/apply:os.system ['true']\n", "b: !custom {k: 1}\n"]
)
def test_unknown_tag_on_a_collection_is_refused(text: str) -> None:
    issue = only_error(text)
    assert issue.line == 1


def test_bad_scalar_for_its_tag() -> None:
    issue = only_error("a:\n  b: !!int twelve\n")
    assert (issue.line, issue.column) == (2, 6)
    assert issue.message == "malformed YAML: 'twelve' is not a valid int"


@pytest.mark.parametrize("tag", ["!!int", "!!float"])
def test_empty_scalar_with_a_number_tag(tag: str) -> None:
    issue = only_error(f"a:\n  b: {tag}\n")
    assert (issue.line, issue.column) == (2, 6)
    assert issue.message == f"malformed YAML: '' is not a valid {tag[2:]}"


# ---- duplicate keys ------------------------------------------------------------------------


def test_duplicate_key_at_depth() -> None:
    text = (
        "replication:\n"
        "  - from: {account: a}\n"
        "    to:\n"
        "      - account: b\n"
        "        regions: [x]\n"
        "        account: c\n"
    )
    issue = only_error(text)
    assert issue.where == "replication[0].to[0].account"
    assert (issue.file, issue.line, issue.column) == ("t.yaml", 6, 9)
    assert "duplicate key 'account' (first set at line 4)" in issue.message


def test_duplicate_key_in_a_flow_mapping() -> None:
    issue = only_error("a:\n  b: {x: 1, y: 2, x: 3}\n")
    assert (issue.where, issue.line, issue.column) == ("a.b.x", 2, 19)


def test_every_duplicate_is_reported() -> None:
    issues = errors_of("a: 1\nb:\n  c: 1\n  c: 2\na: 3\na: 4\n")
    assert [(i.where, i.line) for i in issues] == [("b.c", 4), ("a", 5), ("a", 6)]
    assert all("first set at line" in i.message for i in issues)


def test_same_key_in_sibling_mappings_is_fine() -> None:
    data = load_text("l:\n  - {k: 1}\n  - {k: 2}\nm: {k: 3}\n").data
    assert data == {"l": [{"k": 1}, {"k": 2}], "m": {"k": 3}}


def test_duplicate_inside_an_anchor_is_reported_once() -> None:
    issues = errors_of("base: &b\n  k: 1\n  k: 2\nx:\n  <<: *b\ny:\n  <<: *b\n")
    assert [(i.where, i.line) for i in issues] == [("base.k", 3)]


def test_keys_must_be_plain_strings() -> None:
    issue = only_error("a: 1\n? [x, y]\n: 2\n")
    assert issue.message == "a key must be a plain string"
    assert issue.line == 2


# ---- malformed YAML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "did not find expected ',' or ']'"),
        ("a: 1\nb: {x: 1\nc: 3\n", 3, "did not find expected ',' or '}'"),
        ("a:\n  b: 1\n   c: 2\n", 3, "mapping values are not allowed"),
        ("a:\n  b: 1\n c: 2\n", 3, "did not find expected key"),
        ("a: 1\n\tb: 2\n", 2, "tab"),
        ("a: 1\nb: 'open\nc: 3\n", 4, "found unexpected end of stream"),
        ("a: 1\nb: c: d\n", 2, "mapping values are not allowed"),
        ("a: 1\n---\nb: 2\n", 2, "a spec is one YAML document"),
        ("a: 1\nb: *nowhere\n", 2, "unknown alias *nowhere"),
        ("a:\n  - x\n  y: 1\n", 3, "did not find expected '-' indicator"),
    ],
)
def test_malformed_yaml_has_its_line(text: str, line: int, words: str) -> None:
    issue = only_error(text)
    assert issue.message.startswith("malformed YAML: ")
    assert words in issue.message
    assert (issue.file, issue.line) == ("t.yaml", line)
    assert issue.path == ()


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n# x\n"])
def test_empty_spec(text: str) -> None:
    issue = only_error(text)
    assert issue.message == "the spec is empty; start with 'version: 1'"


@pytest.mark.parametrize("text", ["---\n", "~\n", "--- # nothing\n...\n"])
def test_empty_document_is_an_empty_spec(text: str) -> None:
    issue = only_error(text)
    assert issue.message == "the spec is empty; start with 'version: 1'"


@pytest.mark.parametrize("text", ["a:\n  <<: 5\n  x: 1\n", "s: &s {k: 1}\na:\n  <<: [*s, x]\n"])
def test_merge_of_a_non_mapping_is_an_error(text: str) -> None:
    issue = only_error(text)
    assert issue.line in (2, 3)


# ---- files ---------------------------------------------------------------------------------


def test_load_file_names_the_file(tmp_path: Path) -> None:
    file = tmp_path / "tfgen.yaml"
    file.write_text("version: 1\naccounts:\n  a: {id: '111111111111'}\n  a: {}\n")
    with pytest.raises(SpecError) as caught:
        load_file(file)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line) == (str(file), 4)


def test_load_file_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="error"):
        load_file(tmp_path / "missing.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(SpecError) as caught:
        load_file(tmp_path / "bin.yaml")
    assert caught.value.issues[0].message.startswith("cannot read the spec")


# ---- what a small hostile text may cost ----------------------------------------------------


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The classic alias bomb: `width ** levels` nodes from a few hundred bytes."""
    lines = ["version: 1", "creation_templates:", "  - lifecycle_policy:", "      l0: &a0 [x]"]
    lines.extend(
        f"      l{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]"
        for n in range(1, levels + 1)
    )
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_by_its_node_budget() -> None:
    text = billion_laughs()
    assert len(text) < 1000
    issue = only_error(text)
    assert f"aliases repeat more than {MAX_ALIAS_NODES:,} nodes" in issue.message
    assert issue.where.startswith("creation_templates[0].lifecycle_policy.l")
    assert issue.line is not None and issue.line >= 5


def test_aliases_within_the_budget_are_fine() -> None:
    data = load_text(billion_laughs(levels=3, width=9)).data
    policy = data["creation_templates"][0]["lifecycle_policy"]
    assert len(policy["l3"]) == 9 and policy["l3"][0] == policy["l2"]


def test_merge_keys_count_against_the_alias_budget() -> None:
    base = "b: &b {" + ", ".join(f"k{n}: v" for n in range(200)) + "}\n"
    merges = "".join(f"m{n}: {{<<: *b}}\n" for n in range(MAX_ALIAS_NODES // 200 + 1))
    issue = only_error(base + merges)
    assert "aliases repeat more than" in issue.message


def test_spec_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = "version: 1\n" + "# padding\n" * (MAX_BYTES // 10)
    issue = only_error(text)
    assert "larger than 8 MiB" in issue.message
    file = tmp_path / "huge.yaml"
    file.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_file(file)
    (issue,) = caught.value.issues
    assert issue.file == str(file)
    assert "larger than 8 MiB" in issue.message


def test_multibyte_text_is_measured_in_bytes() -> None:
    text = "a: " + "é" * (MAX_BYTES // 2) + "\n"  # fewer characters than the limit, more bytes
    assert len(text) < MAX_BYTES
    assert "larger than 8 MiB" in only_error(text).message


@pytest.mark.parametrize("open_, close", [("[", "]"), ("{a: ", "}")])
def test_nesting_deeper_than_the_limit_is_refused(open_: str, close: str) -> None:
    depth = 330  # valid at validate, a RecursionError in the HCL writer before the bound
    issue = only_error("version: 1\nx: " + open_ * depth + "1" + close * depth + "\n")
    assert f"nested more than {MAX_DEPTH} levels deep" in issue.message
    assert issue.line == 2
    assert issue.where.startswith("x")


def test_nesting_at_the_limit_loads() -> None:
    depth = MAX_DEPTH - 1  # the document's own mapping is the first level
    data = load_text("x: " + "[" * depth + "1" + "]" * depth + "\n").data
    assert data["x"] is not None


# ---- YAML 1.1's surprises ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2012-10-17", "2001-12-14t21:59:43.10-05:00", "2002-12-14", "!!timestamp 2012-10-17"]
)
def test_dates_load_as_the_text_written(text: str) -> None:
    data = load_text(f"Version: {text}\n").data
    assert data == {"Version": text.removeprefix("!!timestamp ")}


def test_a_lone_equals_sign_is_text() -> None:
    assert load_text("a: =\n").data == {"a": "="}


def test_binary_is_refused_with_its_path() -> None:
    issue = only_error("a:\n  - b: !!binary aGVsbG8=\n")
    assert (issue.where, issue.line, issue.column) == ("a[0].b", 2, 8)
    assert "!!binary" in issue.message and "plain string" in issue.message


@pytest.mark.parametrize(
    ("key", "read_as"),
    [
        ("on", "the boolean true"),
        ("off", "the boolean false"),
        ("yes", "the boolean true"),
        ("No", "the boolean false"),
        ("011", "the octal number 9"),
        ("12", "the number 12"),
        ("1.10", "the number 1.1"),
        ("~", "null (nothing)"),
        ("2012-10-17", None),  # a date key is text, like a date value
    ],
)
def test_a_key_yaml_reads_as_something_else_says_how_to_quote_it(
    key: str, read_as: str | None
) -> None:
    text = f"accounts:\n  build: {{id: '111111111111'}}\n  {key}: {{id: '222222222222'}}\n"
    if read_as is None:
        assert key in load_text(text).data["accounts"]
        return
    issue = only_error(text)
    assert issue.message == (
        f"key {key} was read by YAML as {read_as}, not as text; keys are text: "
        f'write "{key}" in quotes'
    )
    assert (issue.where, issue.line, issue.column) == (f"accounts.{key}", 3, 3)


def test_values_yaml_reads_differently_are_noted_for_the_messages() -> None:
    text = "a: on\nb: 011111111111\nc: [yes, 1:30, 0x1F]\nd: true\ne: 12\nf: 1.5\nq: 'on'\n"
    positions = load_text(text).positions
    assert positions.notes == {
        ("a",): 'YAML read the unquoted on as the boolean true: write "on" in quotes',
        ("b",): (
            "YAML read the unquoted 011111111111 as the octal number 1227133513: "
            'write "011111111111" in quotes'
        ),
        ("c", 0): 'YAML read the unquoted yes as the boolean true: write "yes" in quotes',
        ("c", 1): 'YAML read the unquoted 1:30 as the number 90: write "1:30" in quotes',
        ("c", 2): 'YAML read the unquoted 0x1F as the number 31: write "0x1F" in quotes',
    }
    issue = positions.issue(Issue(("b",), "must be 12 digits"))
    assert issue.message.endswith(
        '; YAML read the unquoted 011111111111 as the octal number 1227133513: write "011111111111" in quotes'
    )
    warning = positions.issue(Issue(("b",), "just so", Severity.WARNING))
    assert warning.message == "just so"
