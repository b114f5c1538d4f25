"""`tfgen explain`: who replicates what to where, for reviewers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tfgen import console
from tfgen.commands.common import spec_argument
from tfgen.exitcodes import ExitCode


@click.command(name="explain")
@spec_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "mermaid", "dot"]),
    default="text",
    show_default=True,
    help="text: words and tables; markdown: for a pull request; mermaid/dot: the topology.",
)
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON instead.")
def explain(spec: Path, fmt: str, as_json: bool) -> ExitCode:
    """Say who replicates what to where, which grants exist, and the warnings.

    What a reviewer reads in a pull request: per source registry, in plain words, which
    repositories go where (same account or cross-account); a table of the rules; the grant each
    destination registry's policy holds; the creation templates; and the spec's warnings.

    --format mermaid draws the topology as a Mermaid flowchart (one subgraph per account, one node
    per registry, edges labelled with the filters, dotted within an account), which GitHub and
    GitLab render inside Markdown; --format dot writes the same for Graphviz.

    \b
    Examples:
      tfgen explain tfgen.yaml
      tfgen explain tfgen.yaml --format markdown >> "$GITHUB_STEP_SUMMARY"
      tfgen explain tfgen.yaml --format dot | dot -Tsvg > topology.svg
      tfgen explain tfgen.yaml --json | jq '.replication[].text'
    """
    from tfgen import explain as ex
    from tfgen.compile import compile_loaded
    from tfgen.spec import load_spec

    if as_json and fmt != "text":
        raise click.UsageError("--json and --format are alternatives; give one")
    console.json_errors = as_json  # a failure answers on stdout too
    state = compile_loaded(load_spec(spec))
    explanation = ex.explain(state, str(spec))
    if as_json:
        click.echo(json.dumps(ex.to_json(explanation, state.warnings), indent=2))
    elif fmt == "text":
        for item in ex.renderables(explanation):
            console.out.print(item)
    else:
        click.echo(ex.render(explanation, fmt), nl=False)
    return ExitCode.OK
