"""An IAM role whose granted permissions live in a customer managed policy, not inline.

CDK's ``grant_*`` methods, and every L2 construct that uses a role, add statements to the
role's default policy, an inline ``AWS::IAM::Policy``. The HIPAA, NIST and PCI packs reject
inline policies (managed policies are versioned and reviewable on their own). This role keeps
the convenience of ``grant_*`` and moves the statements into one customer managed policy.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedRole(iam.Role):
    """A role whose added statements go to its own customer managed policy.

    Pass it wherever a role is accepted (a Lambda function, a state machine, a Glue job) and
    use ``grant_*`` methods as usual: what they add lands in ``<id>/Policy``, created on the
    first statement, attached to this role only.
    """

    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self._managed_policy: iam.ManagedPolicy | None = None

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        if self._managed_policy is None:
            self._managed_policy = iam.ManagedPolicy(
                self,
                "Policy",
                description=f"Permissions of {self.node.path}.",
                roles=[self],
            )
        self._managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(
            statement_added=True, policy_dependable=self._managed_policy
        )
