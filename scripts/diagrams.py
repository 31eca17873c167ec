#!/usr/bin/env python3
"""Redraw the pictures and tables in the docs from the synthesized app (see tools/).

python3 tasks.py diagrams
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aws_cdk import assertions  # noqa: E402

from blueprint.factory import build_app, cdk_json_context  # noqa: E402
from tools import alarm_tables  # noqa: E402
from tools.architecture_picture import ARCHITECTURE_DOCS, architecture_mermaid  # noqa: E402
from tools.cost_doc import COST_DOC, summary_block, update_doc  # noqa: E402
from tools.markdown import README, replace_block  # noqa: E402
from tools.pipeline_picture import (  # noqa: E402
    ORCHESTRATION_DOC,
    PICTURED_DATASET,
    state_machine_mermaid,
)
from tools.stack_links import stack_view  # noqa: E402
from tools.templates import pipeline_definition  # noqa: E402


def pipeline_picture() -> str:
    """The Mermaid picture of the pictured dataset's pipeline, as the sandbox synthesizes it."""
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    stack = blueprint.dataset_stacks[PICTURED_DATASET]
    template = assertions.Template.from_stack(stack).to_json()
    return state_machine_mermaid(pipeline_definition(template))


def operation_alarm_rows() -> list[tuple[str, str, str, str]]:
    """The alarms of prod's monitoring and dataset stacks (the sandbox has no freshness alarms:
    its schedules are off). Prod is built with CI's example principals and destinations,
    which it requires (tasks.py cfn-lint passes the same overlay)."""
    context = {**cdk_json_context(), "env": "prod", "overlay": ".ci/production-settings.json"}
    blueprint = build_app(context, enforce_compliance=False)
    stacks = [blueprint.monitoring, *blueprint.dataset_stacks.values()]
    templates = [assertions.Template.from_stack(stack).to_json() for stack in stacks]
    return alarm_tables.operation_alarm_rows(templates, blueprint.dataset_stacks)


def architecture_picture() -> str:
    """The Mermaid picture of every stack of the sandbox, as it synthesizes."""
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    templates = [assertions.Template.from_stack(s).to_json() for s in blueprint.stacks]
    return architecture_mermaid(
        [stack_view(s, t) for s, t in zip(blueprint.stacks, templates, strict=True)]
    )


def main() -> None:
    doc = ORCHESTRATION_DOC
    text = replace_block(doc.read_text(), "pipeline-picture", pipeline_picture())
    doc.write_text(text)
    doc = alarm_tables.MONITORING_DOC
    text = doc.read_text()
    text = replace_block(text, "security-alarms", alarm_tables.security_alarm_table(), fence=None)
    table = alarm_tables.alarm_table(operation_alarm_rows())
    doc.write_text(replace_block(text, "operation-alarms", table, fence=None))
    picture = architecture_picture()
    for doc in ARCHITECTURE_DOCS:
        doc.write_text(replace_block(doc.read_text(), "architecture", picture))
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    templates = {s.node.id: assertions.Template.from_stack(s).to_json() for s in blueprint.stacks}
    datasets = {name: templates[s.node.id] for name, s in blueprint.dataset_stacks.items()}
    text = COST_DOC.read_text()
    text = update_doc(text, list(templates.values()), datasets, blueprint.config)
    COST_DOC.write_text(text)
    summary = summary_block(list(templates.values()), datasets, blueprint.config)
    README.write_text(replace_block(README.read_text(), "cost-summary", summary, fence=None))
    print("redrew the pictures and the alarm tables in README.md and docs/")


if __name__ == "__main__":
    main()
