"""``cdk destroy --all`` rehearsed: the stacks deleted in reverse order, then the emulated
account searched, service by service, for anything of the app's that is left.

What may stay is what the README says is kept: the bootstrap stack and its resources, the
Lake Formation administrators the governance stack appended, and, where the environment
keeps data (``removeDataOnDestroy: false``), the resources CloudFormation retains. Athena's
saved queries are the emulator's own leftover (moto has no DeleteNamedQuery; AWS deletes
them with their stack) and are reported apart, not as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.emulated_cloud import BOOTSTRAP_STACK, physical_ids

# The name part every resource of the bootstrap stack carries.
_BOOTSTRAP = "hnb659fds"


@dataclass(frozen=True)
class Destroyed:
    """What ``destroy`` did: the stacks that failed to delete, and the physical ids of the
    resources their templates retain (``DeletionPolicy: Retain``)."""

    failures: tuple[str, ...]
    retained: frozenset[str]


def destroy(deployment: Any) -> Destroyed:
    """Delete every deployed stack, the last deployed first."""
    cloudformation = deployment.aws.client("cloudformation")
    failures, retained = [], set()
    for stack in reversed(deployment.stacks):
        template = deployment.submitted[stack.name]["Resources"]
        for logical, _, physical in physical_ids(cloudformation, stack.name):
            if template[logical].get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
                retained.add(physical)
        try:
            cloudformation.delete_stack(StackName=stack.name)
        except Exception as error:  # reported with the stack's name
            failures.append(f"{stack.name} failed to delete: {error}")
    return Destroyed(tuple(failures), frozenset(retained))


def _is(name: str, physical_ids: frozenset[str] | set[str]) -> bool:
    """Whether ``name`` (as a list API gives it) is one of ``physical_ids`` (as
    CloudFormation records them: a name, an ARN or a URL)."""
    return any(p == name or p.endswith((":" + name, "/" + name)) for p in physical_ids)


def _found(aws: Callable[[str], Any]) -> dict[str, list[str]]:
    """What the emulated account holds, by type, the bootstrap's own left out."""
    s3, glue, lf = aws("s3"), aws("glue"), aws("lakeformation")
    keys = [k["KeyId"] for k in aws("kms").list_keys()["Keys"]]
    return {
        "AWS::S3::Bucket": [b["Name"] for b in s3.list_buckets()["Buckets"]],
        "AWS::KMS::Key": [
            k
            for k in keys
            if aws("kms").describe_key(KeyId=k)["KeyMetadata"]["KeyState"] != "PendingDeletion"
        ],
        "AWS::IAM::Role": [r["RoleName"] for r in aws("iam").list_roles()["Roles"]],
        "AWS::Lambda::Function": [
            f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]
        ],
        "AWS::Logs::LogGroup": [
            g["logGroupName"] for g in aws("logs").describe_log_groups()["logGroups"]
        ],
        "AWS::SNS::Topic": [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]],
        "AWS::SQS::Queue": aws("sqs").list_queues().get("QueueUrls", []),
        "AWS::StepFunctions::StateMachine": [
            m["name"] for m in aws("stepfunctions").list_state_machines()["stateMachines"]
        ],
        "AWS::Events::Rule": [r["Name"] for r in aws("events").list_rules()["Rules"]],
        "AWS::Glue::Database": [d["Name"] for d in glue.get_databases()["DatabaseList"]],
        "AWS::Glue::Job": glue.list_jobs()["JobNames"],
        "AWS::Glue::Crawler": glue.list_crawlers()["CrawlerNames"],
        "AWS::Glue::SecurityConfiguration": [
            c["Name"] for c in glue.get_security_configurations()["SecurityConfigurations"]
        ],
        "AWS::LakeFormation::Tag": [t["TagKey"] for t in lf.list_lf_tags()["LFTags"]],
        "AWS::LakeFormation::Resource": [
            r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]
        ],
        "AWS::LakeFormation::PrincipalPermissions": [
            str(p["Principal"]) for p in lf.list_permissions()["PrincipalResourcePermissions"]
        ],
        "AWS::Athena::WorkGroup": [
            w["Name"]
            for w in aws("athena").list_work_groups()["WorkGroups"]
            if w["Name"] != "primary"
        ],
        "AWS::CloudTrail::Trail": [
            t["Name"] for t in aws("cloudtrail").describe_trails()["trailList"]
        ],
        "AWS::CloudWatch::Alarm": [
            a["AlarmName"] for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]
        ],
        "AWS::Scheduler::Schedule": [
            s["Name"] for s in aws("scheduler").list_schedules()["Schedules"]
        ],
        "AWS::KinesisFirehose::DeliveryStream": aws("firehose").list_delivery_streams()[
            "DeliveryStreamNames"
        ],
        "AWS::SecretsManager::Secret": [
            s["ARN"] for s in aws("secretsmanager").list_secrets()["SecretList"]
        ],
        "AWS::Logs::MetricFilter": [
            f["filterName"] for f in aws("logs").describe_metric_filters()["metricFilters"]
        ],
        "AWS::CloudWatch::Dashboard": [
            d["DashboardName"] for d in aws("cloudwatch").list_dashboards()["DashboardEntries"]
        ],
        "AWS::SNS::Subscription": [
            s["SubscriptionArn"] for s in aws("sns").list_subscriptions()["Subscriptions"]
        ],
    }


def leftovers(deployment: Any, destroyed: Destroyed) -> list[str]:
    """What the destroy left that the README does not say is kept, and each failed delete."""
    cloudformation = deployment.aws.client("cloudformation")
    bootstrap = {physical for _, _, physical in physical_ids(cloudformation, BOOTSTRAP_STACK)}
    left = list(destroyed.failures)
    for type_, names in _found(deployment.clients).items():
        for name in names:
            if _BOOTSTRAP in name or _is(name, bootstrap) or _is(name, destroyed.retained):
                continue
            left.append(f"{type_} {name}")
    return left


def named_queries_left(deployment: Any) -> int:
    """Saved queries the emulator cannot delete (reported, not failed)."""
    return len(deployment.clients("athena").list_named_queries()["NamedQueryIds"])
