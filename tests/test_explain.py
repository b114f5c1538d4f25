"""tfgen explain: the words, tables, Markdown and pictures a reviewer reads."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfgen import explain as ex
from tfgen.cli import main_group
from tfgen.compile import compile_loaded
from tfgen.spec import load_spec, load_spec_text

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("hub-and-spoke", "mesh", "same-account-dr")

CHAIN = """\
version: 1
defaults:
  backend: {s3: {bucket: state-bucket, region: us-east-1}}
accounts:
  a: {id: "100000000001"}
  b: {id: "100000000002"}
  c: {id: "100000000003"}
replication:
  - name: a-to-b
    from: {account: a, regions: [us-east-1]}
    to: [{account: b, regions: [us-east-1]}]
  - from: {account: b, regions: [us-east-1]}
    to: [{account: c, regions: [us-east-1]}]
"""


def explained(example: str) -> ex.Explanation:
    path = f"examples/{example}/tfgen.yaml"
    return ex.explain(compile_loaded(load_spec(REPO / path)), path)


def test_hub_and_spoke_in_words() -> None:
    text = ex.to_text(explained("hub-and-spoke"), width=400)
    assert (
        "build/us-east-1 replicates, by 2 rules:\n"
        "  - repositories starting with team-a/, team-b/ or base/ to build/us-west-2 "
        "(same account), prod/us-east-1, prod/eu-west-1, staging/us-east-1 "
        "— replication[0] build-to-workloads;\n"
        "  - repositories starting with analytics/ to data/eu-central-1 "
        "— replication[1] build-to-data.\n"
    ) in text
    assert (
        "data/eu-central-1 lets build (111111111111) replicate repositories starting with "
        "analytics/ into it."
    ) in text
    for registry in ("prod/eu-west-1", "prod/us-east-1", "staging/us-east-1"):
        assert (
            f"{registry} lets build (111111111111) replicate repositories starting with "
            "base/, team-a/ or team-b/ into it."
        ) in text
    for registry in ("data/eu-central-1", "prod/eu-west-1", "prod/us-east-1", "staging/us-east-1"):
        assert (
            f"{registry}: repositories created by replication under ROOT (any repository without "
            "a more specific template) get IMMUTABLE image tags; encryption AES256; lifecycle "
            "policy (1 rule)."
        ) in text
    # build/us-west-2 is in the same account: no grant
    assert "build/us-west-2 lets" not in text
    assert text.splitlines()[:2] == [
        "ECR replication in examples/hub-and-spoke/tfgen.yaml",
        "4 accounts, 6 registries involved; 1 source registry with 2 rules and 5 "
        "destinations (4 cross-account); 4 registry policies, 4 creation templates, "
        "0 warnings.",
    ]
    assert "Warnings\nNone." in text


def test_mesh_grants_list_every_other_account() -> None:
    text = ex.to_text(explained("mesh"), width=400)
    assert (
        "europe/eu-west-1 replicates repositories starting with europe/ or shared/ to "
        "americas/us-east-1, asia/ap-northeast-1 — replication[1] europe-out."
    ) in text
    assert (
        "americas/us-east-1 lets europe (100000000002) replicate repositories starting with "
        "europe/ or shared/ into it, and asia (100000000003) repositories starting with asia/ or "
        "shared/."
    ) in text
    assert (
        "europe/eu-west-1 lets americas (100000000001) replicate repositories starting with "
        "americas/ or shared/ into it, and asia (100000000003) repositories starting with asia/ "
        "or shared/; its policy also has 1 statement of its own: AuditorsMayPullThroughCache."
    ) in text


def test_same_account_dr_needs_no_grant() -> None:
    text = ex.to_text(explained("same-account-dr"), width=400)
    assert (
        "platform/us-east-1 replicates every repository to platform/us-west-2 (same account) "
        "— replication[0] primary-to-dr."
    ) in text
    assert "No registry policy: every destination is in its source's account." in text
    assert "platform/us-west-2: repositories created by replication under ROOT" in text


def test_replication_table_rows() -> None:
    rows = ex.replication_rows(explained("hub-and-spoke"))
    assert rows == [
        (
            "build/us-east-1",
            "replication[0] build-to-workloads",
            "team-a/, team-b/, base/",
            "build/us-west-2\nprod/us-east-1\nprod/eu-west-1\nstaging/us-east-1",
            "partly: prod, staging",
        ),
        (
            "build/us-east-1",
            "replication[1] build-to-data",
            "analytics/",
            "data/eu-central-1",
            "yes: data",
        ),
    ]
    (row,) = ex.replication_rows(explained("same-account-dr"))
    assert row[2] == "(all repositories)" and row[4] == "no (same account)"


def test_warnings_are_shown_with_their_location() -> None:
    state = compile_loaded(load_spec_text(CHAIN, "chain.yaml"))
    assert state.warnings
    expl = ex.explain(state, "chain.yaml")
    text = ex.to_text(expl, width=400)
    (warning,) = expl.warnings
    assert warning.startswith("chain.yaml:")
    assert "ECR does not replicate onward" in warning
    assert warning in text
    data = ex.to_json(expl, state.warnings)
    (item,) = data["warnings"]
    assert item["severity"] == "warning" and item["line"] and item["path"].startswith("replication")
    assert "1 warning." in ex.summary_line(expl)
    assert f"- ⚠️ {warning}" in ex.to_markdown(expl)


def test_mermaid_same_account_dr_exactly() -> None:
    assert ex.to_mermaid(explained("same-account-dr")) == (
        "flowchart LR\n"
        '  subgraph a0["platform (555555555555)"]\n'
        '    r0["us-east-1"]\n'
        '    r1["us-west-2"]\n'
        "  end\n"
        '  r0 -.->|"all"| r1\n'
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_mermaid_draws_accounts_registries_and_edges(example: str) -> None:
    expl = explained(example)
    text = ex.to_mermaid(expl)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    subgraphs = [line for line in lines if line.startswith("  subgraph ")]
    assert len(subgraphs) == len({r.account for r in expl.registries})
    assert sum(1 for line in lines if line == "  end") == len(subgraphs)
    nodes = re.findall(r"^    (r\d+)\[", text, re.MULTILINE)
    assert len(nodes) == len(set(nodes)) == len(expl.registries)
    edges = re.findall(r'^  (r\d+) (-->|-\.->)\|"([^"]*)"\| (r\d+)$', text, re.MULTILINE)
    pairs = [(e, d) for e in expl.edges for d in e.destinations]
    assert len(edges) == len(pairs)
    for (src, arrow, label, dst), (edge, dest) in zip(edges, pairs, strict=True):
        assert src in nodes and dst in nodes
        assert arrow == ("-->" if edge.cross_account(dest) else "-.->")
        assert label == (", ".join(edge.filters) or "all")


def test_mermaid_hub_and_spoke_edges() -> None:
    text = ex.to_mermaid(explained("hub-and-spoke"))
    assert '  subgraph a0["build (111111111111)"]' in text
    assert '  r0 -.->|"team-a/, team-b/, base/"| r1\n' in text  # build/us-east-1 → us-west-2
    assert '  r0 -->|"analytics/"| r2\n' in text  # → data/eu-central-1


def test_edge_labels_are_shortened_and_escaped() -> None:
    assert ex._edge_label(["a1", "b2", "c3", "d4", "e5"]) == "a1, b2, c3, +2 more"
    assert ex._mermaid_text('say "hi"') == "say #34;hi#34;"  # Mermaid entity codes
    assert ex._dot_string('a "b" \\ c') == '"a \\"b\\" \\\\ c"'


@pytest.mark.parametrize("example", EXAMPLES)
def test_dot_structure(example: str) -> None:
    expl = explained(example)
    text = ex.to_dot(expl)
    assert text.startswith("digraph tfgen {\n  rankdir=LR;") and text.endswith("}\n")
    assert text.count("{") == text.count("}")
    # a cluster per account, and the legend's
    assert text.count("subgraph cluster_a") == len({r.account for r in expl.registries})
    assert "subgraph cluster_legend {" in text
    assert "legend_rule -> legend_cross [style=solid];" in text
    assert "legend_rule -> legend_same [style=dashed];" in text
    # Each rule is one node holding its filters, between its source and its destinations: a
    # label can only ever sit on the edges it belongs to.
    labels = dict(re.findall(r'^  (rule\d+) \[label="([^"]*)", ', text, re.M))
    into = re.findall(r"^  (r\d+) -> (rule\d+) \[arrowhead=none", text, re.M)
    out = re.findall(r"^  (rule\d+) -> (r\d+) \[style=(\w+)\];$", text, re.M)
    _, node_ids = ex._node_ids(expl)
    assert len(labels) == len(into) == len(expl.edges)
    for i, e in enumerate(expl.edges):
        rule = f"rule{i}"
        assert labels[rule] == (ex._edge_label(e.filters) if e.filters else "all repositories")
        assert [s for s, r in into if r == rule] == [node_ids[e.source]]
        assert [(d, style) for r, d, style in out if r == rule] == [
            (node_ids[d], "solid" if e.cross_account(d) else "dashed") for d in e.destinations
        ]
    # no edge joins two registries directly: every one goes through its rule
    edges = [line for line in text.splitlines() if " -> " in line and "legend" not in line]
    assert len(edges) == len(into) + len(out)


def test_the_committed_picture_is_the_current_drawing() -> None:
    svg = (REPO / "docs" / "topology-hub-and-spoke.svg").read_text()
    for node in ("rule0", "rule1", "legend_rule", "cluster_legend"):
        assert f"<title>{node}</title>" in svg, f"regenerate it: {node} is missing"


def _boxes(layout: dict[str, object], prefix: str) -> list[tuple[float, float, float, float]]:
    """Bounding boxes (points) of the nodes whose name starts with `prefix`, from `dot -Tjson`."""
    boxes = []
    for node in layout.get("objects", []):  # type: ignore[union-attr]
        if node.get("name", "").startswith(prefix) and "pos" in node:
            x, y = (float(v) for v in node["pos"].split(","))
            w, h = float(node["width"]) * 72, float(node["height"]) * 72
            boxes.append((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
    return boxes


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("example", EXAMPLES)
def test_graphviz_draws_it_with_no_label_on_another(example: str) -> None:
    result = subprocess.run(
        ["dot", "-Tjson"],
        input=ex.to_dot(explained(example)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    layout = json.loads(result.stdout)
    rules, registries = _boxes(layout, "rule"), _boxes(layout, "r")
    assert rules and len(registries) > len(rules) - 1
    for i, a in enumerate(rules):
        assert not any(_overlap(a, b) for b in rules[i + 1 :]), "two rules' filters overlap"
    # a rule's filters never sit on a registry (its node names start with r too: skip itself)
    plain = [b for b in registries if b not in rules]
    assert not any(_overlap(a, b) for a in rules for b in plain)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_format_is_deterministic(example: str) -> None:
    for fmt in ex.FORMATS:
        assert ex.render(explained(example), fmt) == ex.render(explained(example), fmt)
    with pytest.raises(ValueError, match="unknown format"):
        ex.render(explained(example), "svg")


def test_markdown_has_words_tables_and_the_picture() -> None:
    md = ex.to_markdown(explained("mesh"))
    assert md.startswith("### ECR replication in <code>examples/mesh/tfgen.yaml</code>\n")
    assert "| Source | Rule | Filters | Destinations | Cross-account? |" in md
    assert "| europe/eu-west-1 | replication[1] europe-out | europe/, shared/ |" in md
    assert "<br>" in md  # several destinations in one cell
    assert "```mermaid\nflowchart LR\n" in md
    assert "#### Warnings\n\n" in md and "no backend for 3 accounts" in md


def test_json_form() -> None:
    expl = explained("hub-and-spoke")
    data = ex.to_json(expl)
    assert json.loads(json.dumps(data)) == data
    first = data["replication"][0]
    assert first["name"] == "build-to-workloads" and first["entry"] == 0
    assert [d["cross_account"] for d in first["destinations"]] == [False, True, True, True]
    assert first["text"].startswith("build/us-east-1 replicates repositories starting with")
    assert {g["registry"]["region"] for g in data["grants"]} == {
        "eu-central-1",
        "eu-west-1",
        "us-east-1",
    }
    assert data["warnings"] == []


# --- the command ----------------------------------------------------------------------------------


def test_explain_command(tmp_path: Path) -> None:
    runner = CliRunner()
    spec = str(REPO / "examples/mesh/tfgen.yaml")
    result = runner.invoke(main_group, ["explain", spec])
    assert result.exit_code == 0, result.output
    assert "replicate into it" in result.stdout and "Cross-account?" in result.stdout
    result = runner.invoke(main_group, ["explain", spec, "--format", "mermaid"])
    assert result.exit_code == 0 and result.stdout.startswith("flowchart LR\n")
    result = runner.invoke(main_group, ["explain", spec, "--format", "dot"])
    assert result.exit_code == 0 and result.stdout.startswith("digraph tfgen {")
    result = runner.invoke(main_group, ["explain", spec, "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["replication"]) == 3
    result = runner.invoke(main_group, ["explain", spec, "--json", "--format", "dot"])
    assert result.exit_code == 1 and "alternatives" in result.output  # usage errors exit 1


def test_explain_command_on_an_invalid_spec(tmp_path: Path) -> None:
    bad = tmp_path / "tfgen.yaml"
    bad.write_text(CHAIN.replace('"100000000003"', '"12"'))
    result = CliRunner().invoke(main_group, ["explain", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:7" in result.stderr and "error" in result.stderr
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main_group, ["explain", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output
