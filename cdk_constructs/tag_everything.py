"""Tags for the resources `Tags.of(...)` cannot reach.

CDK's own custom-resource providers (for example the function that empties a bucket before
deletion) are plain ``CfnResource`` objects without a tag manager, so ``Tags.of(app)`` skips
them. This aspect writes the tags onto those of a taggable type, so that cost and ownership
reports account for every resource.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
import jsii
from constructs import IConstruct

_TAGGABLE_RAW_TYPES = ("AWS::IAM::Role", "AWS::Lambda::Function")


@jsii.implements(cdk.IAspect)
class TagEverything:
    """Add ``tags`` to raw CloudFormation resources that CDK's tagging does not see."""

    def __init__(self, tags: Mapping[str, str]) -> None:
        self._tags = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, cdk.CfnResource)
            and node.cfn_resource_type in _TAGGABLE_RAW_TYPES
            and not cdk.TagManager.is_taggable(node)
        ):
            node.add_property_override("Tags", self._tags)
