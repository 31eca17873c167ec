"""The Glue Data Catalog ARNs a call on some tables is authorized against."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from constructs import IConstruct


def table_arns(scope: IConstruct, database: str, tables: Sequence[str]) -> list[str]:
    """The catalog, ``database`` and each of its ``tables``: Glue checks a table call
    (``GetTable``, ``UpdateTable``) against all three levels."""
    stack = Stack.of(scope)
    return [
        stack.format_arn(service="glue", resource="catalog"),
        stack.format_arn(service="glue", resource="database", resource_name=database),
        *(stack.format_arn(service="glue", resource="table", resource_name=f"{database}/{t}")
          for t in tables),
    ]  # fmt: skip
