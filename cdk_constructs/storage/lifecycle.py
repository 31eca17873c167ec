"""When objects in each zone expire or move to cheaper storage classes (days after creation)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from model.config import Lifecycle


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


def zone_lifecycle_rules(lifecycle: Lifecycle) -> dict[str, s3.LifecycleRule]:
    """The rule of each zone's bucket."""
    return {
        # Landing only holds files until ingest has copied them to raw.
        "landing": housekeeping(
            lifecycle,
            id="ExpireLanding",
            expiration=cdk.Duration.days(lifecycle.landing_expiration_days),
        ),
        # Raw is the replayable record of what arrived: kept, and tiered as it ages.
        "raw": housekeeping(
            lifecycle,
            id="TierRaw",
            transitions=_tier(
                (s3.StorageClass.INFREQUENT_ACCESS, lifecycle.raw_infrequent_access_days),
                (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, lifecycle.raw_glacier_days),
            ),
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
