#!/usr/bin/env python3
"""Redraw the pictures in the docs from the synthesized app (see blueprint/diagrams.py).

python3 tasks.py diagrams
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aws_cdk import assertions  # noqa: E402

from blueprint import diagrams  # noqa: E402
from blueprint.factory import build_app, cdk_json_context  # noqa: E402


def pipeline_picture() -> str:
    """The Mermaid picture of the pictured dataset's pipeline, as the sandbox synthesizes it."""
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"}, enforce_compliance=False)
    stack = blueprint.dataset_stacks[diagrams.PICTURED_DATASET]
    template = assertions.Template.from_stack(stack).to_json()
    return diagrams.state_machine_mermaid(diagrams.pipeline_definition(template))


def main() -> None:
    doc = diagrams.ORCHESTRATION_DOC
    text = diagrams.replace_block(doc.read_text(), "pipeline-picture", pipeline_picture())
    doc.write_text(text)
    doc = diagrams.MONITORING_DOC
    table = diagrams.alarm_table(diagrams.security_alarm_rows())
    doc.write_text(diagrams.replace_block(doc.read_text(), "security-alarms", table, fence=None))
    print("redrew the pipeline picture and the alarm tables in docs/")


if __name__ == "__main__":
    main()
