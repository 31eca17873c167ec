"""Pictures drawn from the synthesized app, so the docs cannot drift from what deploys.

``python3 tasks.py diagrams`` rewrites the marked blocks in the docs; a test fails when a
block differs from what the app synthesizes now.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aws_cdk as cdk

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
    from cdk_constructs.monitoring.security_alarms import SECURITY_EVENTS

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


# The architecture picture: every stack of the app, by the workflow stage it provisions.

# The stage of each stack, by construct id ("Dataset-*": the stack of every declared dataset).
# A stack missing here fails the picture, so a new stack is never silently left out of it.
STAGES = {
    "Storage": "store",
    "Ingest": "ingest",
    "Catalog": "catalog",
    "Dataset-*": "process",
    "Delivery": "deliver",
    "Warehouse": "deliver",  # only with redshift.enabled
    "Governance": "govern",
    "Audit": "govern",
    "Monitoring": "monitor",
    "Alerts": "alert",
}
# Each stage's subgraph title, in drawing order.
STAGE_TITLES = {
    "ingest": "ingest",
    "store": "store",
    "process": "process + orchestrate",
    "catalog": "catalog",
    "deliver": "deliver",
    "govern": "govern and secure",
    "monitor": "monitor",
    "alert": "alert",
}
# What a stack's box lists: its main resources by type, counted in its template, in this
# order (singular, plural). Other types (policies, log groups, permissions) support these.
MAIN_RESOURCES = {
    "AWS::KMS::Key": ("KMS key", "KMS keys"),
    "AWS::S3::Bucket": ("bucket", "buckets"),
    "AWS::SecretsManager::Secret": ("secret", "secrets"),
    "AWS::CloudTrail::Trail": ("trail", "trails"),
    "AWS::IAM::Role": ("IAM role", "IAM roles"),
    "AWS::LakeFormation::DataLakeSettings": ("data lake settings", "data lake settings"),
    "AWS::LakeFormation::Tag": ("LF-Tag", "LF-Tags"),
    "AWS::LakeFormation::Resource": ("registered location", "registered locations"),
    "AWS::Glue::SecurityConfiguration": ("security configuration", "security configurations"),
    "AWS::Glue::Database": ("Glue database", "Glue databases"),
    "AWS::LakeFormation::PrincipalPermissions": ("LF grant", "LF grants"),
    "AWS::Lambda::Function": ("function", "functions"),
    "AWS::KinesisFirehose::DeliveryStream": ("Firehose stream", "Firehose streams"),
    "AWS::Glue::Crawler": ("crawler", "crawlers"),
    "AWS::Glue::Table": ("Glue table", "Glue tables"),
    "AWS::Glue::Job": ("Glue job", "Glue jobs"),
    "AWS::Glue::DataQualityRuleset": ("DQ ruleset", "DQ rulesets"),
    "AWS::StepFunctions::StateMachine": ("state machine", "state machines"),
    "AWS::Scheduler::Schedule": ("schedule", "schedules"),
    "AWS::Events::Rule": ("EventBridge rule", "EventBridge rules"),
    "AWS::SNS::Topic": ("SNS topic", "SNS topics"),
    "AWS::SQS::Queue": ("SQS queue", "SQS queues"),
    "AWS::Athena::WorkGroup": ("Athena workgroup", "Athena workgroups"),
    "AWS::Athena::NamedQuery": ("named query", "named queries"),
    "AWS::RedshiftServerless::Namespace": ("Redshift namespace", "Redshift namespaces"),
    "AWS::RedshiftServerless::Workgroup": ("Redshift workgroup", "Redshift workgroups"),
    "AWS::EC2::VPC": ("VPC", "VPCs"),
    "AWS::CloudWatch::Dashboard": ("dashboard", "dashboards"),
    "AWS::CloudWatch::Alarm": ("alarm", "alarms"),
    "AWS::Logs::MetricFilter": ("metric filter", "metric filters"),
}  # fmt: skip
ITEMS_PER_LINE = 2


@dataclass(frozen=True)
class StackView:
    """What the architecture picture reads of one synthesized stack."""

    id: str  # construct id
    name: str  # stack name
    dependencies: tuple[str, ...]  # construct ids of the stacks it deploys after
    template: Mapping[str, Any]


def stack_view(stack: cdk.Stack, template: Mapping[str, Any]) -> StackView:
    """``stack`` and its synthesized ``template`` as the picture reads them."""
    deps = tuple(d.node.id for d in stack.dependencies)
    return StackView(stack.node.id, stack.stack_name, deps, template)


def stage_of(stack_id: str) -> str:
    """The workflow stage of the stack ``stack_id``, from ``STAGES``."""
    return STAGES[_stage_key(stack_id)]


def _stage_key(stack_id: str) -> str:
    if stack_id in STAGES:
        return stack_id
    for pattern in STAGES:
        if "*" in pattern and fnmatch.fnmatchcase(stack_id, pattern):
            return pattern
    raise ValueError(
        f"stack {stack_id!r} has no workflow stage: add it to STAGES in tools/diagrams.py "
        "so the architecture picture shows it"
    )


def architecture_mermaid(stacks: Sequence[StackView]) -> str:
    """A Mermaid flowchart of the app: a box per stack (its name and main resources) in a
    subgraph per stage (per stack where ``STAGES`` names a pattern: one per dataset); thick
    arrows for the data path through the zone buckets (cylinders), found in the templates;
    dotted arrows for deployment order, from a stack to those that read its outputs or depend
    on it (implied ones left out)."""
    lines = ["flowchart LR"]
    for key, title, members in _subgraphs(stacks):
        lines.append(f'    subgraph stage_{key}["{title}"]')
        lines += [f'        {_id(view.id)}["{_box(view)}"]' for view in members]
        lines.append("    end")
    flows = _data_path(stacks)
    # Buckets stand outside their stack's subgraph, so the data path can run straight.
    buckets = sorted({end for flow in flows for end in flow[:2] if end[1]}, key=_zone_order)
    lines += [f'    {_node(b)}[("{_bucket_label(b[1])} bucket")]' for b in buckets]
    lines += [f'    {_node(src)} ==>|"{how}"| {_node(dst)}' for src, dst, how in flows]
    order = _deployment_order(stacks)
    lines += [f"    {_id(producer)} -.-> {_id(consumer)}" for producer, consumer in order]
    if order:
        dotted = ",".join(str(i) for i in range(len(flows), len(flows) + len(order)))
        lines.append(f"    linkStyle {dotted} stroke:#999")
    return "\n".join(lines) + "\n"


def _subgraphs(stacks: Sequence[StackView]) -> list[tuple[str, str, list[StackView]]]:
    """(id, title, stacks) of each subgraph, in the order of ``STAGE_TITLES``."""
    groups: dict[str, tuple[int, str, list[StackView]]] = {}
    for view in stacks:
        pattern = _stage_key(view.id)
        stage = STAGES[pattern]
        key, title = stage, STAGE_TITLES[stage]
        if "*" in pattern:  # Dataset-orders: "process + orchestrate: orders"
            prefix, suffix = pattern.split("*", 1)
            part = view.id[len(prefix) : len(view.id) - len(suffix)]
            key, title = f"{stage}_{_id(part)}", f"{title}: {part}"
        rank = list(STAGE_TITLES).index(stage)
        groups.setdefault(key, (rank, title, []))[2].append(view)
    ordered = sorted(groups.items(), key=lambda item: item[1][0])
    return [(key, title, members) for key, (_, title, members) in ordered]


# A resource: (stack construct id, logical id); a stack alone: (stack construct id, "").
Resource = tuple[str, str]


def _node(resource: Resource) -> str:
    stack, logical_id = resource
    return _id(f"{stack}-{_bucket_label(logical_id)}" if logical_id else stack)


def _box(view: StackView) -> str:
    counts = Counter(
        r["Type"] for logical, r in view.template["Resources"].items()
        # CDK's own custom-resource providers (bucket auto-delete) are not the design.
        if "CustomResourceProvider" not in logical
    )  # fmt: skip
    items = [
        f"{counts[type_]} {singular if counts[type_] == 1 else plural}"
        for type_, (singular, plural) in MAIN_RESOURCES.items()
        if counts[type_]
    ]
    rows = [", ".join(items[i : i + ITEMS_PER_LINE]) for i in range(0, len(items), ITEMS_PER_LINE)]
    return "<br/>".join([f"<b>{view.name}</b>", *rows])


def _bucket_label(logical_id: str) -> str:
    """``RawBucket0C3EE094`` -> ``raw``, ``AthenaResultsBucket879938FA`` -> ``athena results``."""
    name = logical_id[:-8].removesuffix("Bucket")
    return " ".join(re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)).lower()


def _zone_order(resource: Resource) -> tuple[int, str]:
    """Lake zones in the order data moves through them, other buckets after."""
    from model.vocabulary import ZONES

    label = _bucket_label(resource[1])
    return (ZONES.index(label) if label in ZONES else len(ZONES), label)


def _data_path(stacks: Sequence[StackView]) -> list[tuple[Resource, Resource, str]]:
    """(from, to, how) of every move of data between a zone bucket and a stack, found in the
    templates: an EventBridge rule on a bucket's events that invokes a function, and the
    buckets the function's environment names; a crawler's targets; the buckets a Glue job's
    arguments name (it reads the earliest zone and writes the later ones); a Firehose stream's
    destination; the databases a named query reads, by their location, to its workgroup."""
    by_name = {view.name: view for view in stacks}
    databases = {
        r["Properties"]["DatabaseInput"]["Name"]: (view, r["Properties"]["DatabaseInput"])
        for view in stacks for r in view.template["Resources"].values()
        if r["Type"] == "AWS::Glue::Database"
    }  # fmt: skip
    workgroups = {
        r["Properties"]["Name"]: view.id
        for view in stacks for r in view.template["Resources"].values()
        if r["Type"] == "AWS::Athena::WorkGroup"
    }  # fmt: skip
    flows: dict[tuple[Resource, Resource], list[str]] = {}

    def flow(src: Resource, dst: Resource, how: str) -> None:
        hows = flows.setdefault((src, dst), [])
        if how not in hows:
            hows.append(how)

    for view in stacks:
        here: Resource = (view.id, "")

        def buckets(value: Any, owner: StackView = view) -> list[Resource]:
            found = _referenced(value, owner, by_name)
            return sorted((r for r in found if _type(r, stacks) == "AWS::S3::Bucket"),
                          key=_zone_order)  # fmt: skip

        for resource in view.template["Resources"].values():
            props, type_ = resource.get("Properties", {}), resource["Type"]
            if type_ == "AWS::Events::Rule":
                sources = buckets(props.get("EventPattern", {}).get("detail", {}).get("bucket"))
                for target in _referenced([t["Arn"] for t in props.get("Targets", [])], view,
                                          by_name):  # fmt: skip
                    if _type(target, stacks) != "AWS::Lambda::Function" or not sources:
                        continue
                    function = view.template["Resources"][target[1]]["Properties"]
                    for bucket in sources:
                        flow(bucket, here, "EventBridge → Lambda")
                    for bucket in buckets(function.get("Environment")):
                        if bucket not in sources:
                            flow(here, bucket, "Lambda")
            elif type_ == "AWS::Glue::Crawler":
                for bucket in buckets(props["Targets"]):
                    flow(bucket, here, "crawler")
            elif type_ == "AWS::Glue::Job":
                reads, *writes = buckets(props.get("DefaultArguments")) or [here]
                if reads != here:
                    flow(reads, here, "Glue job")
                for bucket in writes:
                    flow(here, bucket, "Glue job")
            elif type_ == "AWS::KinesisFirehose::DeliveryStream":
                for bucket in buckets(props.get("ExtendedS3DestinationConfiguration")):
                    flow(here, bucket, "Firehose")
            elif type_ == "AWS::Athena::NamedQuery" and props["WorkGroup"] in workgroups:
                named = {props["Database"], *re.findall(r"\b(\w+)\.\w+", props["QueryString"])}
                for database in sorted(named & databases.keys()):
                    owner, database_input = databases[database]
                    for bucket in buckets(database_input["LocationUri"], owner):
                        flow(bucket, (workgroups[props["WorkGroup"]], ""), "Athena")
    return [(src, dst, ", ".join(hows)) for (src, dst), hows in flows.items()]


def _type(resource: Resource, stacks: Sequence[StackView]) -> str | None:
    view = next(v for v in stacks if v.id == resource[0])
    found = view.template["Resources"].get(resource[1])
    return str(found["Type"]) if found else None


def _referenced(value: Any, owner: StackView, by_name: Mapping[str, StackView]) -> set[Resource]:
    """The resources ``value`` refers to: ``Ref`` and ``Fn::GetAtt`` in ``owner``'s template,
    followed through ``Fn::GetStackOutput`` to the output's value in the stack named."""
    found: set[Resource] = set()
    if isinstance(value, list):
        for item in value:
            found |= _referenced(item, owner, by_name)
    elif isinstance(value, dict):
        if "Fn::GetStackOutput" in value:
            ref = value["Fn::GetStackOutput"]
            producer = by_name.get(ref["StackName"])
            if producer is not None:
                output = producer.template["Outputs"][ref["OutputName"]]["Value"]
                found |= _referenced(output, producer, by_name)
            return found
        target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(target, str) and target in owner.template["Resources"]:
            return {(owner.id, target)}
        for item in value.values():
            found |= _referenced(item, owner, by_name)
    return found


