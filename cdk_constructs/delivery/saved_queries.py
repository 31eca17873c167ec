"""A dataset's ready queries, saved in the Athena workgroup of each persona that reads it."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_athena as athena
from constructs import Construct

from model.datasets import Dataset
from model.vocabulary import PERSONAS


def save_queries(
    scope: Construct,
    *,
    dataset: Dataset,
    workgroups: Mapping[str, str],
    databases: Mapping[str, str],
) -> list[athena.CfnNamedQuery]:
    """Add ``Query-<query>-<persona>`` to ``scope`` for each declared query and each reader
    with a workgroup, with the environment's database names filled in.

    :param workgroups: workgroup names, by persona.
    :param databases: the curated and analytics databases, by zone.
    """
    readers = [p.name for p in PERSONAS if p.name in dataset.readers and p.name in workgroups]
    return [
        athena.CfnNamedQuery(
            scope,
            f"Query-{query.name}-{reader}",
            name=f"{dataset.name}: {query.name}",
            description=query.description,
            database=databases["curated"],
            query_string=query.athena_sql(databases).strip(),
            work_group=workgroups[reader],
        )
        for query in dataset.queries
        for reader in readers
    ]
