"""Reading dataset declarations: ``load_datasets`` checks every field of every file.

A declaration that is wrong fails synth with one message naming the file, the field, the
value and what was expected (``model.fields``). The dataclasses it is read into are in
``model.datasets``, its marts and queries are read by ``model.deliverables``, and the format
is documented in ``docs/datasets.md``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from model.datasets import (
    ENCODINGS,
    FORMATS,
    NAME_EXPECTED,
    NAME_RE,
    NEW_COLUMN_POLICIES,
    PARTITION_TYPES,
    PII_TREATMENTS,
    SOURCE_MODES,
    TYPE_EXPECTED,
    Column,
    Dataset,
    DatasetError,
    Source,
    check_subject,
    column_type_is_valid,
    declaration_fields,
)
from model.deliverables import check_marts, check_queries, read_marts, read_queries
from model.dqdl import FORMS, RULE_TYPES, UnreadableRuleError, read_rule
from model.fields import Fields
from model.vocabulary import LINEAGE_COLUMN, PERSONAS, reader_names
from model.vocabulary import RAW_RETENTION_EXPECTED as RAW_DAYS

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


def _column(data: Any, file: str, index: int) -> Column:
    fields = declaration_fields(data, file, f"columns[{index}]")
    column = Column(
        name=fields.text("name", valid=NAME_RE.match, expected=NAME_EXPECTED),
        type=fields.text("type", expected=TYPE_EXPECTED),
        description=fields.text("description"),
        nullable=fields.flag("nullable", True),
        pii=fields.choice("pii", PII_TREATMENTS, None) if "pii" in fields.data else None,
        derived_from=fields.text("derived_from", None) if "derived_from" in fields.data else None,
    )
    if not column_type_is_valid(column.type):
        raise fields.fail("type", TYPE_EXPECTED)
    fields.reject_unknown()
    return column


def _null_values(fields: Fields) -> tuple[str, ...]:
    """Tokens that mean null; a value is compared after trimming, so a token is trimmed."""
    values = fields.get("null_values", [""])
    if (
        not isinstance(values, list)
        or not all(isinstance(v, str) and v == v.strip() for v in values)
        or len(set(values)) != len(values)
    ):
        raise fields.fail(
            "null_values",
            'a list of distinct strings without surrounding spaces, such as ["", "NA"]',
        )
    return tuple(values)


def _source(fields: Fields) -> Source:
    source = Source(
        mode=fields.choice("mode", SOURCE_MODES),
        format=fields.choice("format", FORMATS),
        delimiter=fields.text("delimiter", ","),
        header=fields.flag("header", True),
        encoding=fields.choice("encoding", ENCODINGS, "utf-8"),
        null_values=_null_values(fields),
        new_columns=fields.choice("new_columns", NEW_COLUMN_POLICIES, "ignore"),
        float_integers=fields.flag("float_integers", False),
    )
    if len(source.delimiter) != 1:
        raise fields.fail("delimiter", "a single character")
    csv_only = ("delimiter", "header", "encoding")
    given = [key for key in csv_only if key in fields.data]
    if source.format != "csv" and given:
        why = " (JSON text is UTF-8)" if given[0] == "encoding" else ""
        raise fields.fail(given[0], f"no CSV option for format {source.format!r}{why}")
    if source.format == "parquet" and "null_values" in fields.data:
        raise fields.fail("null_values", "no null tokens for parquet: its nulls are typed")
    if source.format == "csv" and not source.header and "new_columns" in fields.data:
        raise fields.fail("new_columns", "a header row to tell new columns by (header = true)")
    if source.mode == "streaming" and source.format != "jsonl":
        raise fields.fail("format", "jsonl for a streaming source (records arrive as JSON)")
    fields.reject_unknown()
    return source


def _readers(fields: Fields) -> tuple[str, ...]:
    """The personas named as readers, and those that read every dataset anyway."""
    readers = fields.names("readers")
    allowed = reader_names()
    for reader in readers:
        if reader not in allowed:
            no_data = ", ".join(p.name for p in PERSONAS if not p.reads_data)
            raise fields.fail(
                "readers",
                f"personas among {', '.join(allowed)}; {reader!r} is not one ({no_data} "
                "reads no table data)",
            )
    every = {p.name for p in PERSONAS if p.reads_data and p.reads_every_dataset}
    return tuple(sorted({*readers, *every}))


def _quality_rules(fields: Fields) -> tuple[str, ...]:
    rules = fields.get("quality_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) and r.strip() for r in rules):
        raise fields.fail("quality_rules", "a list of Glue Data Quality (DQDL) rules as strings")
    return tuple(rules)


def _check_keys(dataset: Dataset, fields: Fields) -> None:
    """Columns are unique and not reserved; keys and partitions name declared columns."""
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


def _check_derived(dataset: Dataset, file: str) -> None:
    """A derived column is a partition computed from a declared column."""
    names = [c.name for c in dataset.columns]
    for index, column in enumerate(dataset.columns):
        if column.derived_from is None:
            continue
        where = f"{file}: columns[{index}].derived_from = {column.derived_from!r}"
        if column.derived_from not in names:
            raise DatasetError(f"{where}: expected a declared column")
        if column.name not in dataset.partition_by:
            raise DatasetError(f"{where}: expected only on a partition column")


def _check_rules(dataset: Dataset, file: str) -> None:
    """Each rule is in the form of its type (``model.dqdl``, the reader the local run
    evaluates with) and names a column of the curated rows it is evaluated on."""
    names = [c.name for c in dataset.columns]
    kept = [*(c.name for c in dataset.table_columns), LINEAGE_COLUMN]
    for index, text in enumerate(dataset.quality_rules):
        where = f"{file}: quality_rules[{index}] = {text!r}"
        try:
            rule = read_rule(text)
        except UnreadableRuleError as error:
            if error.form is None:
                raise DatasetError(
                    f"{where}: expected a Glue Data Quality rule starting with one of "
                    f"{', '.join(RULE_TYPES)}"
                ) from None
            raise DatasetError(f"{where}: expected {error.form}") from None
        if rule.column is None or rule.column in kept:
            continue
        form = FORMS[rule.type]
        if rule.column in names:
            raise DatasetError(
                f"{where}: expected {form} with a column kept in curated; {rule.column!r} is "
                "dropped as personal data"
            )
        raise DatasetError(
            f"{where}: expected {form} with a declared column; {rule.column!r} is not one"
        )


def load_dataset(path: Path) -> Dataset:
    """Parse and validate one declaration."""
    file = f"{path.parent.name}/{path.name}"
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise DatasetError(f"{file}: not valid TOML ({error})") from None
    fields = declaration_fields(data, file, "")
    raw_columns = fields.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise fields.fail("columns", "one or more [[columns]] tables")
    source = declaration_fields(fields.get("source"), file, "source")
    quality_rules = _quality_rules(fields)
    readers = _readers(fields)
    dataset = Dataset(
        name=fields.text("name", valid=NAME_RE.match, expected=NAME_EXPECTED),
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
        quality_rules=quality_rules,
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
        readers=readers,
        raw_retention_days=fields.integer("raw_retention_days", 1, expected=RAW_DAYS)
        if "raw_retention_days" in fields.data
        else None,
        marts=read_marts(fields),
        queries=read_queries(fields),
        subject=fields.optional_text("subject", valid=NAME_RE.match, expected=NAME_EXPECTED),
    )
    _check_keys(dataset, fields)
    _check_derived(dataset, file)
    _check_rules(dataset, file)
    check_subject(dataset, fields)
    check_marts(dataset, file)
    check_queries(dataset, file)
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
