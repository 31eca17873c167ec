"""Every resource carries the environment's cost and ownership tags."""

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


def test_every_stack_is_tagged_so_cloudformation_tags_all_it_creates(env: str) -> None:
    expected = built(env).config.tags.as_dict()
    assert set(expected) == {"Project", "Environment", "Owner", "CostCenter"}
    assert expected["Environment"] == env
    for stack in built(env).stacks:
        assert stack.tags.tag_values() == expected, stack.node.id


def test_every_taggable_resource_is_tagged_in_the_template(env: str) -> None:
    """Stack tags reach resources at deploy time; these show in the template too."""
    expected = built(env).config.tags.as_dict()
    checked = 0
    for stack in built(env).stacks:
        for logical_id, resource in template(env, stack.node.id).to_json()["Resources"].items():
            if resource["Type"] not in TAGGABLE:
                continue
            if logical_id.startswith("CustomS3AutoDeleteObjectsCustomResourceProvider"):
                continue  # CDK's provider has no tag manager: it gets the stack tags
            tags = resource["Properties"].get("Tags")
            assert tags is not None, f"{stack.node.id}/{logical_id} has no tags"
            values = {tag["Key"]: tag["Value"] for tag in tags}
            assert values.items() >= expected.items(), f"{stack.node.id}/{logical_id}"
            checked += 1
    assert checked >= 12
