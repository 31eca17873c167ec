"""The condition that limits a key grant to requests S3 makes on the caller's behalf."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import IConstruct


def s3_service(scope: IConstruct) -> str:
    """The value of ``kms:ViaService`` for S3 in ``scope``'s region: a grant conditioned on it
    decrypts objects read through S3, and nothing sent to KMS directly or through any other
    service (Secrets Manager, SQS, CloudWatch Logs) with the same key."""
    return f"s3.{Stack.of(scope).region}.amazonaws.com"
