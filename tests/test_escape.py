"""Hostile strings in every output: no name, path, Terraform or AWS message can hide part of a
pull-request comment (`<!--`), break a table, a code span, a fence or a picture's label, or steer
a terminal (escape sequences, bidi overrides) - whatever validation lets through today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfgen import console, escape, report
from tfgen import explain as ex
from tfgen.cli import main_group
from tfgen.manifest import ManifestStack
from tfgen.run.model import GrantDelta, PlanSummary, StackResult, Status, StepResult
from tfgen.state import CreationTemplate

# An HTML comment, a code span and a cell end, a link, a bidi override, a terminal title and a
# screen clear (OSC and CSI), C1 CSI, DEL, a line separator, a quote and a newline.
HOSTILE = (
    'ev<!-- il`x`|y](javascript:z) \u202egnp.exe \x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u2028"q\nz'
)
TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)

SPEC = """\
version: 1
accounts:
  a: {id: "100000000001"}
  b: {id: "100000000002"}
replication:
  - from: {account: a, regions: [us-east-1]}
    to: [{account: b, regions: [us-east-1]}]
"""


def assert_terminal_safe(text: str) -> None:
    assert not TERMINAL.search(text), repr(TERMINAL.search(text))


def assert_markdown_safe(text: str) -> None:
    assert_terminal_safe(text)
    for raw in ("<!--", "`x`", "|y", "](javascript"):
        assert raw not in text, raw


def hostile_explanation() -> ex.Explanation:
    """Every user string of an explanation hostile: what validation refuses today may be allowed
    tomorrow, and the writers must not depend on it."""
    a = ex.Registry(f"a{HOSTILE}", "100000000001", f"us-east-1{HOSTILE}")
    b = ex.Registry(f"b{HOSTILE}", "100000000002", "us-east-1")
    template = CreationTemplate(
        prefix=f"p{HOSTILE}",
        applied_for=("REPLICATION",),
        image_tag_mutability="MUTABLE",
        encryption_type="AES256",
        kms_key=None,
        description=None,
        lifecycle_policy=None,
        repository_policy=None,
        resource_tags=((f"k{HOSTILE}", f"v{HOSTILE}"),),
        custom_role_arn=None,
        entry=0,
    )
    return ex.Explanation(
        accounts=((a.account, a.account_id), (b.account, b.account_id)),
        registries=(a, b),
        edges=(ex.Edge(a, (b,), (f"f{HOSTILE}", "g/"), 0, f"n{HOSTILE}"),),
        grants=(ex.Grant(b, ((a.account, a.account_id),), (f"S{HOSTILE}",)),),
        templates=(ex.Template(b, template),),
        warnings=(f"w{HOSTILE}",),
        source=f"spec{HOSTILE}.yaml",
    )


def test_escapes() -> None:
    assert escape.printable("a\x1b[31mb\u202ec\x9bd\ne\tf") == "a\\x1b[31mb\\u202ec\\x9bd\ne\tf"
    assert escape.markdown("<!-- a|b `c` d](e) \\ &\nf") == (
        "&lt;!-- a&#124;b &#96;c&#96; d]&#40;e) &#92; &amp;<br>f"
    )
    assert escape.markdown_code("`x`") == "<code>&#96;x&#96;</code>"
    assert escape.mermaid('a "b"\n#c`') == "a #34;b#34;#10;#35;c#96;"
    assert escape.dot('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_explain_markdown_escapes_every_user_string() -> None:
    text = ex.to_markdown(hostile_explanation())
    assert_markdown_safe(text)
    # The structure survives: every section and the picture are still there, in order.
    heads = ["#### Replication", "#### Grants", "#### Creation templates", "#### Warnings"]
    assert [text.index(h) for h in heads] == sorted(text.index(h) for h in heads)
    assert text.count("```") == 2 and text.rstrip().endswith("</details>")
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.count("|") == 6, line  # five columns: no cell split in two


def test_explain_mermaid_labels_stay_closed() -> None:
    text = ex.to_mermaid(hostile_explanation())
    assert_terminal_safe(text)
    assert "`" not in text and "<" not in text
    for line in text.splitlines()[1:]:
        # Each line is one statement; quotes only open and close labels.
        assert line.count('"') % 2 == 0, line
        statement = (
            r'  (subgraph a\d+\["[^"]*"\]|  r\d+\["[^"]*"\]|end|r\d+ -\.?->\|"[^"]*"\| r\d+)'
        )
        assert re.fullmatch(statement, line), line


def test_explain_dot_strings_stay_closed() -> None:
    text = ex.to_dot(hostile_explanation())
    assert_terminal_safe(text)
    # With escaped quotes taken out, every string is one pair of quotes on one line.
    for line in text.replace('\\"', "").splitlines():
        assert line.count('"') % 2 == 0, line


def test_explain_text_shows_escapes_not_controls() -> None:
    text = ex.to_text(hostile_explanation())
    assert_terminal_safe(text)
    assert "\\x1b]0;pwned" in text and "\\u202e" in text  # rich drops BEL itself


def test_plan_report_markdown_escapes_names_errors_and_output() -> None:
    hostile_stack = ManifestStack(f"a{HOSTILE}/replication", "p", "replication", 2)
    step = StepResult(
        "plan", ("terraform", "plan"), 1, 1.0, output=f"Error: {HOSTILE}\n```\n<!-- x"
    )
    grants = (GrantDelta("module.x", sids_added=(f"S{HOSTILE}",)),)
    failed = StackResult(
        hostile_stack,
        "plan",
        Status.FAILED,
        f"`plan` exited 1: {HOSTILE}",
        hint=f"hint {HOSTILE}",
        failed_command=f"terraform plan -var={HOSTILE}",
        log=Path(f"/logs/{HOSTILE}.log"),
        summary=PlanSummary(change=1, grants=grants),
        changes=True,
        steps=(step,),
    )
    after = StackResult(
        ManifestStack("b/replication", "q", "replication", 2),
        "plan",
        Status.OK,
        summary=PlanSummary(add=1),
        changes=True,
    )
    info = report.RunInfo("plan", Path("/d"), "terraform", f"1.11{HOSTILE}", 0.0, 1.0, 2)
    text = report.markdown([failed, after], info, 1, f"https://ci/{HOSTILE}")
    assert_terminal_safe(text)
    outside_fences = re.sub(r"(`{3,})\n.*?\n\1", "", text, flags=re.S)
    assert_markdown_safe(outside_fences)
    assert text.count("<details>") == text.count("</details>") == 2
    assert "<code>b/replication</code>" in text  # the section after the hostile one is intact


def test_console_prints_user_text_escaped_and_keeps_its_own_colours(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    console.configure()
    try:
        console.error(f"error: {HOSTILE}")
        console.out.print(f"table {HOSTILE}", style="bold")
        console.line(f"line {HOSTILE}")
    finally:
        monkeypatch.setenv("NO_COLOR", "1")
        console.configure()
    captured = capsys.readouterr()
    for text in (captured.err, captured.out):
        # rich's own SGR sequences stay; nothing else starts with ESC or is a control character.
        assert_terminal_safe(re.sub(r"\x1b\[[0-9;]*m", "", text))
        assert "\\x1b]0;pwned" in text and "\\x1b[2J\\x9b31m\\x7f\\u2028" in text
    assert "\x1b[31m" in captured.err or "\x1b[1;31m" in captured.err  # still red


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_hostile_spec_path_in_explain_and_errors(tmp_path: Path) -> None:
    spec = tmp_path / f"spec{HOSTILE.replace(chr(10), ' ')}.yaml"
    spec.write_text(SPEC)
    code, out, err = _cli("explain", str(spec), "--format", "markdown")
    assert code == 0, err
    assert_markdown_safe(out)
    assert "#### Replication" in out
    code, out, err = _cli("explain", str(spec))
    assert code == 0, err
    assert_terminal_safe(out + err)
    spec.write_text(SPEC.replace("100000000002", "1"))  # a spec error naming the file
    code, out, err = _cli("validate", str(spec))
    assert code == 1 and "12 digits" in err
    assert_terminal_safe(out + err)


def test_hostile_values_in_spec_errors(tmp_path: Path) -> None:
    spec = tmp_path / "tfgen.yaml"
    # YAML's double-quoted escapes: ESC (\e), BEL (\a), C1 CSI (\x9b) and a bidi override.
    spec.write_text(SPEC.replace("  b: {", '  "b\\e]0;pwned\\a\\x9b2J\\u202e<!--": {'))
    code, out, err = _cli("validate", str(spec))
    assert code == 1, err
    assert "\\x1b]0;pwned\\x07" in err
    assert_terminal_safe(out + err)


def test_hostile_arguments_in_usage_errors(tmp_path: Path) -> None:
    code, out, err = _cli("render", str(tmp_path / "missing\x1b[2J.yaml"), "--out", "x")
    assert code == 1
    assert "missing\\x1b[2J.yaml" in err
    assert_terminal_safe(out + err)


def test_rich_markup_in_user_text_is_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A Terraform error or a path with '[/]' or '[bold]' is printed as is, never parsed."""
    failed = StackResult(
        ManifestStack("a/replication", "p", "replication", 2),
        "plan",
        Status.FAILED,
        "`plan` exited 1: Invalid index [/] in [bold]var.x[/bold] :smile:",
    )
    info = report.RunInfo("plan", Path("/d/[red]x"), "terraform", "1.11", 0.0, 1.0, 2)
    report.print_table(console.out, [failed], info)
    out = capsys.readouterr().out
    assert "Invalid index [/] in [bold]var.x[/bold] :smile:" in out and "/d/[red]x" in out
    text = ex.to_text(ex.Explanation((), (), (), (), (), ("w [bold]x[/bold] [/]",), "[i]spec.yaml"))
    assert "w [bold]x[/bold] [/]" in text and "[i]spec.yaml" in text
