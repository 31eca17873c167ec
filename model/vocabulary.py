"""The lake's vocabulary: the words every floor above uses, each defined here once.

Zones, the LF-Tag keys and values that govern access, the personas and what each may reach,
and the constants that configuration is checked against. Plain Python, no CDK: the
configuration and declaration checks read it, and so do the constructs and stacks that turn
it into resources. A value not defined here is an error wherever it appears, never a skip.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- zones ---------------------------------------------------------------------------------
# Every zone has a bucket; files wait in landing until ingest has checked them, so landing is
# not catalogued, and the other zones have a Glue database each.
ZONES = ("landing", "raw", "curated", "analytics")
CATALOGUED_ZONES = ("raw", "curated", "analytics")
# Zones whose buckets send events to EventBridge: arrivals in landing start ingest, arrivals
# in raw may start a dataset's pipeline.
EVENT_ZONES = ("landing", "raw")
# Zones holding personal data in clear (raw with its quarantine): their objects have a key of
# their own, which readers of the other zones are never granted (docs/governance.md, "Keys").
PERSONAL_DATA_ZONES = ("landing", "raw")
# Rejected files and rows are kept under this prefix of the raw bucket, with their reasons.
QUARANTINE_PREFIX = "_quarantine"
# The ingest function's own records in the raw bucket: an index of each dataset's files by
# content (``<prefix>/<dataset>/``, how a re-sent file is known) and a ledger of each upload.
INGEST_INDEX_PREFIX = "_ingest/index"
INGEST_LEDGER_PREFIX = "_ingest/ledger"
# Erasure requests wait under this prefix of the raw bucket (they hold the person's value, so
# they sit with the personal data, under its key), and each erasure job's record of what it
# did goes under the other, in the audit bucket, where nobody who erases may delete it.
ERASURE_REQUEST_PREFIX = "_erasure/requests"
ERASURE_RECORD_PREFIX = "erasure"
# A column every curated table has (the day the row's raw file landed), so not declarable.
LINEAGE_COLUMN = "ingest_date"

# -- LF-Tags ---------------------------------------------------------------------------------
# Access is granted by tag expression, never by table name (docs/governance.md).
ZONE = "zone"
DOMAIN = "domain"
DATASET = "dataset"
SENSITIVITY = "sensitivity"
GENERAL, PII_HASHED, PII_CLEAR = "general", "pii-hashed", "pii-clear"
SENSITIVITIES = (GENERAL, PII_HASHED, PII_CLEAR)
# A curated column's sensitivity by its declared treatment (dropped columns are not there).
SENSITIVITY_BY_TREATMENT = {"hash": PII_HASHED, "keep": PII_CLEAR}
# What a table inherits from its zone's database: anything raw may be personal data.
ZONE_SENSITIVITY = {"raw": PII_CLEAR, "curated": GENERAL, "analytics": GENERAL}

# -- retention -------------------------------------------------------------------------------
# The retention periods CloudWatch Logs offers, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
    731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# S3 Object Lock's modes, for the audit logs (``retention.auditObjectLockMode``).
OBJECT_LOCK_MODES = ("COMPLIANCE", "GOVERNANCE")
# What a raw retention in days must be, in the environment (``lifecycle.rawExpirationDays``)
# and in a declaration (``raw_retention_days``).
RAW_RETENTION_EXPECTED = (
    "a whole number of days, at least 1, after which raw files and their quarantine expire"
)


# -- personas --------------------------------------------------------------------------------
# Duties beyond reading tables, each a set of permissions the governance stack grants.
OPERATES_PIPELINES = "operates pipelines"  # starts crawlers; reads landed and quarantined files
AUDITS = "audits"  # reads the audit trail; a read-only Lake Formation admin
ERASES = "erases a person's data"  # starts the erasure jobs; writes requests, reads records


@dataclass(frozen=True)
class Persona:
    """Who works with the lake, and what that role may reach.

    :param name: how code, declarations (``readers``) and construct IDs name it.
    :param title: how people call it, in role and workgroup descriptions.
    :param zones: the catalogued zones whose databases and table definitions it sees.
    :param reads_data: whether it reads table data (and so queries, in a workgroup of its
        own); without it, it sees definitions only.
    :param reads_every_dataset: whether it reads every dataset of its zones (granted once,
        zone-wide) rather than only those whose declarations name it among their readers.
    :param sensitivities: the column sensitivities it reads. Default: every one.
    :param duties: what else its role may do (``OPERATES_PIPELINES``, ``AUDITS``,
        ``ERASES``).
    """

    name: str
    title: str
    zones: tuple[str, ...]
    reads_data: bool
    reads_every_dataset: bool
    sensitivities: tuple[str, ...] = SENSITIVITIES
    duties: tuple[str, ...] = ()

    @property
    def config_key(self) -> str:
        """Its key under ``personas`` in cdk.json: securityOfficer for security_officer."""
        first, *rest = self.name.split("_")
        return first + "".join(part.capitalize() for part in rest)

    @property
    def pascal(self) -> str:
        """Its name in construct IDs: SecurityOfficer for security_officer."""
        return "".join(part.capitalize() for part in self.name.split("_"))


PERSONAS = (
    # Reports on curated data and marts, and never sees personal data, even hashed.
    Persona(
        name="analyst",
        title="analyst",
        zones=("curated", "analytics"),
        reads_data=True,
        reads_every_dataset=False,
        sensitivities=(GENERAL,),
    ),
    # Joins and models on curated data: hashed personal data joins, clear never shows.
    Persona(
        name="scientist",
        title="scientist",
        zones=("curated", "analytics"),
        reads_data=True,
        reads_every_dataset=False,
        sensitivities=(GENERAL, PII_HASHED),
    ),
    # Runs the pipelines: reads every zone of every dataset, raw included, in clear; and
    # carries out erasure requests (it already reads every place the person can be).
    Persona(
        name="engineer",
        title="engineer",
        zones=CATALOGUED_ZONES,
        reads_data=True,
        reads_every_dataset=True,
        duties=(OPERATES_PIPELINES, ERASES),
    ),
    # Reviews grants, tags and the audit trail; reads no table data at all.
    Persona(
        name="security_officer",
        title="data security officer",
        zones=CATALOGUED_ZONES,
        reads_data=False,
        reads_every_dataset=True,
        duties=(AUDITS,),
    ),
)


def persona(name: str) -> Persona:
    """The persona called ``name``; KeyError naming the known ones for any other."""
    for candidate in PERSONAS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no persona {name!r}; the personas are {', '.join(persona_names())}")


def persona_names() -> tuple[str, ...]:
    return tuple(p.name for p in PERSONAS)


def reader_names() -> tuple[str, ...]:
    """The personas a declaration may name among its readers: those that read data."""
    return tuple(p.name for p in PERSONAS if p.reads_data)
