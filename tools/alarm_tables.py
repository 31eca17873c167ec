"""The alarm tables of docs/monitoring.md: the security alarms, from the table they are
built from, and the operational alarms, from the synthesized templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cdk_constructs.monitoring.security_events import SECURITY_EVENTS
from tools.markdown import DOCS, table

MONITORING_DOC = DOCS / "monitoring.md"
HEADER = ("alarm", "watches", "fires when", "what to do")
SECURITY_HEADER = ("alarm", "control", "watches", "fires when", "what to do")


def alarm_table(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """A Markdown table of alarms: name, what it watches, when it fires, what to do."""
    return table(HEADER, rows)


def security_alarm_table() -> str:
    """The Markdown table of the security alarms: one row per metric filter (each with its own
    alarm where ``monitoring.securityAlarms`` is ``each``), from the table they are built from."""
    rows = (
        (
            f"`{event.metric}`",
            event.control or "this blueprint's own",
            f"trail events matching `{event.pattern}`",
            f"{event.meaning} (one event in 5 minutes)",
            event.response,
        )
        for event in SECURITY_EVENTS
    )
    return table(SECURITY_HEADER, rows)


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
