#!/usr/bin/env python3
"""Redraw the pictures in the docs from the synthesized app (see tools/diagrams.py).

python3 tasks.py diagrams
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aws_cdk import assertions  # noqa: E402

from blueprint.factory import build_app, cdk_json_context  # noqa: E402
from tools import cost, diagrams  # noqa: E402


def pipeline_picture() -> str:
    """The Mermaid picture of the pictured dataset's pipeline, as the sandbox synthesizes it."""
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    stack = blueprint.dataset_stacks[diagrams.PICTURED_DATASET]
    template = assertions.Template.from_stack(stack).to_json()
    return diagrams.state_machine_mermaid(diagrams.pipeline_definition(template))


def operation_alarm_rows() -> list[tuple[str, str, str, str]]:
    """The alarms of prod's monitoring and dataset stacks (the sandbox has no freshness alarms:
    its schedules are off)."""
    blueprint = build_app({**cdk_json_context(), "env": "prod"}, enforce_compliance=False)
    stacks = [blueprint.monitoring, *blueprint.dataset_stacks.values()]
    templates = [assertions.Template.from_stack(stack).to_json() for stack in stacks]
    return diagrams.operation_alarm_rows(templates, blueprint.dataset_stacks)


def architecture_picture() -> str:
    """The Mermaid picture of every stack of the sandbox, as it synthesizes."""
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    templates = [assertions.Template.from_stack(s).to_json() for s in blueprint.stacks]
    return diagrams.architecture_mermaid(
        [diagrams.stack_view(s, t) for s, t in zip(blueprint.stacks, templates, strict=True)]
    )


def main() -> None:
    doc = diagrams.ORCHESTRATION_DOC
    text = diagrams.replace_block(doc.read_text(), "pipeline-picture", pipeline_picture())
    doc.write_text(text)
    doc = diagrams.MONITORING_DOC
    text = doc.read_text()
    table = diagrams.alarm_table(diagrams.security_alarm_rows())
    text = diagrams.replace_block(text, "security-alarms", table, fence=None)
    table = diagrams.alarm_table(operation_alarm_rows())
    doc.write_text(diagrams.replace_block(text, "operation-alarms", table, fence=None))
    picture = architecture_picture()
    for doc in diagrams.ARCHITECTURE_DOCS:
        doc.write_text(diagrams.replace_block(doc.read_text(), "architecture", picture))
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    templates = {s.node.id: assertions.Template.from_stack(s).to_json() for s in blueprint.stacks}
    datasets = {name: templates[s.node.id] for name, s in blueprint.dataset_stacks.items()}
    text = cost.COST_DOC.read_text()
    text = cost.update_doc(text, list(templates.values()), datasets, blueprint.config)
    cost.COST_DOC.write_text(text)
    readme = diagrams.README
    summary = cost.summary_block(list(templates.values()), datasets, blueprint.config)
    readme.write_text(
        diagrams.replace_block(readme.read_text(), "cost-summary", summary, fence=None)
    )
    print("redrew the pictures and the alarm tables in README.md and docs/")


if __name__ == "__main__":
    main()
