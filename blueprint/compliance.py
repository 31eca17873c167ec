"""The cdk-nag rule packs every synth is checked against.

They are registered as CDK validation plugins (cdk-nag v3): any finding that is not
acknowledged on its resource makes synth fail, and the report lands in
``cdk.out/validation-report.json``.
"""

from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
from constructs import IConstruct


def nag_packs(scope: IConstruct | None = None) -> list[cdk_nag.NagPack]:
    """A fresh instance of each pack the blueprint complies with."""
    return [
        cdk_nag.AwsSolutionsChecks(scope),
        cdk_nag.HIPAASecurityChecks(scope),
        cdk_nag.NIST80053R5Checks(scope),
        cdk_nag.PCIDSS321Checks(scope),
        cdk_nag.ServerlessChecks(scope),
    ]


def enforce(app: cdk.App) -> None:
    """Make synth of ``app`` fail on any unacknowledged finding of any pack."""
    cdk.Validations.of(app).add_plugins(*nag_packs(app))
