"""Dataset declarations: one TOML file per source in ``datasets/``, validated into dataclasses.

Everything that is specific to one dataset (its crawler, curated table, Lake Formation tags
and grants, and in later stages its job, rules and pipeline) is derived from its declaration.
A declaration that is wrong fails synth with one message naming the file, the field and what
was expected. The format is documented in ``docs/datasets.md``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIMPLE_TYPES = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
_DECIMAL_RE = re.compile(r"^decimal\((\d{1,2}),(\d{1,2})\)$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DOMAIN_RE = re.compile(r"^[a-z][a-z0-9-]{0,49}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
# EventBridge schedule expressions: rate(1 hour), rate(5 minutes), or six-field cron(...).
_RATE_RE = re.compile(r"^rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)$")
# cron(minutes hours day-of-month month day-of-week year)
_CRON_RE = re.compile(
    r"^cron\(([0-9*,/-]+) ([0-9*,/-]+) ([0-9*,/LW-]+|\?) ([0-9A-Z*,/-]+) ([0-9A-Z*,/#L-]+|\?) "
    r"([0-9*,/-]+)\)$"
)


def _valid_schedule(value: str) -> bool:
    """rate(...), or cron(...) with six fields and "?" in day-of-month or day-of-week."""
    if _RATE_RE.match(value):
        return True
    match = _CRON_RE.match(value)
    return match is not None and (match[3] == "?") != (match[5] == "?")


# Glue Data Quality (DQDL) rule types a declaration may use.
RULE_TYPES = (
    "ColumnCount",
    "ColumnExists",
    "ColumnLength",
    "ColumnValues",
    "Completeness",
    "CustomSql",
    "DistinctValuesCount",
    "IsComplete",
    "IsPrimaryKey",
    "IsUnique",
    "Mean",
    "RowCount",
    "Uniqueness",
)
_COLUMN_ARG_RE = re.compile(r'^\s+"([^"]+)"')

# A column every curated table has (the day the row's raw file landed), so not declarable.
LINEAGE_COLUMN = "ingest_date"
SOURCE_MODES = ("batch", "streaming")
FORMATS = ("csv", "jsonl", "parquet")
PII_TREATMENTS = ("keep", "hash", "drop")
# Personas that may be named as readers. The engineer reads every dataset anyway (it runs the
# pipelines); the security officer reads no table data at all.
READER_PERSONAS = ("analyst", "scientist", "engineer")
# Curated partitions are found by Athena partition projection, which enumerates dates by
# itself; a string partition would need a value in every query's WHERE clause.
PARTITION_TYPES = ("date",)


class DatasetError(ValueError):
    """A declaration is wrong; the message names the file, the field and what is expected."""


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

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def pii_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.pii)

    @property
    def curated_columns(self) -> tuple[Column, ...]:
        """Columns of the curated table, partition columns excluded: dropped PII is gone."""
        return tuple(c for c in self.columns if c.pii != "drop" and c.name not in self.partition_by)

    def landing_spec(self) -> dict[str, Any]:
        """What the ingest function checks a landed file against (it reads this as JSON)."""
        return {
            "format": self.source.format,
            "delimiter": self.source.delimiter,
            "header": self.source.header,
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


class _Fields:
    """Reads one table of a declaration, remembering where it is for error messages."""

    def __init__(self, data: Any, file: str, where: str) -> None:
        self.file = file
        self.where = where
        if not isinstance(data, Mapping):
            raise DatasetError(f"{file}: {where or 'the file'} = {data!r}: expected a table")
        self.data = data
        self._read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def fail(self, name: str, expected: str, value: Any = None) -> DatasetError:
        shown = self.data.get(name, "<missing>") if value is None else value
        return DatasetError(f"{self.file}: {self.key(name)} = {shown!r}: expected {expected}")

    def get(self, name: str, default: Any = ...) -> Any:
        self._read.add(name)
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "a value (the field is required)")
            return default
        return self.data[name]

    def text(
        self,
        name: str,
        default: Any = ...,
        valid: Callable[[str], object] | None = None,
        expected: str = "a non-empty string",
    ) -> str:
        value = self.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, expected)
        if valid and not valid(value):
            raise self.fail(name, expected)
        return value

    def choice(self, name: str, options: Iterable[str], default: Any = ...) -> str:
        options = tuple(options)
        value = self.get(name, default)
        if value not in options:
            raise self.fail(name, f"one of {', '.join(options)}")
        return str(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def integer(self, name: str, *, default: int, low: int, high: int, expected: str) -> int:
        value = self.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(name, expected)
        return value

    def names(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "a list of strings")
        if len(set(value)) != len(value):
            raise self.fail(name, "a list without repeats")
        return tuple(value)

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise self.fail(
                unknown[0], f"no such field; the fields here are {', '.join(sorted(self._read))}"
            )


def column_type_is_valid(type_: str) -> bool:
    match = _DECIMAL_RE.match(type_)
    if match:
        precision, scale = int(match[1]), int(match[2])
        return 1 <= precision <= 38 and scale <= precision
    return type_ in SIMPLE_TYPES


def _column(data: Any, file: str, index: int) -> Column:
    fields = _Fields(data, file, f"columns[{index}]")
    column = Column(
        name=fields.text("name", valid=_NAME_RE.match, expected=_NAME_EXPECTED),
        type=fields.text("type", expected=_TYPE_EXPECTED),
        description=fields.text("description"),
        nullable=fields.flag("nullable", True),
        pii=fields.choice("pii", PII_TREATMENTS, None) if "pii" in fields.data else None,
        derived_from=fields.text("derived_from", None) if "derived_from" in fields.data else None,
    )
    if not column_type_is_valid(column.type):
        raise fields.fail("type", _TYPE_EXPECTED)
    fields.reject_unknown()
    return column


_NAME_EXPECTED = "a name of lower-case letters, digits and _ (at most 63), starting with a letter"
_TYPE_EXPECTED = f"one of {', '.join(SIMPLE_TYPES)}, or decimal(p,s) with 1 <= p <= 38, s <= p"


def _source(fields: _Fields) -> Source:
    source = Source(
        mode=fields.choice("mode", SOURCE_MODES),
        format=fields.choice("format", FORMATS),
        delimiter=fields.text("delimiter", ","),
        header=fields.flag("header", True),
    )
    if len(source.delimiter) != 1:
        raise fields.fail("delimiter", "a single character")
    if source.format != "csv" and ("delimiter" in fields.data or "header" in fields.data):
        key = "delimiter" if "delimiter" in fields.data else "header"
        raise fields.fail(key, f"no CSV option for format {source.format!r}")
    if source.mode == "streaming" and source.format != "jsonl":
        raise fields.fail("format", "jsonl for a streaming source (records arrive as JSON)")
    fields.reject_unknown()
    return source


def _check_references(dataset: Dataset, fields: _Fields) -> None:
    names = [c.name for c in dataset.columns]
    if LINEAGE_COLUMN in names:
        raise fields.fail(
            "columns",
            f"no column named {LINEAGE_COLUMN!r}: curated tables add it themselves",
            LINEAGE_COLUMN,
        )
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise fields.fail("columns", f"unique column names; {duplicate!r} appears twice", duplicate)
    for key in dataset.primary_key:
        if key not in names:
            raise fields.fail("primary_key", f"declared columns; {key!r} is not a column")
        if dataset.column(key).pii == "drop":
            raise fields.fail("primary_key", f"columns kept in curated; {key!r} is dropped as PII")
    if not dataset.primary_key:
        raise fields.fail("primary_key", "at least one column")
    for partition in dataset.partition_by:
        if partition not in names:
            raise fields.fail("partition_by", f"declared columns; {partition!r} is not a column")
        column = dataset.column(partition)
        if column.pii:
            raise fields.fail(
                "partition_by",
                f"columns without personal data; {partition!r} is PII and a partition value "
                "shows in every object key",
            )
        if column.type not in PARTITION_TYPES:
            raise fields.fail(
                "partition_by",
                f"columns of type {', '.join(PARTITION_TYPES)}; {partition!r} is {column.type}",
            )
    for column in dataset.columns:
        if column.derived_from is None:
            continue
        where = f"columns[{names.index(column.name)}].derived_from"
        if column.derived_from not in names:
            raise DatasetError(
                f"{fields.file}: {where} = {column.derived_from!r}: expected a declared column"
            )
        if column.name not in dataset.partition_by:
            raise DatasetError(
                f"{fields.file}: {where} = {column.derived_from!r}: expected only on a "
                "partition column"
            )
    for index, rule in enumerate(dataset.quality_rules):
        rule_type = rule.split(" ", 1)[0]
        where = f"quality_rules[{index}]"
        if rule_type not in RULE_TYPES:
            raise DatasetError(
                f"{fields.file}: {where} = {rule!r}: expected a Glue Data Quality rule starting "
                f"with one of {', '.join(RULE_TYPES)}"
            )
        # A column rule names its column first, in double quotes: IsComplete "order_id".
        argument = _COLUMN_ARG_RE.match(rule[len(rule_type) :])
        if rule_type != "CustomSql" and argument and argument[1] not in names:
            raise DatasetError(
                f"{fields.file}: {where} = {rule!r}: expected a declared column; "
                f"{argument[1]!r} is not one"
            )


def _marts(fields: _Fields, file: str) -> tuple[Mart, ...]:
    raw = fields.get("marts", [])
    if not isinstance(raw, list):
        raise fields.fail("marts", "a list of [[marts]] tables")
    marts = []
    for index, data in enumerate(raw):
        mart = _Fields(data, file, f"marts[{index}]")
        raw_columns = mart.get("columns")
        if not isinstance(raw_columns, list) or not raw_columns:
            raise mart.fail("columns", "one or more {name, type, description} tables")
        columns = []
        for number, column in enumerate(raw_columns):
            entry = _Fields(column, file, f"marts[{index}].columns[{number}]")
            columns.append(
                MartColumn(
                    name=entry.text("name", valid=_NAME_RE.match, expected=_NAME_EXPECTED),
                    type=entry.text("type", valid=column_type_is_valid, expected=_TYPE_EXPECTED),
                    description=entry.text("description"),
                )
            )
            entry.reject_unknown()
        marts.append(
            Mart(
                name=mart.text("name", valid=_NAME_RE.match, expected=_NAME_EXPECTED),
                description=mart.text("description"),
                sql=mart.text("sql", expected="a Spark SQL query that reads the view curated"),
                columns=tuple(columns),
                partition_by=mart.names("partition_by", []),
            )
        )
        mart.reject_unknown()
    return tuple(marts)


_QUERY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TABLE_REF_RE = re.compile(r"\{(curated|analytics)\}\.([a-z_][a-z0-9_]*)")


def _queries(fields: _Fields, file: str) -> tuple[Query, ...]:
    raw = fields.get("queries", [])
    if not isinstance(raw, list):
        raise fields.fail("queries", "a list of [[queries]] tables")
    queries = []
    for index, data in enumerate(raw):
        query = _Fields(data, file, f"queries[{index}]")
        queries.append(
            Query(
                name=query.text("name", valid=_QUERY_NAME_RE.match, expected=_NAME_EXPECTED),
                description=query.text("description"),
                sql=query.text(
                    "sql",
                    valid=_TABLE_REF_RE.search,
                    expected="Athena SQL naming its tables as {curated}.<table> or "
                    "{analytics}.<table>",
                ),
            )
        )
        query.reject_unknown()
    names = [q.name for q in queries]
    if len(set(names)) != len(names):
        raise fields.fail("queries", "queries with unique names", names)
    return tuple(queries)


def _check_queries(dataset: Dataset, file: str) -> None:
    """A query reads this dataset's curated table or its marts, nothing else."""
    own = {("curated", dataset.name), *(("analytics", m.name) for m in dataset.marts)}
    for index, query in enumerate(dataset.queries):
        for zone, table in _TABLE_REF_RE.findall(query.sql):
            if (zone, table) not in own:
                tables = ", ".join(f"{{{z}}}.{t}" for z, t in sorted(own))
                raise DatasetError(
                    f"{file}: queries[{index}].sql reads {{{zone}}}.{table}: expected this "
                    f"dataset's tables: {tables}"
                )


