"""What starts a dataset's pipeline: its declared schedule, and optionally new raw data.

Overlapping runs are prevented by the pipeline itself (an execution that finds an older one
running ends at once), so every trigger may simply start an execution.
"""

from __future__ import annotations

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk_constructs.common.dead_letter_queue import dead_letter_queue
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.service_trust import trusted_service
from model.datasets import Dataset


class PipelineTriggers(Construct):
    """An EventBridge Scheduler schedule from ``dataset.schedule`` (UTC) and, when the dataset
    declares ``start_on_arrival``, a rule on objects created under its raw folder."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        state_machine: sfn.IStateMachine,
        raw_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        schedule_enabled: bool = True,
    ) -> None:
        """Create the triggers.

        :param raw_bucket: the raw zone; it must send its events to EventBridge.
        :param schedule_enabled: whether the schedule starts runs; off, it is deployed disabled.
        :param encryption_key: encrypts the dead-letter queue of starts that failed (the
            operations key).
        """
        super().__init__(scope, id)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            encryption_key=encryption_key,
            serves=f"the {dataset.name} pipeline's schedule and arrival rule",
        )
        self.schedule = self._schedule(
            dataset,
            state_machine=state_machine,
            encryption_key=encryption_key,
            enabled=schedule_enabled,
        )
        self.arrival: events.Rule | None = None
        if dataset.start_on_arrival:
            self.arrival = self._on_arrival(
                dataset, state_machine=state_machine, raw_bucket=raw_bucket
            )

    def _schedule(
        self,
        dataset: Dataset,
        *,
        state_machine: sfn.IStateMachine,
        encryption_key: kms.IKey,
        enabled: bool,
    ) -> scheduler.Schedule:
        """The declared schedule, in UTC, starting an execution with ``{"trigger":
        "schedule"}``; a start not made after 3 retries or within an hour goes to the
        dead-letter queue.

        Scheduler writes a failed start to the dead-letter queue as its role, so the role
        needs the queue's key (the arrival rule's EventBridge uses the key policy instead).
        """
        schedule_role = ManagedRole(
            self,
            "ScheduleRole",
            description=f"EventBridge Scheduler starting the {dataset.name} pipeline.",
            assumed_by=trusted_service(self, "scheduler.amazonaws.com"),
        )
        encryption_key.grant(schedule_role, "kms:GenerateDataKey", "kms:Decrypt")
        return scheduler.Schedule(
            self,
            "Schedule",
            description=f"Runs the {dataset.name} pipeline: {dataset.schedule} (UTC).",
            enabled=enabled,
            schedule=scheduler.ScheduleExpression.expression(
                dataset.schedule, time_zone=TimeZone.ETC_UTC
            ),
            target=scheduler_targets.StepFunctionsStartExecution(
                state_machine,
                input=scheduler.ScheduleTargetInput.from_object({"trigger": "schedule"}),
                # A missed start is caught up by the next one: no backlog of stale starts.
                max_event_age=Duration.hours(1),
                retry_attempts=3,
                dead_letter_queue=self.dead_letter_queue,
                role=schedule_role,
            ),
        )

    def _on_arrival(
        self, dataset: Dataset, *, state_machine: sfn.IStateMachine, raw_bucket: s3.IBucket
    ) -> events.Rule:
        """A rule starting an execution for every object created under the dataset's raw
        folder, with the object's key; failed starts go to the same dead-letter queue."""
        return events.Rule(
            self,
            "OnArrival",
            description=f"Runs the {dataset.name} pipeline when its raw data arrives.",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [raw_bucket.bucket_name]},
                    "object": {"key": [{"prefix": f"{dataset.name}/"}]},
                },
            ),
            targets=[
                targets.SfnStateMachine(
                    state_machine,
                    input=events.RuleTargetInput.from_object(
                        {
                            "trigger": "arrival",
                            "key": events.EventField.from_path("$.detail.object.key"),
                        }
                    ),
                    max_event_age=Duration.hours(1),
                    retry_attempts=3,
                    dead_letter_queue=self.dead_letter_queue,
                    role=ManagedRole(
                        self,
                        "ArrivalRole",
                        description=f"EventBridge starting the {dataset.name} pipeline.",
                        assumed_by=trusted_service(self, "events.amazonaws.com"),
                    ),
                )
            ],
        )
