"""Reading synthesized CloudFormation templates: what more than one generator needs of them.

A template is the JSON of a synthesized stack (``assertions.Template.to_json()``); references
that only resolve at deploy time are read as ``<ref>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Template = Mapping[str, Any]
Props = Mapping[str, Any]  # a resource's Properties


def pipeline_definition(template: Template) -> dict[str, Any]:
    """The state machine definition of a dataset stack's template, references as ``<ref>``."""
    (machine,) = [r for r in template["Resources"].values()
                  if r["Type"] == "AWS::StepFunctions::StateMachine"]  # fmt: skip
    return dict(json.loads(joined(machine["Properties"]["DefinitionString"])))


def joined(value: str | Mapping[str, Any]) -> str:
    """A string property as synthesized: the string, or its ``Fn::Join`` with references
    as ``<ref>``."""
    if isinstance(value, str):
        return value
    separator, parts = value["Fn::Join"]
    return str(separator).join(p if isinstance(p, str) else "<ref>" for p in parts)


def with_template(templates: Sequence[Template], kind: str) -> Iterator[tuple[Template, Props]]:
    """The properties of every resource of type ``kind``, each with its template."""
    for template in templates:
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == kind:
                yield template, resource.get("Properties", {})
