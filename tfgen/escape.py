"""User text made safe for each output format: a terminal, Markdown, Mermaid and Graphviz DOT.

Names, filters, tags, paths, Terraform's and AWS's messages arrive in pull requests and end up in
CI logs and pull-request comments. None of them may steer a terminal (escape sequences, bidi
overrides), open an HTML comment that hides the rest of a comment (`<!--`), close a code span,
table cell or fence, or end a quoted label of a picture. JSON needs nothing: the encoder escapes.
"""

from __future__ import annotations

import re

# C0 controls but newline and tab, DEL and C1; the bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) and marks; the line and paragraph separators.
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# What Markdown (and the HTML it may hold) reads as syntax inside a line: tags, comments and
# entities, code spans, table cells, backslash escapes, and the `](` of a link or an image (a
# reference link needs a definition at the start of a line, which user text never begins).
_MARKDOWN = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "`": "&#96;",
    "|": "&#124;",
    "\\": "&#92;",
    "](": "]&#40;",
}
_MARKDOWN_SPECIAL = re.compile("|".join(re.escape(k) for k in _MARKDOWN))
_MERMAID_PLAIN = re.compile(r"[A-Za-z0-9 ._/:,()+=@-]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character that could steer a terminal shown as an escape (`\\x1b`);
    newlines and tabs stay."""
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def markdown(text: str) -> str:
    """`text` as literal Markdown inline text: no tag, comment, code span, cell end or link can
    start in it, and a newline is a `<br>`, never a new block."""
    text = _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN[m.group()], printable(text))
    return text.replace("\n", "<br>")


def markdown_code(text: str) -> str:
    """`text` in an inline code element (an HTML one: a Markdown code span ends at a backtick)."""
    return f"<code>{markdown(text)}</code>"


def mermaid(text: str) -> str:
    """`text` for a quoted Mermaid label: anything but plain characters as a `#<code>;` entity,
    so no quote, bracket, backtick or newline ends the label (or the Markdown fence around it)."""
    return "".join(c if _MERMAID_PLAIN.fullmatch(c) else f"#{ord(c)};" for c in printable(text))


def dot(text: str) -> str:
    """`text` as a double-quoted Graphviz string, quotes included."""
    escaped = printable(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'
