"""What links the stacks of the synthesized app, found in their templates: the data path
between the zone buckets and the stacks that move data, and the order the stacks deploy in.
The architecture picture (tools/architecture_picture.py) draws both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk

from model.vocabulary import ZONES


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


# A resource: (stack construct id, logical id); a stack alone: (stack construct id, "").
Resource = tuple[str, str]


def bucket_label(logical_id: str) -> str:
    """``RawBucket0C3EE094`` -> ``raw``, ``AthenaResultsBucket879938FA`` -> ``athena results``."""
    name = logical_id[:-8].removesuffix("Bucket")
    return " ".join(re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)).lower()


def zone_order(resource: Resource) -> tuple[int, str]:
    """Lake zones in the order data moves through them, other buckets after."""
    label = bucket_label(resource[1])
    return (ZONES.index(label) if label in ZONES else len(ZONES), label)


def data_path(stacks: Sequence[StackView]) -> list[tuple[Resource, Resource, str]]:
    """(from, to, how) of every move of data between a zone bucket and a stack, found in the
    templates: an EventBridge rule on a bucket's events that invokes a function, and the
    buckets the function's environment names; a crawler's targets; the buckets and catalog
    tables a Glue job's arguments name (it reads the earliest zone and writes the later ones;
    a table is in the zone of its database's location); a Firehose stream's
    destination; the databases a named query reads, by their location, to its workgroup.
    An erasure job (its arguments name a ``--subject_column``) rewrites each zone in place
    and moves nothing from one zone to another: it is not on the data path."""
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
                          key=zone_order)  # fmt: skip

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
                arguments = props.get("DefaultArguments", {})
                if "--subject_column" in arguments:
                    continue
                tables = [
                    bucket
                    for value in arguments.values()
                    if isinstance(value, str) and value.split(".")[0] in databases
                    for bucket in buckets(*_database_location(databases[value.split(".")[0]]))
                ]  # the catalog tables it names (``<database>.<table>``) are in their zone
                zones = sorted({*buckets(arguments), *tables}, key=zone_order)
                reads, *writes = zones or [here]
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


def _database_location(database: tuple[StackView, dict[str, Any]]) -> tuple[Any, StackView]:
    """A database's location and the stack that holds it, as ``buckets`` takes them."""
    owner, database_input = database
    return database_input["LocationUri"], owner


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


def deployment_order(stacks: Sequence[StackView]) -> list[tuple[str, str]]:
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
