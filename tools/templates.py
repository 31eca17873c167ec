"""Reading synthesized CloudFormation templates: what more than one generator needs of them.

A template is the JSON of a synthesized stack (``assertions.Template.to_json()``); references
that only resolve at deploy time are read as ``<ref>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Template = Mapping[str, Any]


def pipeline_definition(template: Template) -> dict[str, Any]:
    """The state machine definition of a dataset stack's template, references as ``<ref>``."""
    (machine,) = [r for r in template["Resources"].values()
                  if r["Type"] == "AWS::StepFunctions::StateMachine"]  # fmt: skip
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, str):
        return dict(json.loads(body))
    separator, parts = body["Fn::Join"]
    return dict(json.loads(separator.join(p if isinstance(p, str) else "<ref>" for p in parts)))
