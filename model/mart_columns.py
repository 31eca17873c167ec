"""A mart's declared columns, checked against what its SQL selects.

A mart's ``sql`` is Spark SQL over the view ``curated``: the dataset's curated table, that is
its declared columns in their curated types (hashed personal data as string, dropped personal
data absent) and ``ingest_date date``. sqlglot parses the query as Spark SQL, resolves its
columns against that view and infers the type of each column it selects. Synth then fails
when a declared column is not selected, a selected column is not declared, or a declared type
cannot hold the SQL's (the mart job casts to the declared type: ``avg(...)`` declared ``int``
stored 17.88 as 17). Where sqlglot cannot tell a type, that column's type is not checked.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from model.datasets import Dataset, DatasetError, Mart
from model.vocabulary import LINEAGE_COLUMN

_T = exp.DataType.Type
_SIMPLE = {
    "int": (_T.TINYINT, _T.SMALLINT, _T.INT),
    "bigint": (_T.BIGINT,),
    "double": (_T.DOUBLE, _T.FLOAT),
    "string": (_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NCHAR, _T.NVARCHAR),
    "boolean": (_T.BOOLEAN,),
    "date": (_T.DATE,),
    "timestamp": (_T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ, _T.TIMESTAMPNTZ, _T.DATETIME),
}
_OURS = {sqlglot_type: ours for ours, types in _SIMPLE.items() for sqlglot_type in types}
_DECIMAL_RE = re.compile(r"^decimal(?:\((\d+),\s*(\d+)\))?$")
# Whole digits each integer type needs in a decimal.
_INTEGER_DIGITS = {"int": 10, "bigint": 19}
WIDENING = (
    "int < bigint < decimal(p,s) with room for its digits < double; a double may be declared "
    "decimal(p,s) (its scale is the rounding); date < timestamp; any type as string"
)


def curated_view(dataset: Dataset) -> dict[str, str]:
    """The columns of the view ``curated`` a mart reads, with their types."""
    view = {c.name: dataset.curated_type(c) for c in dataset.table_columns}
    return {**view, LINEAGE_COLUMN: "date"}


def selected_columns(sql: str, view: dict[str, str]) -> list[tuple[str, str | None]]:
    """Each column ``sql`` selects, by name, with its type in declaration terms (``None``
    where sqlglot cannot tell); a ``ValueError`` saying why when it cannot read the query."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="spark") if s is not None]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first else ""
        what = f"{first.get('description')}{where}"
        raise ValueError(f"it does not parse as Spark SQL ({what})") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError(f"one query, not {len(statements)} statements")
    query = statements[0]
    names = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    others = sorted({t.name for t in query.find_all(exp.Table)} - names - {"curated"})
    if others:
        raise ValueError(f"it reads {', '.join(others)}, which is not the view curated")
    schema: dict[str, object] = {"curated": view}
    try:
        qualified = qualify(query, schema=schema, dialect="spark", validate_qualify_columns=False)
    except OptimizeError as error:
        raise ValueError(f"it reads something but the view curated ({error})") from None
    annotated = annotate_types(qualified, schema=schema, dialect="spark")
    columns = []
    for select in annotated.selects:
        name = select.alias_or_name
        if name.startswith("_col_") and isinstance(select, exp.Alias):
            name = f"{select.this.sql(dialect='spark')} (no alias)"
        columns.append((name, _declared_name(select.type)))
    return columns


def _declared_name(data_type: exp.DataType | None) -> str | None:
    if data_type is None or data_type.this in (_T.UNKNOWN, _T.NULL):
        return None
    if data_type.this in _OURS:
        return _OURS[data_type.this]
    if data_type.this == _T.DECIMAL:
        params = [p.this.name for p in data_type.expressions]
        return f"decimal({params[0]},{params[1]})" if len(params) == 2 else "decimal"
    return data_type.sql(dialect="spark").lower()


def holds(declared: str, selected: str | None) -> bool:
    """Whether a column declared ``declared`` keeps every value of type ``selected``."""
    if selected is None or declared == selected or declared == "string":
        return True
    if (declared, selected) in (("bigint", "int"), ("timestamp", "date")):
        return True
    numbers = ("int", "bigint", "double")
    is_number = selected in numbers or bool(_DECIMAL_RE.match(selected))
    if declared == "double":
        return is_number
    wanted = _DECIMAL_RE.match(declared)
    if not wanted or not is_number:
        return False
    if selected == "double":
        return True  # the declared scale is the rounding
    precision, scale = int(wanted[1]), int(wanted[2])
    if selected in _INTEGER_DIGITS:
        return precision - scale >= _INTEGER_DIGITS[selected]
    given = _DECIMAL_RE.match(selected)
    if given is None or given[1] is None:
        return True  # a decimal of unknown precision
    return scale >= int(given[2]) and precision - scale >= int(given[1]) - int(given[2])


def check_mart_columns(dataset: Dataset, mart: Mart, where: str) -> None:
    """The declared columns are the ones ``mart.sql`` selects, in types that hold them."""
    label = f"{where} ({mart.name})"
    try:
        selected = selected_columns(mart.sql, curated_view(dataset))
    except ValueError as error:
        raise DatasetError(
            f"{label}.sql: expected one Spark SQL query that reads the view curated; {error}"
        ) from None
    types = dict(selected)
    declared = {c.name: c.type for c in mart.columns}
    shown = ", ".join(name for name, _ in selected)
    missing = [name for name in declared if name not in types]
    if missing:
        raise DatasetError(
            f"{label}.columns: {', '.join(missing)}: expected columns the sql selects; it "
            f"selects {shown}"
        )
    extra = [name for name in types if name not in declared]
    if extra:
        raise DatasetError(
            f"{label}.sql selects {', '.join(extra)}: expected every column it selects "
            f"declared in columns (declared: {', '.join(declared)})"
        )
    narrow = [
        f"{name} declared {declared[name]}, the sql gives {types[name]}"
        for name in declared
        if not holds(declared[name], types[name])
    ]
    if narrow:
        raise DatasetError(
            f"{label}.columns: {'; '.join(narrow)}: expected a declared type that holds the "
            f"sql's ({WIDENING})"
        )
