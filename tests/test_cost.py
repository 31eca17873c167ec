"""The cost model: docs/cost.md is what the sandbox synthesizes, the idle sandbox stays under
its target, nothing bills by the hour unless a flag says so, and no resource type goes unpriced."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import pytest
from aws_cdk import assertions

from model.config import EnvironmentConfig
from tests.conftest import built, template
from tools import cost_doc, cost_idle, cost_runs, cost_types
from tools.cost_prices import HOUR
from tools.markdown import README, replace_block
from tools.templates import pipeline_definition

TARGET_USD = 7.0  # a month, idle: 5 USD, plus the keys that separate data (docs/cost.md)


@cache
def sandbox(
    env: str = "sandbox",
) -> tuple[list[Mapping[str, Any]], dict[str, Mapping[str, Any]], EnvironmentConfig]:
    """The environment's templates, its dataset templates by dataset name, and its config."""
    blueprint = built(env)
    templates = {s.node.id: template(env, s.node.id).to_json() for s in blueprint.stacks}
    datasets = {name: templates[s.node.id] for name, s in blueprint.dataset_stacks.items()}
    return list(templates.values()), datasets, blueprint.config


def idle_totals(
    templates: Sequence[Mapping[str, Any]], config: EnvironmentConfig
) -> tuple[float, float]:
    lines = cost_idle.idle_lines(templates, config)
    return sum(x.usd for x in lines), sum(x.usd_free_tier for x in lines)


def test_the_cost_tables_are_what_the_sandbox_synthesizes() -> None:
    templates, datasets, config = sandbox()
    doc = cost_doc.COST_DOC.read_text()
    assert cost_doc.update_doc(doc, templates, datasets, config) == doc, (
        "docs/cost.md shows other costs than the sandbox synthesizes: "
        "run `python3 tasks.py diagrams`"
    )


def test_the_idle_sandbox_is_under_its_target_at_list_price() -> None:
    """At list price: the CloudWatch free tier is shared across an AWS Organization, so a
    sandbox account cannot count on it."""
    templates, _, config = sandbox()
    list_price, free_tier = idle_totals(templates, config)
    doc = cost_doc.COST_DOC.read_text()
    assert "checks it **at list price**" in " ".join(doc.split())
    idle_table = doc.split("<!-- cost-idle -->")[1].split("<!-- /cost-idle -->")[0]
    pattern = r"^\| \*\*total\*\* \|.*\| \*\*([\d.]+)\*\* \| \*\*([\d.]+)\*\* \|$"
    (shown,) = re.findall(pattern, idle_table, re.M)
    assert shown == (f"{list_price:.2f}", f"{free_tier:.2f}")  # the figures the doc shows
    assert free_tier <= list_price < TARGET_USD


def test_the_readme_states_the_figures_the_model_gives() -> None:
    templates, datasets, config = sandbox()
    summary = cost_doc.summary_block(templates, datasets, config)
    text = README.read_text()
    assert replace_block(text, "cost-summary", summary, fence=None) == text, (
        "the README's cost summary differs from the model: run `python3 tasks.py diagrams`"
    )
    assert "nothing is billed by the hour" in summary


def test_the_sandbox_runs_nothing_on_a_schedule_prod_does() -> None:
    """A schedule starts a crawl and job runs whether or not data arrived: off in the sandbox."""
    for env, expected in (("sandbox", False), ("prod", True)):
        templates, datasets, _ = sandbox(env)
        table = cost_doc.run_block(datasets, templates)
        *_, total = re.findall(r"^\| \*\*total\*\* \|.*\| \*\*([\d.]+)\*\* \|$", table, re.M)
        assert (float(total) > 0) is expected, env  # the last total: a month of the schedules


def test_nothing_bills_by_the_hour_unless_a_flag_turns_it_on() -> None:
    templates, _, config = sandbox()
    assert not config.redshift.enabled
    assert [x for x in cost_idle.idle_lines(templates, config) if x.billing == HOUR] == []
    assert [t for t in cost_types.resource_types(templates) if t[2] == HOUR] == []

    from tests.test_warehouse import warehouse

    with_warehouse = warehouse("sandbox")
    warehoused = [assertions.Template.from_stack(s).to_json() for s in with_warehouse.stacks]
    lines = cost_idle.idle_lines(warehoused, with_warehouse.config)
    (compute,) = [x for x in lines if x.billing == HOUR]
    assert compute.item == "Redshift Serverless compute"
    assert compute.usd == 0  # billed while queries run, and none does while idle
    assert "3.00 USD for each hour queries run" in compute.counted  # base 8 RPUs
    assert ("AWS::RedshiftServerless::Workgroup", 1, HOUR) in [
        t[:3] for t in cost_types.resource_types(warehoused)
    ]
    (secrets,) = [x for x in lines if x.item == "Secrets Manager secrets"]
    assert secrets.quantity == 2  # the salt, and the admin password Redshift keeps
    with pytest.raises(ValueError, match=r"redshift.enabled is False"):
        cost_idle.idle_lines(warehoused, config)  # a warehouse the configuration did not ask for


