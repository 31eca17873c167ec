"""What an environment costs, counted from its synthesized templates, so the figures in
docs/cost.md and the README's summary cannot drift from what deploys.

Two views: IDLE (deployed, nothing arrives, no pipeline runs: what is billed for existing,
tools/cost_idle.py) and PER PIPELINE RUN of each dataset, with a month of its schedule
(tools/cost_runs.py), at the prices and assumptions of tools/cost_prices.py. Every resource
type must be known (tools/cost_types.py): a template with a type the model has not classified
fails, so a new billed resource cannot slip in unpriced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from model.config import EnvironmentConfig
from tools.cost_idle import idle_lines
from tools.cost_prices import HOUR, HOURS
from tools.cost_runs import run_lines, runs_per_month
from tools.cost_types import by_type, resource_types
from tools.markdown import DOCS, replace_block, table
from tools.templates import Template

COST_DOC = DOCS / "cost.md"


def _usd(value: float, digits: int = 2) -> str:
    """USD to ``digits`` decimals; a positive amount that would show as zero: ``< 0.01``."""
    return f"< {10**-digits:.{digits}f}" if 0 < value < 10**-digits else f"{value:,.{digits}f}"


def _number(value: float) -> str:
    """A quantity: whole when it is whole or at least 100, else three significant digits."""
    if value == int(value) or value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.6f}".rstrip("0")


def idle_block(templates: Sequence[Template], config: EnvironmentConfig) -> str:
    """The idle tables of docs/cost.md: what is billed, then every resource type."""
    lines = idle_lines(templates, config)
    rows = [(x.item, x.counted, _number(x.quantity), x.rate, x.billing, _usd(x.usd),
             _usd(x.usd_free_tier)) for x in lines]  # fmt: skip
    rows.append(("**total**", "", "", "", "", f"**{_usd(sum(x.usd for x in lines))}**",
                 f"**{_usd(sum(x.usd_free_tier for x in lines))}**"))  # fmt: skip
    items = table(
        (
            "item",
            "what counts it",
            "quantity",
            "unit price (USD)",
            "billed",
            "USD/month, list price",
            "USD/month, with the CloudWatch free tier",
        ),
        rows,
    )
    kinds = table(("resource type", "count", "billed", "for what"),
                   [(f"`{kind}`", str(n), how, what)
                    for kind, n, how, what in resource_types(templates)])  # fmt: skip
    return f"{items}\nEvery resource type in the templates:\n\n{kinds}"


def run_block(datasets: Mapping[str, Template], templates: Sequence[Template]) -> str:
    """The run tables of docs/cost.md: each dataset's run, then a month of its schedule."""
    parts, month, total = [], [], 0.0
    for name, template in datasets.items():
        lines = run_lines(template, templates)
        per_run = sum(x.usd for x in lines)
        rows = [(x.item, x.counted, _number(x.quantity), x.rate, _usd(x.usd, 4)) for x in lines]
        rows.append(("**total**", "", "", "", f"**{_usd(per_run, 4)}**"))
        header = ("item", "what counts it", "quantity", "unit price (USD)", "USD per run")
        parts.append(f"`{name}`, one successful run:\n\n{table(header, rows)}")
        for props in by_type([template])["AWS::Scheduler::Schedule"]:
            on = props.get("State", "ENABLED") == "ENABLED"
            runs = runs_per_month(props["ScheduleExpression"]) if on else 0
            total += runs * per_run
            shown = f"`{props['ScheduleExpression']}`" + ("" if on else " (disabled)")
            month.append((f"`{name}`", shown, _number(runs),
                          _usd(per_run, 4), _usd(runs * per_run)))  # fmt: skip
    month.append(("**total**", "", "", "", f"**{_usd(total)}**"))
    header = ("dataset", "schedule", "runs a month", "USD per run", "USD/month, scheduled runs")
    return (
        "\n".join(parts) + f"\nA month ({HOURS} hours) of the schedules:\n\n" + table(header, month)
    )


def summary_block(
    templates: Sequence[Template], datasets: Mapping[str, Template], config: EnvironmentConfig
) -> str:
    """The README's summary: the idle month and each dataset's run, from the same model."""
    lines = idle_lines(templates, config)
    hourly = [x.item for x in lines if x.billing == HOUR]
    runs = ", ".join(
        f"`{name}` {_usd(sum(x.usd for x in run_lines(template, templates)), 2)} USD"
        for name, template in datasets.items()
    )
    return (
        f"Idle, the {config.name} costs **{_usd(sum(x.usd for x in lines))} USD a month** at "
        f"list price ({_usd(sum(x.usd_free_tier for x in lines))} USD within CloudWatch's free "
        f"tier), and {'nothing' if not hourly else ', '.join(hourly)} is billed by the hour. "
        f"A pipeline run costs about: {runs} (mostly the crawler's 10-minute minimum and the "
        "Glue job's DPU-minutes). Counted from the synthesized templates with the assumptions "
        "and prices of [docs/cost.md](docs/cost.md).\n"
    )


def update_doc(text: str, templates: Sequence[Template], datasets: Mapping[str, Template],
               config: EnvironmentConfig) -> str:  # fmt: skip
    """docs/cost.md's text with both generated blocks as the templates give them now."""
    text = replace_block(text, "cost-idle", idle_block(templates, config), fence=None)
    return replace_block(text, "cost-run", run_block(datasets, templates), fence=None)
