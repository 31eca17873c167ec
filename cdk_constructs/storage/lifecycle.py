"""When objects in each zone expire or move to cheaper storage classes (days after creation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from model.config import Lifecycle
from model.datasets import Dataset
from model.vocabulary import (
    ERASURE_REQUEST_PREFIX,
    INGEST_INDEX_PREFIX,
    INGEST_LEDGER_PREFIX,
    QUARANTINE_PREFIX,
)

# S3 accepts at most this many rules in one bucket's lifecycle configuration.
MAX_RULES_PER_BUCKET = 1000
# The least time S3 charges an object for in Standard-IA and in Glacier Instant Retrieval,
# so a transition pays only when the object then stays that long before it expires.
IA_MINIMUM_DAYS, GLACIER_IR_MINIMUM_DAYS = 30, 90


def housekeeping(lifecycle: Lifecycle, **rule: Any) -> s3.LifecycleRule:
    """A rule that also expires replaced versions and aborts stale uploads."""
    return s3.LifecycleRule(
        noncurrent_version_expiration=cdk.Duration.days(
            lifecycle.noncurrent_version_expiration_days
        ),
        abort_incomplete_multipart_upload_after=cdk.Duration.days(
            lifecycle.abort_incomplete_upload_days
        ),
        **rule,
    )


def _tier(*steps: tuple[s3.StorageClass, int]) -> list[s3.Transition]:
    return [
        s3.Transition(storage_class=cls, transition_after=cdk.Duration.days(days))
        for cls, days in steps
    ]


def zone_lifecycle_rules(
    lifecycle: Lifecycle, datasets: Sequence[Dataset]
) -> dict[str, list[s3.LifecycleRule]]:
    """The rules of each zone's bucket (raw's are ``raw_lifecycle_rules``)."""
    return {"raw": raw_lifecycle_rules(lifecycle, datasets)} | {
        zone: [rule] for zone, rule in _zone_rules(lifecycle).items()
    }


def _zone_rules(lifecycle: Lifecycle) -> dict[str, s3.LifecycleRule]:
    """The one rule of each zone's bucket but raw."""
    return {
        # Landing only holds files until ingest has copied them to raw.
        "landing": housekeeping(
            lifecycle,
            id="ExpireLanding",
            expiration=cdk.Duration.days(lifecycle.landing_expiration_days),
        ),
        "curated": housekeeping(
            lifecycle,
            id="TierCurated",
            transitions=_tier(
                (s3.StorageClass.INFREQUENT_ACCESS, lifecycle.curated_infrequent_access_days)
            ),
        ),
        # Analytics tables back dashboards and stay in the standard class.
        "analytics": housekeeping(lifecycle, id="Housekeeping"),
    }


def athena_results_rule(lifecycle: Lifecycle) -> s3.LifecycleRule:
    """Query results are scratch: they expire."""
    return housekeeping(
        lifecycle,
        id="ExpireResults",
        expiration=cdk.Duration.days(lifecycle.athena_results_expiration_days),
    )


def raw_lifecycle_rules(
    lifecycle: Lifecycle, datasets: Sequence[Dataset]
) -> list[s3.LifecycleRule]:
    """Raw's rules: every file expires, after its dataset's declared retention.

    Each dataset gets a rule for each of its prefixes (its files, its quarantine, and the
    ingest index that remembers its files' content, which must not outlive them, or a
    re-sent file would be taken for a copy of one that is gone); files of no known dataset
    and the ingest ledger expire after the environment's ``raw_expiration_days``. A last rule
    over the whole bucket expires anything else after the longest retention in force, so
    nothing in raw is kept for ever, not even the files of a dataset whose declaration was
    removed. Where rules overlap, S3 honours the shorter expiration, which is why that last
    rule takes the longest. Replaced versions go ``noncurrent_version_expiration_days``
    after that.
    """
    default = lifecycle.raw_expiration_days
    prefixes: list[tuple[str, str, int]] = []
    for dataset in datasets:
        days = dataset.raw_days(default)
        prefixes += [
            (f"Raw-{dataset.name}", f"{dataset.name}/", days),
            (f"Quarantine-{dataset.name}", f"{QUARANTINE_PREFIX}/{dataset.name}/", days),
            (f"IngestIndex-{dataset.name}", f"{INGEST_INDEX_PREFIX}/{dataset.name}/", days),
        ]
    prefixes += [
        ("Quarantine-unknown", f"{QUARANTINE_PREFIX}/_unknown/", default),
        ("IngestLedger", f"{INGEST_LEDGER_PREFIX}/", default),
    ]
    longest = max(days for *_, days in prefixes)
    rules = [
        housekeeping(
            lifecycle,
            id=f"Expire{rule_id}",
            prefix=prefix,
            expiration=cdk.Duration.days(days),
            transitions=_raw_tiers(lifecycle, days),
        )
        for rule_id, prefix, days in prefixes
    ]
    rules.append(
        housekeeping(lifecycle, id="ExpireAnythingElse", expiration=cdk.Duration.days(longest))
    )
    # An erasure request holds the person's value; ``tasks.py forget`` deletes it once the
    # jobs end, and this rule if the command never got there (killed, its credentials lapsed).
    rules.append(
        s3.LifecycleRule(
            id="ExpireErasureRequests",
            prefix=f"{ERASURE_REQUEST_PREFIX}/",
            expiration=cdk.Duration.days(1),
            noncurrent_version_expiration=cdk.Duration.days(1),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )
    )
    if len(rules) > MAX_RULES_PER_BUCKET:
        raise ValueError(
            f"raw bucket: {len(datasets)} datasets need {len(rules)} lifecycle rules (3 per "
            f"dataset and 4 more); S3 accepts at most {MAX_RULES_PER_BUCKET} in one bucket"
        )
    return rules


def _raw_tiers(lifecycle: Lifecycle, expiration_days: int) -> list[s3.Transition]:
    """Raw's tiering for files kept ``expiration_days``: each step that the file would stay
    in for at least the class's minimum charged duration before it expires, and no other
    (a move to Glacier Instant Retrieval 20 days before deletion would be charged 90)."""
    steps = [
        (s3.StorageClass.INFREQUENT_ACCESS, lifecycle.raw_infrequent_access_days, IA_MINIMUM_DAYS),
        (
            s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
            lifecycle.raw_glacier_days,
            GLACIER_IR_MINIMUM_DAYS,
        ),
    ]
    return _tier(*((cls, days) for cls, days, least in steps if days + least <= expiration_days))
