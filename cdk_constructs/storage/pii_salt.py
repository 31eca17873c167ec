"""The salt of hashed personal data: generated at deploy time, never rotated."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_constructs.common.nag import acknowledge
from cdk_constructs.common.removal import data_removal_policy


class PiiSalt(secretsmanager.Secret):
    """A secret of 48 letters and digits, encrypted with ``encryption_key``.

    Generated at deploy time, so it is in neither the code nor the template. It never
    rotates: a new salt would change every hash and break joins on hashed columns between
    data curated before and after.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the secret.

        :param remove_on_destroy: delete it with the stack. Default: retained (without it,
            hashes made before cannot be matched again).
        """
        super().__init__(
            scope,
            id,
            description="Salt for hashing personal-data columns in the curated zone.",
            encryption_key=encryption_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=data_removal_policy(remove_on_destroy),
        )
        acknowledge(
            self,
            "The salt of hashed personal data must not rotate: a new salt would change every "
            "hash and break joins between data curated before and after.",
            "AwsSolutions-SMG4",
            "HIPAA.Security-SecretsManagerRotationEnabled",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
            "PCI.DSS.321-SecretsManagerRotationEnabled",
        )
