"""Stacks reach each other one way: resources lent by name, borrowed as objects (stacks.sharing)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from stacks.sharing import Borrowed, Lender
from tests.conftest import ENVIRONMENTS, built, template


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_reference_between_stacks_is_a_lent_output(env: str) -> None:
    """No automatic reference (CDK names those PublishOutput...), no export, no import: each
    value another stack uses is an output its producer lends by name."""
    blueprint = built(env)
    outputs = {s.stack_name: set(template(env, s.node.id).to_json().get("Outputs", {}))
               for s in blueprint.stacks}  # fmt: skip
    for stack in blueprint.stacks:
        text = json.dumps(template(env, stack.node.id).to_json())
        assert "PublishOutput" not in text, f"{stack.node.id} makes an automatic reference"
        assert "Fn::ImportValue" not in text, stack.node.id
        assert '"Export"' not in text, stack.node.id
        for reference in _stack_outputs(template(env, stack.node.id).to_json()):
            producer, name = reference["StackName"], reference["OutputName"]
            assert name in outputs[producer], f"{stack.node.id} reads {producer}.{name}"


def _stack_outputs(value: object) -> list[dict[str, str]]:
    if isinstance(value, list):
        return [found for item in value for found in _stack_outputs(item)]
    if isinstance(value, dict):
        if "Fn::GetStackOutput" in value:
            return [value["Fn::GetStackOutput"]]
        return [found for item in value.values() for found in _stack_outputs(item)]
    return []


class _Producer(Lender, cdk.Stack):
    pass


def test_borrowing_what_was_not_lent_fails_naming_both() -> None:
    app = cdk.App()
    producer = _Producer(app, "Producer")
    bucket = s3.Bucket(producer, "Kept")
    consumer = cdk.Stack(app, "Consumer")
    with pytest.raises(
        ValueError, match="Consumer uses Producer/Kept, which its stack does not lend"
    ):
        Borrowed(consumer).bucket(bucket)


def test_a_stack_lends_only_its_own_resources() -> None:
    app = cdk.App()
    producer = _Producer(app, "Producer")
    other = cdk.Stack(app, "Other")
    with pytest.raises(ValueError, match="Producer lends Other/Bucket, not its own"):
        producer.lend(s3.Bucket(other, "Bucket"), "Bucket")


def test_a_borrowed_resource_is_made_once_and_orders_the_deployment() -> None:
    app = cdk.App()
    producer = _Producer(app, "Producer")
    bucket = s3.Bucket(producer, "Data")
    producer.lend(bucket, "DataBucket")
    consumer = cdk.Stack(app, "Consumer")
    borrowed = Borrowed(consumer)
    assert borrowed.bucket(bucket) is borrowed.bucket(bucket)
    assert producer in consumer.dependencies
    assert consumer.resolve(borrowed.bucket(bucket).bucket_name) == {
        "Fn::GetStackOutput": {
            "StackName": "Producer",
            "OutputName": "DataBucketName",
            "Region": {"Ref": "AWS::Region"},
        }
    }
