"""cfn-lint over every synthesized template of every environment: no error, no warning.

One check is ignored because it concerns what CDK itself generates, not this project's
design: W3005, a DependsOn that a GetAtt already implies, which CDK writes for its
custom-resource providers. The same list is used by ``tasks.py cfn-lint``.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk import assertions
from cfnlint.api import ManualArgs, lint

from tasks import CFN_LINT_IGNORED
from tests.conftest import ENVIRONMENTS, built

# Regions the blueprint is documented to deploy to; resource specs differ per region.
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_templates_pass_cfn_lint(env_name: str) -> None:
    problems = []
    for stack in built(env_name).stacks:
        template = assertions.Template.from_stack(stack).to_json()
        matches = lint(
            json.dumps(template),
            config=ManualArgs(regions=REGIONS, ignore_checks=list(CFN_LINT_IGNORED)),
        )
        problems += [f"{stack.node.id}: {m}" for m in matches]
    assert problems == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    """The lint call really lints: a bucket with a made-up property is reported."""
    template = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"Colour": "red"}}}}
    matches = lint(json.dumps(template), config=ManualArgs(regions=REGIONS))
    assert any("Colour" in str(m) for m in matches)
