"""A mart's declared columns are checked at synth against what its SQL selects (sqlglot reads
it as Spark SQL over the view curated): names both ways, and types that hold the SQL's."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.datasets import Dataset, DatasetError
from model.declarations import load_dataset
from model.mart_columns import curated_view, holds, selected_columns
from tests.conftest import DATASETS, docs_example_declaration

GOOD = docs_example_declaration()


def _mart(sql: str, *columns: tuple[str, str]) -> str:
    listed = ",\n".join(
        f'  {{ name = "{name}", type = "{type_}", description = "{name}." }}'
        for name, type_ in columns
    )
    head = '[[marts]]\nname = "payments_daily"\ndescription = "Per day."'
    return f'\n{head}\nsql = """\n{sql}\n"""\ncolumns = [\n{listed},\n]\n'


def _load(text: str, folder: Path) -> Dataset:
    path = folder / "payments.toml"
    path.write_text(text)
    return load_dataset(path)


def _fails(mart: str, folder: Path) -> str:
    with pytest.raises(DatasetError) as error:
        _load(GOOD + mart, folder)
    message = str(error.value)
    assert message.startswith(f"{folder.name}/payments.toml: marts[0] (payments_daily)")
    assert "\n" not in message
    return message


DAILY = "SELECT payment_date, count(*) AS payments, avg(amount) AS average FROM curated GROUP BY 1"


def test_the_shipped_marts_select_their_declared_columns() -> None:
    orders = load_dataset(DATASETS / "orders.toml")
    (mart,) = orders.marts
    selected = selected_columns(mart.sql, curated_view(orders))
    assert selected == [
        ("order_date", "date"), ("segment", "string"), ("orders", "bigint"),
        ("items", "bigint"), ("revenue", "decimal(12,2)"),
    ]  # fmt: skip
    assert all(holds(c.type, dict(selected)[c.name]) for c in mart.columns)


def test_the_view_curated_is_the_curated_table(tmp_path: Path) -> None:
    view = curated_view(_load(GOOD, tmp_path))
    assert "card_holder" not in view  # dropped personal data
    assert view["payer_email"] == "string"  # hashed
    assert (view["amount"], view["ingest_date"]) == ("decimal(10,2)", "date")


def test_a_mart_whose_columns_match_its_sql_loads(tmp_path: Path) -> None:
    mart = _mart(DAILY, ("payment_date", "date"), ("payments", "bigint"), ("average", "double"))
    assert _load(GOOD + mart, tmp_path).marts[0].columns[2].type == "double"


def test_a_declared_int_for_an_average_fails(tmp_path: Path) -> None:
    # The reported bug: the mart job casts to the declared type, and 17.88 became 17.
    sql = "SELECT payment_date, avg(amount) AS average FROM curated GROUP BY payment_date"
    message = _fails(_mart(sql, ("payment_date", "date"), ("average", "int")), tmp_path)
    assert "columns: average declared int, the sql gives double: expected a declared type " in (
        message
    )


def test_a_declared_column_the_sql_does_not_select_fails(tmp_path: Path) -> None:
    mart = _mart(DAILY, ("payment_date", "date"), ("payments", "bigint"), ("average", "double"),
                 ("refunds", "bigint"))  # fmt: skip
    assert _fails(mart, tmp_path).endswith(
        ".columns: refunds: expected columns the sql selects; it selects payment_date, "
        "payments, average"
    )


def test_a_selected_column_not_declared_fails(tmp_path: Path) -> None:
    mart = _mart(DAILY, ("payment_date", "date"), ("payments", "bigint"))
    assert _fails(mart, tmp_path).endswith(
        ".sql selects average: expected every column it selects declared in columns "
        "(declared: payment_date, payments)"
    )
    unaliased = _mart("SELECT payment_date, count(*) FROM curated GROUP BY 1",
                      ("payment_date", "date"))  # fmt: skip
    assert ".sql selects COUNT(*) (no alias): expected" in _fails(unaliased, tmp_path)


NARROW = [
    ("avg(amount)", "int", "double"),
    ("count(*)", "int", "bigint"),
    ("sum(amount)", "int", "decimal(10,2)"),
    ("sum(amount)", "decimal(10,3)", "decimal(10,2)"),  # room for fewer whole digits
    ("max(currency)", "double", "string"),
    ("max(currency)", "bigint", "string"),
    ("max(paid_at)", "date", "timestamp"),
    ("count(*) > 0", "int", "boolean"),
]


@pytest.mark.parametrize(("expression", "declared", "inferred"), NARROW)
def test_a_declared_type_narrower_than_the_sqls_fails(
    expression: str, declared: str, inferred: str, tmp_path: Path
) -> None:
    sql = f"SELECT payment_date, {expression} AS figure FROM curated GROUP BY payment_date"  # noqa: S608
    message = _fails(_mart(sql, ("payment_date", "date"), ("figure", declared)), tmp_path)
    assert f"figure declared {declared}, the sql gives {inferred}: expected" in message


WIDER = [
    ("int", "bigint"), ("int", "double"), ("int", "decimal(10,0)"), ("bigint", "double"),
    ("decimal(10,2)", "decimal(12,2)"), ("decimal(10,2)", "double"), ("double", "decimal(12,4)"),
    ("date", "timestamp"), ("bigint", "string"), ("int", "int"),
]  # fmt: skip


@pytest.mark.parametrize(("inferred", "declared"), WIDER)
def test_a_wider_declared_type_holds(inferred: str, declared: str) -> None:
    assert holds(declared, inferred)
    assert holds(declared, None)  # a type sqlglot cannot tell is not checked


def test_a_type_sqlglot_cannot_tell_is_not_checked(tmp_path: Path) -> None:
    sql = "SELECT payment_date, date_trunc('month', paid_at) AS month FROM curated"
    dataset = _load(GOOD + _mart(sql, ("payment_date", "date"), ("month", "int")), tmp_path)
    assert selected_columns(sql, curated_view(dataset))[1] == ("month", None)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC payment_date FROM curated", "it does not parse as Spark SQL (Invalid expression"),
        ("SELECT 1 AS payment_date FROM curated; SELECT 2", "one query, not 2 statements"),
        ("SELECT x.* FROM curated", "it reads something but the view curated (Unknown table: x)"),
        ("SELECT c.payment_date FROM curated c JOIN fx ON true", "it reads fx, which is not the"),
    ],
)
def test_sql_it_cannot_read_fails(sql: str, message: str, tmp_path: Path) -> None:
    text = _fails(_mart(sql, ("payment_date", "date")), tmp_path)
    assert ".sql: expected one Spark SQL query that reads the view curated; " + message in text


def test_the_documented_mart_example_is_valid(tmp_path: Path) -> None:
    text = (DATASETS.parent / "docs" / "datasets.md").read_text()
    start = text.index("```toml\n[[marts]]") + len("```toml\n")
    (mart,) = _load(GOOD + "\n" + text[start : text.index("```", start)], tmp_path).marts
    assert [c.type for c in mart.columns] == ["date", "string", "bigint", "decimal(20,2)", "double"]
