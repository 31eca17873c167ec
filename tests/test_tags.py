"""Every taggable resource carries the environment's cost and ownership tags."""

from __future__ import annotations

from tests.conftest import built, template

TAGGABLE = {
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::CloudTrail::Trail",
    "AWS::Lambda::Function",
}


def test_every_taggable_resource_has_the_four_tags(env: str) -> None:
    expected = built(env).config.tags.as_dict()
    assert set(expected) == {"Project", "Environment", "Owner", "CostCenter"}
    assert expected["Environment"] == env
    checked = 0
    for stack in built(env).stacks:
        for logical_id, resource in template(env, stack.node.id).to_json()["Resources"].items():
            tags = resource.get("Properties", {}).get("Tags")
            if resource["Type"] not in TAGGABLE and tags is None:
                continue
            assert tags is not None, f"{stack.node.id}/{logical_id} has no tags"
            values = {tag["Key"]: tag["Value"] for tag in tags}
            assert values.items() >= expected.items(), f"{stack.node.id}/{logical_id}"
            checked += 1
    assert checked >= 12