def stack_references(view: StackView, stacks: Sequence[StackView]) -> set[str]:
    """Construct ids of the stacks whose outputs ``view``'s template reads."""
    names = {v.name: v.id for v in stacks}
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            ref = value.get("Fn::GetStackOutput")
            if isinstance(ref, dict) and ref.get("StackName") in names:
                found.add(names[ref["StackName"]])
            for item in value.values():
                walk(item)

    walk(view.template)
    return found


def _deployment_order(stacks: Sequence[StackView]) -> list[tuple[str, str]]:
    """(producer, consumer) for each stack a stack depends on or reads outputs of, leaving
    out what a longer chain already implies (the transitive reduction)."""
    needs = {v.id: [s.id for s in stacks if s.id in {*v.dependencies,
                                                        *stack_references(v, stacks)}]
             for v in stacks}  # fmt: skip

    def reaches(start: str, goal: str, skip: tuple[str, str]) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            for nxt in needs[node]:
                if (node, nxt) != skip and nxt not in seen:
                    if nxt == goal:
                        return True
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    return [(producer, consumer) for consumer in needs for producer in needs[consumer]
            if not reaches(consumer, producer, skip=(consumer, producer))]  # fmt: skip


README = Path(__file__).resolve().parent.parent / "README.md"
TOUR_DOC = DOCS / "tour.md"
ARCHITECTURE_DOCS = (README, TOUR_DOC)
