"""What each persona may reach, as Lake Formation grants: tag expressions from its reach.

A persona's reach is declared once, in ``model.vocabulary.PERSONAS``: the zones it sees,
whether it reads data, of every dataset or of those naming it among their readers, and which
column sensitivities. These functions turn that into grants on tag expressions, never on
table names, so a table or column is in or out of a grant by its tags alone.

The grants are created in the caller's scope, under IDs named for the persona
(``AnalystReads``): their logical IDs must never change, since replacing a Lake Formation
grant with an identical one revokes it when the old one is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from cdk_constructs.governance.lake_formation_tags import Expression, grant_by_tags
from model.vocabulary import DATASET, PERSONAS, SENSITIVITIES, SENSITIVITY, ZONE, Persona

_READ = ["SELECT", "DESCRIBE"]
_DESCRIBE = ["DESCRIBE"]


def table_expression(persona: Persona, dataset: str | None = None) -> Expression:
    """The tables and columns ``persona`` reaches: of ``dataset`` (else of every dataset), in
    its zones, of its sensitivities (no condition when it reads every sensitivity)."""
    expression: dict[str, tuple[str, ...]] = {DATASET: (dataset,)} if dataset else {}
    expression[ZONE] = persona.zones
    if set(persona.sensitivities) != set(SENSITIVITIES):
        expression[SENSITIVITY] = persona.sensitivities
    return expression


def grant_zone_reach(scope: Construct, principals: Mapping[str, str]) -> None:
    """What does not depend on a dataset's readers: each persona sees the databases of its
    zones, and a persona that reaches every dataset gets its tables once, zone-wide.

    :param principals: each persona's role ARN, by persona name.
    """
    for persona in PERSONAS:
        grant_by_tags(
            scope,
            f"{persona.pascal}DescribesDatabases",
            principal_arn=principals[persona.name],
            resource_type="DATABASE",
            expression={ZONE: persona.zones},
            permissions=_DESCRIBE,
        )
    for persona in PERSONAS:
        if not persona.reads_every_dataset:
            continue
        verb = "Reads" if persona.reads_data else "Describes"
        grant_by_tags(
            scope,
            f"{persona.pascal}{verb}EveryTable",
            principal_arn=principals[persona.name],
            resource_type="TABLE",
            expression=table_expression(persona),
            permissions=_READ if persona.reads_data else _DESCRIBE,
        )


def grant_dataset_readers(
    scope: Construct, *, dataset: str, readers: tuple[str, ...], principals: Mapping[str, str]
) -> None:
    """Each of a dataset's readers reads its tables, within the reader's reach. A persona
    that reads every dataset needs nothing here: ``grant_zone_reach`` covered it."""
    for persona in PERSONAS:
        if persona.name not in readers or persona.reads_every_dataset:
            continue
        grant_by_tags(
            scope,
            f"{persona.pascal}Reads",
            principal_arn=principals[persona.name],
            resource_type="TABLE",
            expression=table_expression(persona, dataset),
            permissions=_READ,
        )
