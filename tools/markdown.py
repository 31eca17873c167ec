"""The Markdown the generators write: where the docs are, a marked block of a doc replaced
in place, a table, and the node ids of the Mermaid pictures.

Every generated part of a doc sits between ``<!-- marker -->`` and ``<!-- /marker -->``: the
generators rewrite only those blocks, and the tests compare them with what the app gives now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def replace_block(text: str, marker: str, content: str, *, fence: str | None = "mermaid") -> str:
    """``text`` with the block between ``<!-- marker -->`` and ``<!-- /marker -->`` set to
    ``content``, in a code fence of ``fence`` unless it is None."""
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    if begin not in text or end not in text:
        raise ValueError(f"no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = f"```{fence}\n{content}```\n" if fence else content
    return f"{head}{begin}\n{body}{end}{tail}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table: the header, then a line per row."""
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    for row in rows:
        cells = [cell.replace("|", "\\|") for cell in row]  # a | inside a cell ends it
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def mermaid_id(name: str) -> str:
    """``name`` as a Mermaid node id: word characters only."""
    return re.sub(r"\W", "_", name)
