"""Which role of the app may use which key of the lake, read from the synthesized templates.

Every statement that allows a ``kms:`` action, in every policy of every role (inline
policies, customer managed policies naming the role, managed policies the role names), with
each resource followed across stacks to the key it is: the table the key tests assert on.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.lake_model import LakeModel

# The lake's keys, by the construct ID of each in the storage stack.
KEYS = {
    "DataKey": "personal",
    "CuratedDataKey": "curated",
    "OperationsKey": "operations",
    "AuditLogsKey": "audit",
}


@dataclass
class KeyReach:
    """For each role (``stack/logical ID``): the kms statements it has, and by key the actions."""

    lake: LakeModel
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.roles = [
            f"{stack_id}/{logical_id}"
            for stack_id, logical_id, _ in self.lake._resources("AWS::IAM::Role")
        ]
        for stack_id, logical_id, props in self._policies():
            for role in self._attached_roles(stack_id, logical_id, props):
                document = props.get("PolicyDocument", {})
                self.statements[role] += [
                    {**s, "_stack": stack_id} for s in document.get("Statement", [])
                ]

    def _policies(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            *self.lake._resources("AWS::IAM::Policy"),
            *self.lake._resources("AWS::IAM::ManagedPolicy"),
        ]

    def _attached_roles(self, stack_id: str, logical_id: str, props: dict[str, Any]) -> list[str]:
        """The roles a policy applies to: those it names, and those naming it."""
        roles = [self.lake.resolve(stack_id, r) for r in props.get("Roles", [])]
        for role_stack, role_id, role_props in self.lake._resources("AWS::IAM::Role"):
            for arn in role_props.get("ManagedPolicyArns", []):
                if self.lake.resolve(role_stack, arn) == (stack_id, logical_id):
                    roles.append((role_stack, role_id))
        assert all(isinstance(r, tuple) for r in roles), (logical_id, roles)
        return [f"{s}/{r}" for s, r in roles]

    def key_actions(self, role: str) -> dict[str, set[str]]:
        """The role's kms actions by key name (``KEYS``); a kms action on anything that is not
        one of the lake's keys fails."""
        reach: dict[str, set[str]] = defaultdict(set)
        for statement in self.statements.get(role, []):
            assert statement["Effect"] == "Allow", statement
            actions = statement["Action"]
            kms_actions = {a for a in (actions if isinstance(actions, list) else [actions])
                           if a.startswith("kms:")}  # fmt: skip
            if not kms_actions:
                continue
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                reach[self.key_name(statement["_stack"], resource)] |= kms_actions
        return dict(reach)

    def key_name(self, stack_id: str, resource: Any) -> str:
        resolved = self.lake.resolve(stack_id, resource)
        assert isinstance(resolved, tuple), f"kms on {resource} in {stack_id}"
        producer, logical_id = resolved
        assert producer == "Storage", resolved
        resource_type = self.lake.templates[producer]["Resources"][logical_id]["Type"]
        assert resource_type == "AWS::KMS::Key", resolved
        return KEYS[logical_id[:-8]]

    def table(self) -> dict[str, frozenset[str]]:
        """Every role of the app, with the keys it may use (an empty set for most)."""
        return {role: frozenset(self.key_actions(role)) for role in self.roles}

    def matching(self, pattern: str) -> list[str]:
        """The roles whose ``stack/logical ID`` matches ``pattern`` (fnmatch, with the 8
        characters of CDK's hash as ``????????``)."""
        return [r for r in self.roles if fnmatch.fnmatchcase(r, pattern)]
