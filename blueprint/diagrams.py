"""Pictures drawn from the synthesized app, so the docs cannot drift from what deploys.

``python3 tasks.py diagrams`` rewrites the marked blocks in the docs; a test fails when a
block differs from what the app synthesizes now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

SHAPES = {
    "Choice": '{{"{}"}}',
    "Pass": '(["{}"])',
    "Wait": '[/"{}"/]',
    "Succeed": '(("{}"))',
    "Fail": '(("{}"))',
}
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
    lines = ["flowchart TD", f'    entry(("start")) --> {_id(definition["StartAt"])}']
    for name, state in states.items():
        shape = SHAPES.get(state["Type"], '["{}"]')
        lines.append(f"    {_id(name)}{shape.format(name)}")
    for name, state in states.items():
        for target, label, dashed in _edges(state):
            arrow = "-.->" if dashed else "-->"
            text = f'|"{label}"|' if label else ""
            lines.append(f"    {_id(name)} {arrow}{text} {_id(target)}")
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


def _id(name: str) -> str:
    return re.sub(r"\W", "_", name)


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


def alarm_table(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """A Markdown table of alarms: name, what it watches, when it fires, what to do."""
    lines = ["| alarm | watches | fires when | what to do |", "|---|---|---|---|"]
    for row in rows:
        cells = [cell.replace("|", "\\|") for cell in row]  # a | inside a cell ends it
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def security_alarm_rows() -> list[tuple[str, str, str, str]]:
    """One row per security alarm, from the table the alarms are built from."""
    from cdk_constructs.security_alarms import SECURITY_EVENTS

    return [
        (
            f"`{event.metric}`",
            f"trail events matching `{event.pattern}`",
            f"{event.meaning} (one event in 5 minutes)",
            event.response,
        )
        for event in SECURITY_EVENTS
    ]


def operation_alarm_rows(
    templates: Iterable[Mapping[str, Any]], datasets: Iterable[str]
) -> list[tuple[str, str, str, str]]:
    """One row per named alarm in ``templates`` (a dataset's alarms once, with its name as
    ``<dataset>``): name, the metric it watches, when it fires, what to do."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    names = tuple(datasets)
    for template in templates:
        for resource in template["Resources"].values():
            props = resource["Properties"]
            if resource["Type"] != "AWS::CloudWatch::Alarm" or "AlarmName" not in props:
                continue
            name, description = props["AlarmName"], props["AlarmDescription"]
            for dataset in names:
                name = name.replace(f"-{dataset}-", "-<dataset>-")
                description = re.sub(rf"\b{dataset}\b", "`<dataset>`", description)
            description = re.sub(r" \(\d+ h\)", "", description)  # each dataset's own hours
            metric = props if "MetricName" in props else props["Metrics"][0]["MetricStat"]["Metric"]
            when, _, todo = description.removeprefix("Fires when ").partition(". What to do: ")
            rows[name] = (f"`{name}`", f"`{metric['Namespace']}` `{metric['MetricName']}`",
                          when, todo.removesuffix("."))  # fmt: skip
    return [rows[name] for name in sorted(rows)]


def pipeline_definition(template: Mapping[str, Any]) -> dict[str, Any]:
    """The state machine definition of a dataset stack's template, references as ``<ref>``."""
    (machine,) = [r for r in template["Resources"].values()
                  if r["Type"] == "AWS::StepFunctions::StateMachine"]  # fmt: skip
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, str):
        return dict(json.loads(body))
    separator, parts = body["Fn::Join"]
    return dict(json.loads(separator.join(p if isinstance(p, str) else "<ref>" for p in parts)))


DOCS = Path(__file__).resolve().parent.parent / "docs"
ORCHESTRATION_DOC = DOCS / "orchestration.md"
MONITORING_DOC = DOCS / "monitoring.md"
PICTURED_DATASET = "orders"  # the sample with every step: crawl, curate, marts, publish
