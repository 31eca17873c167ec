"""Monitoring: what the operators and the security officer are told, and what they can see.

Stateless. It borrows the trail's log group, the alerts topic, the ingest function and the
dead-letter queues from their stacks, and sends every alarm to the alerts topic.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.monitoring.lake_dashboard import LakeDashboard
from cdk_constructs.monitoring.security_alarms import SecurityAlarms
from model.config import EnvironmentConfig
from stacks.alerts_stack import AlertsStack
from stacks.audit_stack import AuditStack
from stacks.ingest_stack import IngestStack
from stacks.sharing import Borrowed


class MonitoringStack(cdk.Stack):
    """The environment's dashboard, the alarms on what every dataset shares, and security
    metric filters and alarms on the CloudTrail log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        audit: AuditStack,
        alerts: AlertsStack,
        ingest: IngestStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        borrowed = Borrowed(self)
        topic = borrowed.topic(alerts.alerts.topic)
        self.security = SecurityAlarms(
            self,
            "Security",
            trail_log_group=borrowed.log_group(audit.audit_trail.log_group),
            topic=topic,
            one_alarm=config.monitoring.security_alarms == "one",
        )
        self.dashboard = LakeDashboard(
            self,
            "Operations",
            prefix=config.resource_name(""),
            topic=topic,
            ingest_function=borrowed.function(ingest.ingest.function),
            dead_letter_queues={
                "ingest": borrowed.queue(ingest.ingest.dead_letter_queue),
                "alerts": borrowed.queue(alerts.alerts.dead_letter_queue),
            },
            glue_job_failed_rule=borrowed.name(alerts.alerts.glue_job_failed),
            security_alarms=list(self.security.alarms.values()),
            dashboard=config.monitoring.dashboard,
        )
