"""The picture of a dataset's pipeline in docs/orchestration.md: its state machine, as the
app synthesizes it, drawn as a Mermaid flowchart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tools.markdown import DOCS, mermaid_id

ORCHESTRATION_DOC = DOCS / "orchestration.md"
PICTURED_DATASET = "orders"  # the sample with every step: crawl, curate, marts, publish
# The Mermaid shape of a state, by its type; any other type (a Task) is a box.
SHAPES = {
    "Choice": '{{"{}"}}',
    "Pass": '(["{}"])',
    "Wait": '[/"{}"/]',
    "Succeed": '(("{}"))',
    "Fail": '(("{}"))',
}
# How a choice rule's comparison reads on its arrow.
OPERATORS = {
    "StringEquals": "=",
    "StringEqualsPath": "=",
    "StringMatches": "matches",
    "NumericGreaterThanEquals": ">=",
    "IsPresent": "present",
}


def state_machine_mermaid(definition: Mapping[str, Any]) -> str:
    """A Mermaid flowchart of an Amazon States Language definition: every state, its next
    state, each choice with its condition, and each catch (dashed) with its errors."""
    states: Mapping[str, Any] = definition["States"]
    lines = ["flowchart TD", f'    entry(("start")) --> {mermaid_id(definition["StartAt"])}']
    for name, state in states.items():
        shape = SHAPES.get(state["Type"], '["{}"]')
        lines.append(f"    {mermaid_id(name)}{shape.format(name)}")
    for name, state in states.items():
        for target, label, dashed in _edges(state):
            arrow = "-.->" if dashed else "-->"
            text = f'|"{label}"|' if label else ""
            lines.append(f"    {mermaid_id(name)} {arrow}{text} {mermaid_id(target)}")
    return "\n".join(lines) + "\n"


def _edges(state: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    for rule in state.get("Choices", []):
        yield rule["Next"], _condition(rule), False
    if "Default" in state:
        yield state["Default"], "otherwise", False
    if "Next" in state:
        yield state["Next"], "", False
    for catch in state.get("Catch", []):
        yield catch["Next"], " or ".join(catch["ErrorEquals"]), True


def _condition(rule: Mapping[str, Any]) -> str:
    if "And" in rule:
        return " and ".join(_condition(r) for r in rule["And"])
    if "Or" in rule:
        parts = [_condition(r) for r in rule["Or"]]
        fields = {part.split(" = ")[0] for part in parts}
        if len(fields) == 1 and all(" = " in part for part in parts):
            return f"{fields.pop()} in {', '.join(part.split(' = ')[1] for part in parts)}"
        return " or ".join(parts)
    if "Not" in rule:
        return f"not {_condition(rule['Not'])}"
    # The last field of a path says enough in a picture: $.curationRun.Run.JobRunState
    variable = rule["Variable"].rsplit(".", 1)[-1]
    operator = next(k for k in rule if k in OPERATORS)
    value = rule[operator]
    if operator == "IsPresent":
        return f"{variable} {'present' if value else 'absent'}"
    if operator.endswith("Path"):
        value = value.rsplit(".", 1)[-1]
    return f"{variable} {OPERATORS[operator]} {value}".replace('"', "'")
