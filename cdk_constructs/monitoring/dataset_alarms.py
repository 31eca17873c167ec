"""One dataset's alarms, built with cdk-monitoring-constructs and sent to the alerts topic.

They live in the dataset's own stack, so onboarding a dataset adds its alarms and no stack
grows with the number of datasets; the environment's dashboard (monitoring stack) shows
every dataset through search expressions.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    ErrorCountThreshold,
    MaxMessageCountThreshold,
    MonitoringFacade,
    SnsAlarmActionStrategy,
)
from constructs import Construct

from model.datasets import Dataset

PROCESSING_NAMESPACE = "DataLake/Processing"  # published by glue_jobs/raw_to_curated.py
CRITICAL = "Critical"


def alarm_facade(scope: Construct, id: str, *, prefix: str, topic: sns.ITopic) -> MonitoringFacade:
    """A facade whose alarms are named ``<prefix>-...`` and notify ``topic``; no dashboard."""
    return MonitoringFacade(
        scope,
        id,
        alarm_factory_defaults=AlarmFactoryDefaults(
            actions_enabled=True,
            alarm_name_prefix=prefix,
            action=SnsAlarmActionStrategy(on_alarm_topic=topic),
        ),
        dashboard_factory=DefaultDashboardFactory(
            scope,
            f"{id}Dashboards",
            dashboard_name_prefix=prefix,
            create_dashboard=False,
            create_alarm_dashboard=False,
            create_summary_dashboard=False,
        ),
    )


def doing(description: str, response: str) -> str:
    """An alarm description that says when it fires and what to do."""
    return f"Fires when {description}. What to do: {response}."


def first_error(description: str) -> ErrorCountThreshold:
    """Alarm on the first error in a five-minute period."""
    return ErrorCountThreshold(max_error_count=0, evaluation_periods=1, datapoints_to_alarm=1,
                               alarm_description_override=description)  # fmt: skip


def first_message(description: str) -> MaxMessageCountThreshold:
    """Alarm on the first message waiting in a queue."""
    return MaxMessageCountThreshold(max_message_count=0, evaluation_periods=1,
                                    datapoints_to_alarm=1,
                                    alarm_description_override=description)  # fmt: skip


class DatasetAlarms(Construct):
    """Alarms on a dataset's pipeline (failed, timed out), its trigger dead-letter queue,
    its delivery stream (streaming sources) and the freshness of its curated data."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        prefix: str,
        topic: sns.ITopic,
        pipeline: sfn.IStateMachine,
        trigger_dead_letter_queue: sqs.IQueue,
        delivery_stream_name: str | None = None,
        freshness: bool = True,
    ) -> None:
        """Create the alarms.

        :param prefix: alarm names start with it (``datalake-<env>-<dataset>``).
        :param delivery_stream_name: the dataset's Firehose stream. Default: none (batch).
        :param freshness: alarm when no new curated rows arrive within the declared hours.
        """
        super().__init__(scope, id)
        name = dataset.name
        self.facade = alarm_facade(self, "Alarms", prefix=prefix, topic=topic)
        self.facade.monitor_step_function(
            state_machine=pipeline,
            alarm_friendly_name="pipeline",
            add_failed_execution_count_alarm={CRITICAL: first_error(doing(
                f"a run of the {name} pipeline failed",
                "read the pipeline's alert (dataset, step, cause); fix, then start a run",
            ))},
            add_timed_out_execution_count_alarm={CRITICAL: first_error(doing(
                f"a run of the {name} pipeline ran past its time limit",
                "look at the execution's last state in the console: a job or crawler "
                "that hangs, or a Flex job waiting for capacity",
            ))},
        )  # fmt: skip
        self.facade.monitor_sqs_queue(
            queue=trigger_dead_letter_queue,
            alarm_friendly_name="trigger-dlq",
            add_queue_max_size_alarm={CRITICAL: first_message(doing(
                f"a scheduled or arrival start of the {name} pipeline could not be "
                "delivered and waits in its dead-letter queue",
                "read the message (the error is in its attributes), start the run by "
                "hand, then delete the message",
            ))},
        )  # fmt: skip
        groups = [self._freshness(dataset)] if freshness else []
        if delivery_stream_name:
            groups.append(self._delivery(name, delivery_stream_name))
        if groups:
            self.facade.monitor_custom(
                alarm_friendly_name="data", human_readable_name=f"{name} data", metric_groups=groups
            )

    def _freshness(self, dataset: Dataset) -> CustomMetricGroup:
        hours = dataset.fresh_within_hours
        written = cloudwatch.Metric(
            namespace=PROCESSING_NAMESPACE,
            metric_name="RowsWritten",
            dimensions_map={"Dataset": dataset.name},
            statistic="Sum",
            period=Duration.hours(1),
        )
        return CustomMetricGroup(
            title="Curated rows written",
            metrics=[CustomMetricWithAlarm(
                metric=written,
                alarm_friendly_name="freshness",
                add_alarm={CRITICAL: CustomThreshold(
                    threshold=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    evaluation_periods=hours, datapoints_to_alarm=hours,
                    # No datapoint means no run wrote anything: that is the point.
                    treat_missing_data_override=cloudwatch.TreatMissingData.BREACHING,
                    alarm_description_override=doing(
                        f"no new curated rows of {dataset.name} within its fresh_within_hours "
                        f"({hours} h)",
                        "check the pipeline ran (schedule, alerts) and that data arrived "
                        "in landing; look for quarantined files",
                    ),
                )},
            )],
        )  # fmt: skip

    def _delivery(self, name: str, stream: str) -> CustomMetricGroup:
        delivered = cloudwatch.Metric(
            namespace="AWS/Firehose",
            metric_name="DeliveryToS3.Success",
            dimensions_map={"DeliveryStreamName": stream},
            # The share of deliveries that succeeded in the period.
            statistic="Average",
            period=Duration.minutes(5),
        )
        return CustomMetricGroup(
            title="Delivery to raw (share of successful deliveries)",
            metrics=[CustomMetricWithAlarm(
                metric=delivered,
                alarm_friendly_name="delivery",
                add_alarm={CRITICAL: CustomThreshold(
                    threshold=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    evaluation_periods=3, datapoints_to_alarm=3,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=doing(
                        f"deliveries of the {name} stream to raw kept failing for 15 minutes "
                        "(some failed in each of three 5-minute periods)",
                        "read the stream's error log group and fix the cause (usually the "
                        "bucket policy or the key) within a day: Firehose retries delivery to "
                        "S3 for 24 hours, then drops the records",
                    ),
                )},
            )],
        )  # fmt: skip
