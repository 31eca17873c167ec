"""Every IAM policy document and trust policy of a synthesized app, and the check that its
grants on "*" are the pinned ones (``cdk_constructs.common.wildcards``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk

from blueprint.factory import Blueprint
from cdk_constructs.common.wildcards import PINNED, kinds_of

IAM_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")


@dataclass(frozen=True)
class Document:
    """One policy document: where it is, the wildcard kinds of its role or policy (none when
    none is registered), and whether it is a role's trust policy."""

    path: str
    kinds: tuple[str, ...]
    document: dict[str, Any]
    trust: bool = False


def documents(blueprint: Blueprint) -> Iterator[Document]:
    """Every identity policy (customer managed, inline, a role's inline ``Policies``) and
    every trust policy in the synthesized templates of ``blueprint``."""
    assembly = blueprint.app.synth()
    for construct in blueprint.app.node.find_all():
        if not isinstance(construct, cdk.CfnResource):
            continue
        if construct.cfn_resource_type not in IAM_TYPES:
            continue
        stack = cdk.Stack.of(construct)
        logical_id = stack.resolve(construct.logical_id)
        template = assembly.get_stack_by_name(stack.stack_name).template
        properties = template["Resources"][logical_id]["Properties"]
        path, kinds = construct.node.path, _kinds(construct)
        if construct.cfn_resource_type == "AWS::IAM::Role":
            yield Document(path, kinds, properties["AssumeRolePolicyDocument"], trust=True)
            for inline in properties.get("Policies", []):
                yield Document(path, kinds, inline["PolicyDocument"])
        else:
            yield Document(path, kinds, properties["PolicyDocument"])


def _kinds(construct: cdk.CfnResource) -> tuple[str, ...]:
    """The kinds registered on the resource or the nearest construct above it."""
    for scope in reversed(construct.node.scopes):
        if kinds := kinds_of(scope):
            return kinds
    return ()


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def star_statements(document: Document) -> Iterator[dict[str, Any]]:
    """The Allow statements of an identity policy that reach every resource."""
    if document.trust:
        return
    for statement in document.document["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        if "NotResource" in statement or "*" in _listed(statement.get("Resource")):
            yield statement


def violations(blueprint: Blueprint) -> list[str]:
    """Every grant on "*" (or by NotResource, or of NotAction) that is not pinned for the
    kind of its role or policy."""
    found = []
    for document in documents(blueprint):
        allowed = {a for kind in document.kinds for a in PINNED[kind]}
        for statement in star_statements(document):
            if "NotResource" in statement or "NotAction" in statement:
                found.append(f"{document.path}: NotResource/NotAction grants {statement}")
                continue
            extra = sorted(set(_listed(statement["Action"])) - allowed)
            if extra:
                kinds = ", ".join(document.kinds) or "no kind"
                found.append(f"{document.path} ({kinds}): {', '.join(extra)} on *")
    return found


def used(blueprint: Blueprint) -> set[tuple[str, str]]:
    """(kind, action) of every grant on "*" in ``blueprint``, for each kind of its role or
    policy that pins the action ("" when none does)."""
    found = set()
    for document in documents(blueprint):
        for statement in star_statements(document):
            for action in _listed(statement.get("Action", [])):
                kinds = [k for k in document.kinds if action in PINNED[k]] or [""]
                found |= {(kind, action) for kind in kinds}
    return found
