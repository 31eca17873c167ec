"""Generated orders for the transform benchmark (``bench_transform.py``): a first day's raw CSV,
and a second day's CSV that updates some of its orders and adds new ones.

The values are realistic for the orders declaration: 50,000 customers, about 1 row in 1,000
repeating an earlier order (a duplicate or an older version), 1 in 2,000 with a bad quantity.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["order_id", "ordered_at", "customer_id", "customer_email", "customer_name",
          "shipping_country", "segment", "quantity", "amount", "status"]  # fmt: skip
SEGMENTS = ("consumer", "business", "public")
STATUSES = ("placed", "paid", "shipped", "cancelled")
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "BE", "AT", "PL")
START = datetime(2026, 1, 1)


def _order(rng: random.Random, order: int, days: int) -> list[str]:
    customer = rng.randrange(50_000)
    at = START + timedelta(seconds=rng.randrange(days * 86400))
    quantity = "n/a" if rng.random() < 0.0005 else str(rng.randint(1, 9))
    return [
        f"O-{order:08d}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"C-{customer:06d}",
        f"customer{customer}@example.com", f"Customer {customer}",
        rng.choice(COUNTRIES), rng.choice(SEGMENTS), quantity,
        f"{rng.randint(100, 250_000) / 100:.2f}", rng.choice(STATUSES),
    ]  # fmt: skip


def generate(path: Path, rows: int, days: int, seed: int = 7) -> None:
    """``rows`` orders placed over ``days`` days, as the order system exports them."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            # About 1 row in 1000 repeats an earlier order.
            order = i - rng.randrange(1, 100) if i > 100 and rng.random() < 0.001 else i
            writer.writerow(_order(rng, order, days))


def generate_changes(first: Path, path: Path, share: float, days: int, seed: int = 11) -> int:
    """A later day's file: ``share`` of the first file's orders with a new status and
    amount (same order time, so the same partition), and as many new orders. Returns its
    rows."""
    rng = random.Random(seed)
    with first.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        existing = list(reader)
    updates = rng.sample(existing, int(len(existing) * share))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in updates:
            status = rng.choice([s for s in STATUSES if s != row[9]])
            writer.writerow([*row[:8], f"{rng.randint(100, 250_000) / 100:.2f}", status])
        for i in range(len(updates)):
            writer.writerow(_order(rng, 90_000_000 + i, days))
    return 2 * len(updates)


def size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
