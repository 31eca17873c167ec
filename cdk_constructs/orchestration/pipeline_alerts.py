"""The pipeline alerts topic, and the EventBridge rules that turn failures into readable alerts.

The pipelines publish their own detailed alerts (dataset, failed step, error, failed rules).
These rules are the backstop for what a pipeline cannot report itself: an execution that
timed out or was stopped, a failure in the alerting step, and job runs started outside a
pipeline (by hand: no job is retried by Glue).
"""

from __future__ import annotations

from aws_cdk import Annotations, ArnFormat, Stack
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_constructs.common.dead_letter_queue import dead_letter_queue
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge
from cdk_constructs.common.service_trust import trusted_service
from model.config import SlackChannel

# Glue job run states that end a run without its result.
FAILED_JOB_STATES = ("FAILED", "TIMEOUT", "ERROR")
# Step Functions execution states that end a run without its result.
FAILED_EXECUTION_STATES = ("FAILED", "TIMED_OUT", "ABORTED")


class PipelineAlerts(Construct):
    """One KMS-encrypted, TLS-only SNS topic, its destinations (an e-mail subscription, a
    Slack channel, an existing topic the rules also target), and rules for failed Glue job
    runs and failed, timed-out or stopped pipeline executions whose names start with
    ``name_prefix``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name_prefix: str,
        encryption_key: kms.IKey,
        email: str | None = None,
        slack: SlackChannel | None = None,
        forward_to: sns.ITopic | None = None,
    ) -> None:
        """Create the topic and rules.

        :param name_prefix: the environment's resource name prefix (``datalake-sandbox-``):
            only jobs and state machines named with it raise alerts here.
        :param encryption_key: encrypts the topic; its policy must let EventBridge use it.
        :param email: an address to subscribe (it must confirm). Default: none.
        :param slack: a Slack channel AWS Chatbot posts every alert to. Default: none.
        :param forward_to: an existing topic the failure rules also publish to (alarms reach
            it through ``cdk_constructs.monitoring.alarm_forwarding``). Default: none.
        """
        super().__init__(scope, id)
        self.topic = self._topic(name_prefix, encryption_key=encryption_key)
        if email:
            subscription = self.topic.add_subscription(subscriptions.EmailSubscription(email))
            acknowledge(
                subscription,
                "SNS retries e-mail delivery itself; a dead-letter queue for it would need the "
                "operations key to trust the SNS service, which this stack does not own, and "
                "alerts it could not deliver are counted in the topic's "
                "NumberOfNotificationsFailed.",
                "Serverless-SNSRedrivePolicy",
            )
        self.slack = self._slack(name_prefix, slack) if slack else None
        self._forward_to = forward_to
        # Alerts EventBridge could not deliver (the topic or its key refused them).
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", encryption_key=encryption_key, serves="the alert rules"
        )
        self._publisher = self._publish_role(name_prefix)
        self.glue_job_failed = self._alert_on_failed_jobs(name_prefix)
        self._alert_on_failed_pipelines(name_prefix)

    def _topic(self, name_prefix: str, *, encryption_key: kms.IKey) -> sns.Topic:
        """The topic, which this account's CloudWatch alarms may publish to.

        The topic policy replaces SNS's default one, so the alarms need their own statement
        (and the key lets them encrypt).
        """
        topic = sns.Topic(
            self,
            "Topic",
            display_name=f"{name_prefix}alerts",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        stack = Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisAccountsAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": stack.format_arn(
                        service="cloudwatch", resource="alarm", resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )},
                },
            )
        )  # fmt: skip
        return topic

    def _slack(self, name_prefix: str, slack: SlackChannel) -> chatbot.SlackChannelConfiguration:
        """AWS Chatbot posting the topic's messages to a Slack channel, and nothing else.

        The channel's guardrail is AWSDenyAll, so nobody in the channel can run AWS commands
        through Chatbot (without one, Chatbot applies AdministratorAccess as the guardrail).
        """
        channel = chatbot.SlackChannelConfiguration(
            self,
            "Slack",
            slack_channel_configuration_name=f"{name_prefix}alerts",
            slack_workspace_id=slack.workspace_id,
            slack_channel_id=slack.channel_id,
            notification_topics=[self.topic],
            guardrail_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AWSDenyAll")],
            logging_level=chatbot.LoggingLevel.NONE,
        )
        return channel

    def _publish_role(self, name_prefix: str) -> ManagedRole:
        """The role EventBridge publishes alerts as.

        SNS does not pass the source-account condition the operations key sets on the EventBridge
        service, so the key is reached through the role (each rule's target grants it the
        topic and its key).
        """
        publisher = ManagedRole(
            self,
            "PublishRole",
            description=f"EventBridge publishing {name_prefix}* failures to the alerts topic.",
            assumed_by=trusted_service(self, "events.amazonaws.com"),
        )
        acknowledge(
            publisher,
            "Publishing to a KMS-encrypted topic needs data keys from the topic's key; "
            "CDK's topic grant names that one key with kms:GenerateDataKey*.",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        )
        return publisher

    def _alert_on_failed_jobs(self, name_prefix: str) -> events.Rule:
        """Runs of the environment's Glue jobs that ended in a failed state, whoever started
        them."""
        field = events.EventField.from_path
        return self._alert_on(
            "GlueJobFailed",
            f"Alert on failed or timed-out runs of {name_prefix}* Glue jobs.",
            events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": [{"prefix": name_prefix}], "state": list(FAILED_JOB_STATES)},
            ),
            f"Glue job {field('$.detail.jobName')} ended {field('$.detail.state')} "
            f"at {field('$.time')} (run {field('$.detail.jobRunId')}): "
            f"{field('$.detail.message')}",
        )

    def _alert_on_failed_pipelines(self, name_prefix: str) -> events.Rule:
        """Executions of the environment's pipelines that failed, timed out or were stopped."""
        field = events.EventField.from_path
        return self._alert_on(
            "PipelineFailed",
            f"Alert on failed, timed-out or stopped {name_prefix}* pipelines.",
            events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [{"wildcard": f"*:stateMachine:{name_prefix}*"}],
                    "status": list(FAILED_EXECUTION_STATES),
                },
            ),
            f"Pipeline execution {field('$.detail.name')} ended "
            f"{field('$.detail.status')} at {field('$.time')}. State machine: "
            f"{field('$.detail.stateMachineArn')}. Error: "
            f"{field('$.detail.error')}. Cause: {field('$.detail.cause')}",
        )

    def _alert_on(
        self, id: str, description: str, pattern: events.EventPattern, message: str
    ) -> events.Rule:
        """A rule sending events of ``pattern`` to the topic (and the forwarded one) as the
        text ``message``."""
        topics = [self.topic, *([self._forward_to] if self._forward_to else [])]
        rule = events.Rule(
            self,
            id,
            description=description,
            event_pattern=pattern,
            targets=[
                targets.SnsTopic(
                    topic,
                    role=self._publisher,
                    dead_letter_queue=self.dead_letter_queue,
                    message=events.RuleTargetInput.from_text(message),
                )
                for topic in topics
            ],
        )
        if self._forward_to:
            # An imported topic's ARN names its account and region; cdk.json's check makes
            # them the environment's own where the environment names them.
            Annotations.of(rule).acknowledge_warning(
                "@aws-cdk/aws-events:ruleUnresolvedEnvironment",
                "alerts.topicArn is a topic in the environment's own account and region",
            )
        return rule