def _check_marts(dataset: Dataset, file: str) -> None:
    personal = {c.name for c in dataset.columns if c.pii}
    for index, mart in enumerate(dataset.marts):
        where = f"{file}: marts[{index}]"
        names = [c.name for c in mart.columns]
        if len(set(names)) != len(names):
            raise DatasetError(f"{where}.columns: expected unique column names")
        for name in names:
            if name in personal:
                raise DatasetError(
                    f"{where}.columns: {name!r}: expected no personal-data column; marts are "
                    "readable by every reader of the dataset"
                )
        for partition in mart.partition_by:
            if (
                partition not in names
                or dict(zip(names, [c.type for c in mart.columns], strict=True))[partition]
                != "date"
            ):
                raise DatasetError(
                    f"{where}.partition_by = {list(mart.partition_by)!r}: expected date columns "
                    "of the mart"
                )
        if "curated" not in mart.sql:
            raise DatasetError(f"{where}.sql: expected a query that reads the view curated")


def load_dataset(path: Path) -> Dataset:
    """Parse and validate one declaration."""
    file = f"{path.parent.name}/{path.name}"
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise DatasetError(f"{file}: not valid TOML ({error})") from None
    fields = _Fields(data, file, "")
    raw_columns = fields.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise fields.fail("columns", "one or more [[columns]] tables")
    source = _Fields(fields.get("source"), file, "source")
    rules = fields.get("quality_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) and r.strip() for r in rules):
        raise fields.fail("quality_rules", "a list of Glue Data Quality (DQDL) rules as strings")
    readers = fields.names("readers")
    for reader in readers:
        if reader not in READER_PERSONAS:
            raise fields.fail(
                "readers",
                f"personas among {', '.join(READER_PERSONAS)}; {reader!r} is not one (the "
                "security officer reads no table data)",
            )
    dataset = Dataset(
        name=fields.text("name", valid=_NAME_RE.match, expected=_NAME_EXPECTED),
        path=path,
        description=fields.text("description"),
        owner=fields.text(
            "owner", valid=_EMAIL_RE.match, expected="the owning team's e-mail address"
        ),
        domain=fields.text(
            "domain", valid=_DOMAIN_RE.match, expected="a business domain in lower case, like sales"
        ),
        classification=fields.choice("classification", ("public", "internal", "confidential")),
        source=_source(source),
        columns=tuple(_column(c, file, i) for i, c in enumerate(raw_columns)),
        primary_key=fields.names("primary_key"),
        partition_by=fields.names("partition_by", []),
        quality_rules=tuple(rules),
        schedule=fields.text(
            "schedule",
            valid=_valid_schedule,
            expected="an EventBridge schedule such as rate(1 hour) or cron(0 2 * * ? *)",
        ),
        start_on_arrival=fields.flag("start_on_arrival", False),
        fresh_within_hours=fields.integer(
            "fresh_within_hours",
            default=26,
            low=1,
            high=168,
            expected="whole hours from 1 to 168 (a week): how long without new curated "
            "rows is late",
        ),
        readers=tuple(sorted({*readers, "engineer"})),
        marts=_marts(fields, file),
        queries=_queries(fields, file),
    )
    _check_references(dataset, fields)
    _check_marts(dataset, file)
    _check_queries(dataset, file)
    fields.reject_unknown()
    return dataset


def load_datasets(directory: Path) -> tuple[Dataset, ...]:
    """Every declaration in ``directory``, sorted by name; names are unique."""
    if not directory.is_dir():
        raise DatasetError(f"{directory}: expected a folder of dataset declarations (*.toml)")
    datasets = tuple(load_dataset(p) for p in sorted(directory.glob("*.toml")))
    if not datasets:
        raise DatasetError(f"{directory}: no dataset declarations (*.toml) found")
    seen: dict[str, Dataset] = {}
    for dataset in datasets:
        if dataset.name in seen:
            folder = directory.name
            raise DatasetError(
                f"{folder}/{dataset.path.name}: name = {dataset.name!r}: expected a name no "
                f"other declaration uses; {folder}/{seen[dataset.name].path.name} has it"
            )
        seen[dataset.name] = dataset
    return datasets
