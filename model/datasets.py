"""Dataset declarations, as frozen dataclasses: one TOML file per source in ``datasets/``.

Everything that is specific to one dataset (its crawler, tables, LF-Tags and grants, jobs,
rules, pipeline, alarms and saved queries) is derived from its declaration. What a
declaration may say is defined here; ``model.declarations`` reads and checks the files. The
format is documented in ``docs/datasets.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.fields import Fields

SIMPLE_TYPES = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
_DECIMAL_RE = re.compile(r"^decimal\((\d{1,2}),(\d{1,2})\)$")
TYPE_EXPECTED = f"one of {', '.join(SIMPLE_TYPES)}, or decimal(p,s) with 1 <= p <= 38, s <= p"
# Names of datasets, columns and marts: Glue and Athena accept them unquoted.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
NAME_EXPECTED = "a name of lower-case letters, digits and _ (at most 63), starting with a letter"

SOURCE_MODES = ("batch", "streaming")
FORMATS = ("csv", "jsonl", "parquet")
# Text encodings a CSV source may declare: those that keep ASCII's bytes, so a line break and
# a delimiter are the same byte in each (JSON text is UTF-8 by its standard, RFC 8259).
ENCODINGS = ("utf-8", "iso-8859-1", "iso-8859-15", "windows-1252")
# What a file with a column the declaration does not have is: read without it, or quarantined.
NEW_COLUMN_POLICIES = ("ignore", "quarantine")
PII_TREATMENTS = ("keep", "hash", "drop")
# Curated and mart tables are Iceberg tables partitioned by the day of a timestamp column, or
# by the value of a date, text, whole-number or boolean column (``model.iceberg``'s
# ``partition_field``); a fractional number is not a partition value.
PARTITION_TYPES = ("date", "timestamp", "string", "int", "bigint", "boolean")


class DatasetError(ValueError):
    """A declaration is wrong; the message names the file, the field and what is expected."""


def column_type_is_valid(type_: str) -> bool:
    match = _DECIMAL_RE.match(type_)
    if match:
        precision, scale = int(match[1]), int(match[2])
        return 1 <= precision <= 38 and scale <= precision
    return type_ in SIMPLE_TYPES


def declaration_fields(data: Any, file: str, where: str) -> Fields:
    """A table of a declaration file, read field by field (see ``model.fields``)."""
    return Fields(data, file, where, error=DatasetError)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool
    pii: str | None  # keep, hash or drop; None when the column holds no personal data
    derived_from: str | None  # a partition column computed from this source column


@dataclass(frozen=True)
class Source:
    mode: str
    format: str
    delimiter: str
    header: bool
    encoding: str = "utf-8"  # how the CSV's bytes are decoded; invalid bytes quarantine it
    null_values: tuple[str, ...] = ("",)  # values (after trimming) that mean null
    new_columns: str = "ignore"  # a column the declaration lacks: ignore it or quarantine
    float_integers: bool = False  # an int column accepts 517.0 (a whole number as a float)


@dataclass(frozen=True)
class MartColumn:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Mart:
    """An analytics table built from the dataset's curated table by one Spark SQL query."""

    name: str
    description: str
    sql: str  # reads the view ``curated``
    columns: tuple[MartColumn, ...]
    partition_by: tuple[str, ...]

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sql": self.sql,
            "columns": [{"name": c.name, "type": c.type} for c in self.columns],
            "partition_by": list(self.partition_by),
        }


@dataclass(frozen=True)
class Query:
    """A ready query for the analysts: Athena SQL naming tables as ``{curated}.<table>`` or
    ``{analytics}.<table>`` (the environment's databases are filled in at synth)."""

    name: str
    description: str
    sql: str

    def athena_sql(self, databases: Mapping[str, str]) -> str:
        """The SQL with the environment's database names."""
        return self.sql.replace("{curated}", databases["curated"]).replace(
            "{analytics}", databases["analytics"]
        )


@dataclass(frozen=True)
class Dataset:
    """One source of data, as its declaration describes it."""

    name: str
    path: Path
    description: str
    owner: str
    domain: str
    classification: str
    source: Source
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_by: tuple[str, ...]
    quality_rules: tuple[str, ...]
    schedule: str
    start_on_arrival: bool
    readers: tuple[str, ...]
    marts: tuple[Mart, ...] = ()
    # New curated rows are expected at least this often; longer without raises the alarm.
    fresh_within_hours: int = 26
    queries: tuple[Query, ...] = ()
    # Days its raw files and quarantine are kept; None: the environment's rawExpirationDays.
    raw_retention_days: int | None = None
    # The column that identifies a data subject (a person), by which an erasure request
    # finds their rows (``docs/governance.md``, "Forgetting a person"); None: out of scope.
    subject: str | None = None

    def raw_days(self, default: int) -> int:
        """How long raw keeps this dataset's files, given the environment's default."""
        return default if self.raw_retention_days is None else self.raw_retention_days

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def pii_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.pii)

    @property
    def table_columns(self) -> tuple[Column, ...]:
        """Declared columns of the curated table, in declared order: dropped PII is gone
        (the table adds the lineage column after them)."""
        return tuple(c for c in self.columns if c.pii != "drop")

    def landing_spec(self) -> dict[str, Any]:
        """What the ingest function checks a landed file against (it reads this as JSON)."""
        return {
            "format": self.source.format,
            "delimiter": self.source.delimiter,
            "header": self.source.header,
            "encoding": self.source.encoding,
            "null_values": list(self.source.null_values),
            "new_columns": self.source.new_columns,
            "float_integers": self.source.float_integers,
            "columns": [c.name for c in self.columns if not c.derived_from],
        }

    def processing_spec(self) -> dict[str, Any]:
        """What the raw -> curated job needs of the declaration (it reads this as JSON)."""
        return {
            "name": self.name,
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "nullable": c.nullable,
                    "pii": c.pii,
                    "derived_from": c.derived_from,
                }
                for c in self.columns
            ],
            "primary_key": list(self.primary_key),
            "partition_by": list(self.partition_by),
            "source": self.landing_spec(),
        }

    def curated_type(self, column: Column) -> str:
        """Hashed PII becomes a hex digest string in the curated zone."""
        return "string" if column.pii == "hash" else column.type


def check_subject(dataset: Dataset, fields: Fields) -> None:
    """The subject column is a declared source column kept in curated, clear or hashed: an
    erasure finds the person's curated rows by it (a dropped column is not there to find)."""
    if dataset.subject is None:
        return
    names = [c.name for c in dataset.columns]
    if dataset.subject not in names:
        raise fields.fail("subject", f"a declared column; {dataset.subject!r} is not one")
    column = dataset.column(dataset.subject)
    if column.derived_from:
        raise fields.fail("subject", f"a column of the source; {column.name!r} is derived")
    if column.pii == "drop":
        raise fields.fail(
            "subject",
            f"a column kept in curated, in clear or hashed; {column.name!r} is dropped as PII, "
            "so an erasure could not find the person's curated rows",
        )
