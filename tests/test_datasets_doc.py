"""docs/datasets.md's field table lists every field a declaration may have, and no other."""

from __future__ import annotations

import re
from dataclasses import fields

from blueprint.factory import ROOT
from model.datasets import Column, Dataset, Mart, Query, Source

# Dataset fields that are not keys of the file, or are tables documented by their own keys.
_NOT_KEYS = {"path", "source", "columns", "marts", "queries"}


def _documented() -> set[str]:
    text = (ROOT / "docs" / "datasets.md").read_text()
    table = text[text.index("## Fields") : text.index("\n## ", text.index("## Fields") + 1)]
    cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def test_the_field_table_lists_every_field_of_a_declaration() -> None:
    expected = {f.name for f in fields(Dataset)} - _NOT_KEYS
    for prefix, table in (("source.", Source), ("columns[].", Column), ("marts[].", Mart),
                          ("queries[].", Query)):  # fmt: skip
        expected |= {prefix + f.name for f in fields(table)}
    documented = _documented()
    assert sorted(expected - documented) == [], "fields the docs leave out"
    assert sorted(documented - expected) == [], "documented fields the model does not have"
