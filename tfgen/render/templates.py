"""The one Jinja environment that renders root stacks (templates/stack/*.j2)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from tfgen.render import hcl
from tfgen.render.resources import data_dir


class _Environment(jinja2.Environment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        """`m.name` on one of the plain dicts layout passes reads the item first: Jinja tries
        the attribute first, and the AttributeError each of those lookups raises cost 15% of
        rendering a stack."""
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@cache
def environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # HCL, not HTML: values are escaped by the hcl filters
        auto_reload=False,  # the templates ship with tfgen: no stat of the file at each render
    )
    env.filters["hcl_string"] = hcl.string
    env.filters["hcl_comment"] = hcl.comment
    env.filters["hcl_name"] = hcl.name
    env.filters["hcl_value"] = hcl.value
    env.filters["hcl_attrs"] = hcl.attributes
    # The stack templates call no global (range, dict, lipsum, ...); each render copies them into
    # its context otherwise (10% of rendering a stack's files).
    env.globals.clear()
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(context)


def preload() -> None:
    """Compile every stack template now: done before a large render forks, the two processes
    share the compiled code instead of each compiling it."""
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)
