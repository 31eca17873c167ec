"""The environment's dashboard and its shared alarms, built with cdk-monitoring-constructs.

What every dataset shares (the ingest function, the shared dead-letter queues, Glue job
failures) is alarmed here. Per-dataset parts (pipelines, jobs, delivery streams, processing
counts) are drawn with search expressions over the environment's name prefix, so the
dashboard keeps one size however many datasets there are; their alarms live in each
dataset's stack (``DatasetAlarms``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    CustomMetricGroup,
    CustomMetricSearch,
    CustomMetricWithAlarm,
    CustomThreshold,
    DefaultDashboardFactory,
    MetricStatistic,
    MonitoringFacade,
    SnsAlarmActionStrategy,
)
from constructs import Construct

from cdk_constructs.monitoring.dataset_alarms import (
    CRITICAL,
    PROCESSING_NAMESPACE,
    doing,
    first_error,
    first_message,
)

AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


class LakeDashboard(Construct):
    """The dashboard ``<prefix>lake`` and the alarms on what all datasets share."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        topic: sns.ITopic,
        ingest_function: lambda_.IFunction,
        dead_letter_queues: Mapping[str, sqs.IQueue],
        glue_job_failed_rule: str,
        security_alarms: Sequence[cloudwatch.IAlarm],
        dashboard: bool = True,
    ) -> None:
        """Create the dashboard and alarms.

        :param prefix: the environment's resource name prefix (``datalake-sandbox-``).
        :param dead_letter_queues: the shared dead-letter queues, by what they serve.
        :param glue_job_failed_rule: name of the EventBridge rule matching failed job runs.
        :param security_alarms: shown on the dashboard (they alarm on their own).
        :param dashboard: create the dashboard; without it, only the alarms are made.
        """
        super().__init__(scope, id)
        self.facade = self._facade(prefix=prefix, topic=topic, dashboard=dashboard)
        # The search term every per-dataset resource's name carries (datalake-sandbox).
        env = prefix.rstrip("-")
        self.facade.add_large_header(f"Data lake {env}")
        self._monitor_ingest(ingest_function)
        self._monitor_dead_letter_queues(dead_letter_queues)
        self._monitor_glue_jobs(prefix=prefix, env=env, failed_rule=glue_job_failed_rule)
        self._graph_pipelines(env)
        self._graph_streams(env)
        self._graph_athena(env)
        self._show_security(security_alarms)

    def _facade(self, *, prefix: str, topic: sns.ITopic, dashboard: bool) -> MonitoringFacade:
        """Alarms named ``<env>-...`` that notify ``topic``; one dashboard, or none."""
        return MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=prefix.rstrip("-"),
                action=SnsAlarmActionStrategy(on_alarm_topic=topic),
            ),
            dashboard_factory=DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=f"{prefix}lake",
                create_dashboard=dashboard,
                create_alarm_dashboard=False,
                create_summary_dashboard=False,
            ),
        )

    def _monitor_ingest(self, ingest_function: lambda_.IFunction) -> None:
        """The batch ingest function, alarmed on its first error and its first throttle."""
        self.facade.monitor_lambda_function(
            lambda_function=ingest_function,
            alarm_friendly_name="ingest",
            human_readable_name="Batch ingest function",
            add_fault_count_alarm={CRITICAL: first_error(doing(
                "the ingest function failed on a file",
                "read the function's log for the file and the error; the event is retried, "
                "then parked in the ingest dead-letter queue; the file stays in landing",
            ))},
            add_throttles_count_alarm={CRITICAL: first_error(doing(
                "the ingest function was throttled",
                "raise ingest.reservedConcurrency (or the account's quota); throttled events "
                "are retried by EventBridge",
            ))},
        )  # fmt: skip

    def _monitor_dead_letter_queues(self, dead_letter_queues: Mapping[str, sqs.IQueue]) -> None:
        """Each shared dead-letter queue, alarmed on the first message waiting in it."""
        for served, queue in dead_letter_queues.items():
            self.facade.monitor_sqs_queue(
                queue=queue,
                alarm_friendly_name=f"{served}-dlq",
                human_readable_name=f"Dead-letter queue: {served}",
                add_queue_max_size_alarm={CRITICAL: first_message(doing(
                    f"a message waits in the {served} dead-letter queue",
                    "read the message, fix the cause, replay it, then delete it",
                ))},
            )  # fmt: skip

    def _monitor_glue_jobs(self, *, prefix: str, env: str, failed_rule: str) -> None:
        """Failed or timed-out runs of any of the environment's jobs, counted by the rule that
        alerts on them (one alarm for all jobs), and what the jobs did."""
        failed_runs = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="TriggeredRules",
            dimensions_map={"RuleName": failed_rule},
            statistic="Sum",
            period=Duration.minutes(5),
        )
        self.facade.monitor_custom(
            alarm_friendly_name="glue",
            human_readable_name="Glue jobs",
            metric_groups=[
                CustomMetricGroup(title="Failed or timed-out job runs", metrics=[
                    CustomMetricWithAlarm(
                        metric=failed_runs, alarm_friendly_name="failed-runs",
                        add_alarm={CRITICAL: CustomThreshold(
                            threshold=1, evaluation_periods=1, datapoints_to_alarm=1,
                            comparison_operator=AT_LEAST,
                            treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                            alarm_description_override=doing(
                                f"a run of a {prefix}* Glue job failed or timed out",
                                "the alert names the job and run; read its error in the Glue "
                                "console or its CloudWatch log",
                            ),
                        )},
                    ),
                ]),
                self._search("Job runs: completed tasks", "Glue,JobName,JobRunId,Type",
                             f'MetricName="glue.driver.aggregate.numCompletedTasks" {env}'),
                self._search("Curated rows written per dataset", f"{PROCESSING_NAMESPACE},Dataset",
                             'MetricName="RowsWritten"'),
                self._search("Rows quarantined per dataset", f"{PROCESSING_NAMESPACE},Dataset",
                             'MetricName="RowsQuarantined"'),
            ],
        )  # fmt: skip

    def _graph_pipelines(self, env: str) -> None:
        """Executions of every pipeline (their alarms live in each dataset's stack)."""
        self.facade.monitor_custom(
            alarm_friendly_name="pipelines",
            human_readable_name="Pipelines (alarms per dataset in its stack)",
            metric_groups=[
                self._search(f"Executions {what}", "AWS/States,StateMachineArn",
                             f'MetricName="{metric}" {env}')
                for what, metric in (("succeeded", "ExecutionsSucceeded"),
                                     ("failed", "ExecutionsFailed"),
                                     ("timed out", "ExecutionsTimedOut"))
            ],
        )  # fmt: skip

    def _graph_streams(self, env: str) -> None:
        """What every delivery stream writes to raw, and how late."""
        self.facade.monitor_custom(
            alarm_friendly_name="streams",
            human_readable_name="Delivery streams",
            metric_groups=[
                self._search("Records delivered to raw", "AWS/Firehose,DeliveryStreamName",
                             f'MetricName="DeliveryToS3.Records" {env}'),
                self._search("Oldest record not yet in raw (s)", "AWS/Firehose,DeliveryStreamName",
                             f'MetricName="DeliveryToS3.DataFreshness" {env}', MetricStatistic.MAX),
            ],
        )  # fmt: skip

    def _graph_athena(self, env: str) -> None:
        """What the personas' workgroups scan, and how long their queries take."""
        self.facade.monitor_custom(
            alarm_friendly_name="athena",
            human_readable_name="Athena workgroups (one per persona)",
            metric_groups=[
                self._search("Data scanned (bytes)", "AWS/Athena,QueryState,QueryType,WorkGroup",
                             f'MetricName="ProcessedBytes" {env}'),
                self._search("Query time (ms)", "AWS/Athena,QueryState,QueryType,WorkGroup",
                             f'MetricName="TotalExecutionTime" {env}', MetricStatistic.AVERAGE),
            ],
        )  # fmt: skip

    def _show_security(self, security_alarms: Sequence[cloudwatch.IAlarm]) -> None:
        """The security alarms' states (they alarm on their own, in the monitoring stack)."""
        self.facade.add_medium_header("Security (alarms from the trail)")
        self.facade.add_widget(
            cloudwatch.AlarmStatusWidget(
                title="Security alarms", alarms=list(security_alarms), width=24, height=4
            )
        )

    @staticmethod
    def _search(
        title: str,
        schema: str,
        query: str,
        statistic: MetricStatistic = MetricStatistic.SUM,
    ) -> CustomMetricGroup:
        """A graph of every metric of ``schema`` (``namespace,dimension,...``) that matches
        ``query``. CloudWatch search has no wildcard for a dimension's value, so the
        dimensions go into the schema and no value is pinned."""
        return CustomMetricGroup(
            title=title,
            metrics=[CustomMetricSearch(namespace=schema, dimensions_map={}, search_query=query,
                                        statistic=statistic, period=Duration.minutes(5))],
        )  # fmt: skip
