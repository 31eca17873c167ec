"""The architecture picture and the guided tour: drawn from the app, pointing at live code."""

from __future__ import annotations

import re
from functools import cache

import pytest
from aws_cdk import assertions

from tests.conftest import built, cdk_json_context, make_blueprint, template
from tools import architecture_picture
from tools.markdown import replace_block
from tools.stack_links import StackView, stack_references, stack_view

# A link of the tour to a line range: [`Name`](../path#L10-L20).
LINK = re.compile(r"\[([^\]]+)\]\((\.\./[^)#\s]+)(?:#L(\d+)-L(\d+))?\)")


@cache
def sandbox() -> list[StackView]:
    stacks = built("sandbox").stacks
    return [stack_view(s, template("sandbox", s.node.id).to_json()) for s in stacks]


def subgraph(picture: str, name: str) -> list[str]:
    """The lines inside ``subgraph <name>[...]`` ... ``end``."""
    lines = picture.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"subgraph {name}["))
    return lines[start + 1 : lines.index("    end", start)]


def test_the_readme_and_the_tour_show_the_synthesized_app() -> None:
    expected = architecture_picture.architecture_mermaid(sandbox())
    for doc in architecture_picture.ARCHITECTURE_DOCS:
        text = doc.read_text()
        assert replace_block(text, "architecture", expected) == text, (
            f"{doc.name} shows another architecture than the app builds: "
            "run `python3 tasks.py diagrams`"
        )


def test_every_stack_is_drawn_in_its_stage_with_its_resources() -> None:
    stacks = sandbox()
    picture = architecture_picture.architecture_mermaid(stacks)
    for view in stacks:
        stage = architecture_picture.stage_of(view.id)
        group = f"stage_{stage}"
        if view.id.startswith("Dataset-"):  # a subgraph per dataset
            group = f"stage_{stage}_{view.id.removeprefix('Dataset-')}"
        (box,) = [line for line in subgraph(picture, group)
                  if line.strip().startswith(f'{view.id.replace("-", "_")}["')]  # fmt: skip
        assert f"<b>{view.name}</b>" in box
    storage = next(line for line in picture.splitlines() if line.strip().startswith("Storage["))
    assert "4 KMS keys, 7 buckets" in storage  # counted from the template
    assert "function" not in storage  # the auto-delete provider is CDK's, not the design


def test_the_data_path_is_found_in_the_templates() -> None:
    picture = architecture_picture.architecture_mermaid(sandbox())
    for edge in (
        'Storage_landing ==>|"EventBridge → Lambda"| Ingest',
        'Ingest ==>|"Lambda"| Storage_raw',
        'Dataset_clickstream ==>|"Firehose"| Storage_raw',
        'Storage_raw ==>|"crawler, Glue job"| Dataset_orders',
        'Dataset_orders ==>|"Glue job"| Storage_curated',
        'Storage_curated ==>|"Glue job"| Dataset_orders',
        'Dataset_orders ==>|"Glue job"| Storage_analytics',
        'Storage_curated ==>|"Athena"| Delivery',
        'Storage_analytics ==>|"Athena"| Delivery',
    ):
        assert f"    {edge}\n" in picture
    # Deployment order: what a stack reads of another, implied steps left out.
    assert "    Audit -.-> Governance\n" in picture
    assert "    Storage -.-> Governance\n" not in picture  # implied by Storage -> Audit -> ...


def test_every_cross_stack_reference_is_also_a_dependency() -> None:
    stacks = sandbox()
    for view in stacks:
        read = stack_references(view, stacks)
        assert read <= set(view.dependencies), f"{view.id} reads outputs of {read}"


def test_a_stack_without_a_stage_fails_the_picture() -> None:
    with pytest.raises(ValueError, match="'Lineage' has no workflow stage: add it to STAGES"):
        architecture_picture.stage_of("Lineage")
    stray = StackView("Lineage", "datalake-sandbox-lineage", (), {"Resources": {}})
    with pytest.raises(ValueError, match="'Lineage' has no workflow stage"):
        architecture_picture.architecture_mermaid([*sandbox(), stray])


def test_the_optional_warehouse_is_drawn_where_it_delivers() -> None:
    environments = cdk_json_context()["environments"]
    environments["sandbox"]["redshift"] = {
        "enabled": True,
        "availabilityZones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    }
    stacks = make_blueprint("sandbox", environments=environments).stacks
    templates = [assertions.Template.from_stack(s).to_json() for s in stacks]
    picture = architecture_picture.architecture_mermaid(
        [stack_view(s, t) for s, t in zip(stacks, templates, strict=True)]
    )
    assert any("<b>datalake-sandbox-warehouse</b>" in line
               for line in subgraph(picture, "stage_deliver"))  # fmt: skip


def test_the_tour_names_every_stack() -> None:
    tour = architecture_picture.TOUR_DOC.read_text()
    ids = {s.node.id for s in built("sandbox").stacks if not s.node.id.startswith("Dataset-")}
    for stack_id in {*ids, "Dataset-<name>", "Warehouse"}:
        assert f"`{stack_id}`" in tour


def test_every_link_of_the_tour_starts_at_the_definition_it_names() -> None:
    tour = architecture_picture.TOUR_DOC
    links = LINK.findall(tour.read_text())
    assert len([link for link in links if link[2]]) >= 40
    for text, path, start, end in links:
        file = (tour.parent / path).resolve()
        assert file.is_file(), f"{path}: no such file"
        if not start:
            continue
        where = f"docs/tour.md links {path}#L{start}-L{end}"
        lines = file.read_text().splitlines()
        assert 1 <= int(start) <= int(end) <= len(lines), f"{where}: {len(lines)} lines"
        names = re.findall(r"`([^`]+)`", text)
        assert names, f"{where} with no `name` to say what it shows"
        name = re.escape(names[0].rsplit(".", 1)[-1])
        definition = rf"\s*((async\s+)?def|class)\s+{name}\b|\s*{name}\s*(:[^=]*)?="
        assert re.match(definition, lines[int(start) - 1]), (
            f"{where}, whose first line no longer defines {names[0]}: "
            f"{lines[int(start) - 1].strip()!r}"
        )
