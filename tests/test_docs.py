"""The docs' pictures are drawn from the app: they fail here when the app changed under them."""

from __future__ import annotations

import re

from tests.conftest import template
from tools import alarm_tables, pipeline_picture
from tools.markdown import replace_block
from tools.templates import pipeline_definition


def test_the_pipeline_picture_is_the_synthesized_pipeline() -> None:
    definition = pipeline_definition(
        template("sandbox", f"Dataset-{pipeline_picture.PICTURED_DATASET}").to_json()
    )
    expected = pipeline_picture.state_machine_mermaid(definition)
    doc = pipeline_picture.ORCHESTRATION_DOC.read_text()
    assert replace_block(doc, "pipeline-picture", expected) == doc, (
        "docs/orchestration.md shows an older pipeline: run `python3 tasks.py diagrams`"
    )
    # Every state is drawn, and every transition of the definition is an arrow.
    drawn = set(re.findall(r"^    (\w+)[\[({/]", expected, flags=re.MULTILINE))
    assert {re.sub(r"\W", "_", s) for s in definition["States"]} <= drawn
    arrows = expected.count("-->") + expected.count("-.->")
    transitions = sum(
        len(s.get("Choices", [])) + ("Default" in s) + ("Next" in s) + len(s.get("Catch", []))
        for s in definition["States"].values()
    )
    assert arrows == transitions + 1  # and the arrow from the start


def test_conditions_read_as_short_text() -> None:
    rule = {"Or": [{"Variable": "$.run.Run.JobRunState", "StringEquals": s} for s in ("A", "B")],
            "Next": "X"}  # fmt: skip
    state = {"Type": "Choice", "Choices": [rule], "Default": "Y"}
    picture = pipeline_picture.state_machine_mermaid({"StartAt": "C", "States": {"C": state}})
    assert '-->|"JobRunState in A, B"| X' in picture
    assert '-->|"otherwise"| Y' in picture


def test_the_alarm_tables_are_the_alarms_built() -> None:
    doc = alarm_tables.MONITORING_DOC.read_text()
    table = alarm_tables.security_alarm_table()
    assert replace_block(doc, "security-alarms", table, fence=None) == doc, (
        "docs/monitoring.md lists other alarms than the code builds: "
        "run `python3 tasks.py diagrams`"
    )
    # Every alarm prod builds (one per event) has its row; the sandbox's one alarm is named.
    from tests.conftest import built

    alarms = built("prod").monitoring.security.alarms
    assert len(alarms) > 1
    assert all(f"| `{name}` |" in table for name in alarms)
    (combined,) = built("sandbox").monitoring.security.alarms
    assert f"`{combined}`" in doc


def test_the_operational_alarm_table_is_the_alarms_synthesized() -> None:
    from tests.conftest import built, template

    stacks = ["Monitoring", *(f"Dataset-{name}" for name in built("prod").dataset_stacks)]
    rows = alarm_tables.operation_alarm_rows(
        [template("prod", s).to_json() for s in stacks], built("prod").dataset_stacks
    )
    table = alarm_tables.alarm_table(rows)
    doc = alarm_tables.MONITORING_DOC.read_text()
    assert replace_block(doc, "operation-alarms", table, fence=None) == doc, (
        "docs/monitoring.md lists other alarms than the app builds: run `python3 tasks.py diagrams`"
    )
    assert "`datalake-prod-<dataset>-data-freshness-Critical`" in table