def test_an_unknown_resource_type_fails_the_model() -> None:
    templates, datasets, config = sandbox()
    instance = {"Resources": {"Box": {"Type": "AWS::EC2::Instance", "Properties": {}}}}
    with pytest.raises(cost_types.UnknownResourceTypeError, match=r"AWS::EC2::Instance"):
        cost_idle.idle_lines([*templates, instance], config)
    with pytest.raises(cost_types.UnknownResourceTypeError):
        cost_types.resource_types([instance])
    orders = datasets["orders"]
    with_instance = {**orders, "Resources": {**orders["Resources"], **instance["Resources"]}}
    with pytest.raises(cost_types.UnknownResourceTypeError):
        cost_runs.run_lines(with_instance, templates)


def test_a_known_hourly_resource_is_priced_for_every_hour() -> None:
    templates, _, config = sandbox()
    nat = {"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {}}}}
    gateway = {"Resources": {"S3": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {}}}}
    lines = cost_idle.idle_lines([*templates, nat, gateway], config)
    (line,) = [x for x in lines if x.billing == "per hour"]
    assert (line.item, line.quantity, round(line.usd, 2)) == ("NAT gateways", 730, 32.85)


def test_alarms_bill_each_metric_they_evaluate() -> None:
    stat = {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 300, "Stat": "Sum"}
    math = {"Metrics": [{"Id": "e", "Expression": "a + b + c"},
                        *({"Id": i, "MetricStat": stat} for i in "abc")]}  # fmt: skip
    fast = {"MetricName": "M", "Namespace": "N", "Period": 10}
    alarms = {f"A{i}": {"Type": "AWS::CloudWatch::Alarm", "Properties": p}
              for i, p in enumerate((math, fast))}  # fmt: skip
    idle = cost_idle.idle_lines([{"Resources": alarms}], sandbox()[2])
    lines = {x.item: x.quantity for x in idle}
    assert lines["CloudWatch alarm metrics"] == 3
    assert lines["CloudWatch alarm metrics, high resolution"] == 1


def test_a_metric_filter_with_a_default_value_bills_while_idle() -> None:
    transform = {"MetricName": "M", "MetricNamespace": "N", "MetricValue": "1"}
    filters = {
        "Quiet": {"Type": "AWS::Logs::MetricFilter",
                  "Properties": {"MetricTransformations": [transform]}},
        "Chatty": {"Type": "AWS::Logs::MetricFilter",
                   "Properties": {"MetricTransformations": [{**transform, "DefaultValue": 0}]}},
    }  # fmt: skip
    (line,) = [x for x in cost_idle.idle_lines([{"Resources": filters}], sandbox()[2])
               if x.item == "Custom metrics of metric filters"]  # fmt: skip
    assert line.quantity == 1


def test_the_dashboard_metrics_are_counted_from_its_body() -> None:
    templates, _, _ = sandbox("prod")  # the sandbox has none (monitoring.dashboard)
    (dashboard,) = [r["Properties"] for t in templates for r in t["Resources"].values()
                    if r["Type"] == "AWS::CloudWatch::Dashboard"]  # fmt: skip
    lines, expressions, search = cost_idle.dashboard_metrics(dashboard)
    body = json.dumps(dashboard["DashboardBody"])
    assert search == body.count("SEARCH(") > 0
    assert 0 < search <= expressions < lines


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", 730),
        ("rate(15 minutes)", 2920),
        ("rate(1 day)", 730 / 24),
        ("cron(0 2 * * ? *)", 730 / 24),
        ("cron(0/30 8-17 ? * MON-FRI *)", 2 * 10 * 730 / 24 * 5 / 7),
        ("cron(0 6 1 * ? *)", 1),
        ("cron(0 6 1 JAN,JUL ? *)", 2 / 12),
    ],
)
def test_runs_a_month_of_a_schedule(expression: str, runs: float) -> None:
    assert cost_runs.runs_per_month(expression) == pytest.approx(runs)


def test_an_unmodelled_schedule_fails() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        cost_runs.runs_per_month("cron(0 6 L * ? *)")


def test_a_run_counts_the_success_path_with_its_polls() -> None:
    _, datasets, _ = sandbox()
    path, polls = cost_runs.success_path(pipeline_definition(datasets["orders"]))
    assert (path[0], path[-1]) == ("Start", "PublishDataset")
    # A 2-minute crawl polled every 30 s, two 2-minute job runs polled every minute.
    assert (path.count("GetCrawler"), path.count("GetCurateRun")) == (4, 2)
    assert polls == 4 + 2 + 2
    assert not {"AlertFailure", "PipelineFailed", "LeaveItToTheRunningExecution"} & set(path)
    lines = {x.item: x for x in cost_runs.run_lines(datasets["orders"], sandbox()[0])}
    assert lines["Step Functions state transitions"].quantity == len(path)
    assert lines["Glue crawler datalake-sandbox-orders-raw"].usd == pytest.approx(
        2 * 10 / 60 * 0.44
    )
    flex = lines["Glue job datalake-sandbox-orders-curate"]
    assert flex.usd == pytest.approx(2 * 2 / 60 * 0.29)  # 2 x G.1X, Flex, 2 minutes
