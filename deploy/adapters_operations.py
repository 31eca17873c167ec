"""Adapters for operations and access: keys, state machines, the trail, schedules, Firehose,
secrets, a function's invoke settings, resource policies, and CDK's auto-delete-objects
provider."""

from __future__ import annotations

import json
from typing import Any

from deploy.adapters import Adapter, adapter
from deploy.adapters_storage import apply_pending_logging


@adapter("AWS::KMS::Key", "kms")
class Key(Adapter):
    """moto's own KMS::Key reads the template's tags as KMS's ``TagKey``/``TagValue`` and
    fails on CloudFormation's ``Key``/``Value``: this adapter replaces it."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        call: dict[str, Any] = {
            key: props[key]
            for key in ("Description", "KeyUsage", "KeySpec", "MultiRegion")
            if key in props
        }
        if "KeyPolicy" in props:
            call["Policy"] = json.dumps(props["KeyPolicy"])
        tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
        key = api.create_key(Tags=tags, **call)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            api.enable_key_rotation(KeyId=key["KeyId"])
        return key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}

    def remove(self, api: Any) -> None:
        window = int(self.props.get("PendingWindowInDays", 30))
        api.schedule_key_deletion(KeyId=self.physical_id, PendingWindowInDays=window)


def _camel(node: Any) -> Any:
    """CloudFormation's PascalCase keys as the Step Functions API's camelCase."""
    if isinstance(node, dict):
        return {key[0].lower() + key[1:]: _camel(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_camel(value) for value in node]
    return node


@adapter("AWS::StepFunctions::StateMachine", "stepfunctions")
class StateMachine(Adapter):
    """Through the API, so that the state machine lands in the Step Functions that runs
    executions (moto keeps the one it creates from a template apart, where nothing runs)."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        call: dict[str, Any] = {
            "name": props.get("StateMachineName") or name[-80:],
            "definition": props["DefinitionString"],
            "roleArn": props["RoleArn"],
        }
        if "StateMachineType" in props:
            call["type"] = props["StateMachineType"]
        for key in ("LoggingConfiguration", "TracingConfiguration"):
            if key in props:
                call[key[0].lower() + key[1:]] = _camel(props[key])
        if "Tags" in props:
            call["tags"] = [{"key": t["Key"], "value": t["Value"]} for t in props["Tags"]]
        arn = api.create_state_machine(**call)["stateMachineArn"]
        return arn, {"Arn": arn, "Name": call["name"]}

    def remove(self, api: Any) -> None:
        api.delete_state_machine(stateMachineArn=self.physical_id)


@adapter("AWS::CloudTrail::Trail", "cloudtrail")
class Trail(Adapter):
    """CreateTrail, then the event selectors and StartLogging, as CloudFormation does."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        trail = props.get("TrailName") or name
        settings: dict[str, Any] = {
            key: props[key]
            for key in (
                "S3BucketName",
                "S3KeyPrefix",
                "SnsTopicName",
                "IncludeGlobalServiceEvents",
                "IsMultiRegionTrail",
                "EnableLogFileValidation",
                "CloudWatchLogsLogGroupArn",
                "CloudWatchLogsRoleArn",
                "IsOrganizationTrail",
            )
            if key in props
        }
        if "KMSKeyId" in props:
            settings["KmsKeyId"] = props["KMSKeyId"]
        arn = api.create_trail(Name=trail, TagsList=props.get("Tags", []), **settings)["TrailARN"]
        if "AdvancedEventSelectors" in props:
            api.put_event_selectors(
                TrailName=trail, AdvancedEventSelectors=props["AdvancedEventSelectors"]
            )
        if props.get("IsLogging"):
            api.start_logging(Name=trail)
        return trail, {"Arn": arn}

    def remove(self, api: Any) -> None:
        api.delete_trail(Name=self.physical_id)


@adapter("AWS::Scheduler::Schedule", "scheduler")
class Schedule(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        schedule = props.get("Name") or name[-64:]
        arn = api.create_schedule(**{**props, "Name": schedule})["ScheduleArn"]
        return schedule, {"Arn": arn}

    def remove(self, api: Any) -> None:
        api.delete_schedule(Name=self.physical_id)


@adapter("AWS::KinesisFirehose::DeliveryStream", "firehose")
class DeliveryStream(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        stream = props.get("DeliveryStreamName") or name[-64:]
        arn = api.create_delivery_stream(**{**props, "DeliveryStreamName": stream})[
            "DeliveryStreamARN"
        ]
        return stream, {"Arn": arn}

    def remove(self, api: Any) -> None:
        api.delete_delivery_stream(DeliveryStreamName=self.physical_id)


@adapter("AWS::SecretsManager::Secret", "secretsmanager")
class Secret(Adapter):
    """``GenerateSecretString`` becomes a password from GetRandomPassword, placed under its
    ``GenerateStringKey`` in ``SecretStringTemplate`` when one is given."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        generate = dict(props.get("GenerateSecretString") or {})
        template, key = (
            generate.pop("SecretStringTemplate", None),
            generate.pop("GenerateStringKey", None),
        )
        value = props.get("SecretString")
        if value is None:
            value = api.get_random_password(**generate)["RandomPassword"]
            if template is not None and key is not None:
                value = json.dumps({**json.loads(template), key: value})
        call = {k: props[k] for k in ("Description", "KmsKeyId", "Tags") if k in props}
        arn = api.create_secret(Name=props.get("Name") or name, SecretString=value, **call)["ARN"]
        return arn, {}

    def remove(self, api: Any) -> None:
        api.delete_secret(SecretId=self.physical_id, ForceDeleteWithoutRecovery=True)


@adapter("AWS::Lambda::EventInvokeConfig", "lambda")
class EventInvokeConfig(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.put_function_event_invoke_config(**props)
        return f"{props['FunctionName']}:{props['Qualifier']}", {}

    def remove(self, api: Any) -> None:
        api.delete_function_event_invoke_config(
            FunctionName=self.props["FunctionName"], Qualifier=self.props["Qualifier"]
        )


@adapter("AWS::S3::BucketPolicy", "s3")
class BucketPolicy(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.put_bucket_policy(Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"]))
        apply_pending_logging(api, props["Bucket"])
        return props["Bucket"], {}

    def remove(self, api: Any) -> None:
        if self.physical_id in {b["Name"] for b in api.list_buckets()["Buckets"]}:
            api.delete_bucket_policy(Bucket=self.physical_id)


@adapter("AWS::SNS::TopicPolicy", "sns")
class TopicPolicy(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        for topic in props["Topics"]:
            api.set_topic_attributes(
                TopicArn=topic,
                AttributeName="Policy",
                AttributeValue=json.dumps(props["PolicyDocument"]),
            )
        return ",".join(props["Topics"]), {}

    def remove(self, api: Any) -> None:
        return None  # the topic's own deletion takes its policy


@adapter("AWS::SQS::QueuePolicy", "sqs")
class QueuePolicy(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        for queue in props["Queues"]:
            api.set_queue_attributes(
                QueueUrl=queue, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
        return ",".join(props["Queues"]), {}

    def remove(self, api: Any) -> None:
        return None  # the queue's own deletion takes its policy


@adapter("Custom::S3AutoDeleteObjects", "s3")
class AutoDeleteObjects(Adapter):
    """What CDK's auto-delete-objects provider does, which moto cannot run (its custom
    resources invoke the provider's function, in Docker): nothing on create, and on delete
    every version of every object in the bucket goes, so that the bucket can be deleted."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.head_bucket(Bucket=props["BucketName"])
        return f"{props['BucketName']}-auto-delete", {}

    def remove(self, api: Any) -> None:
        empty_bucket(api, self.props["BucketName"])


def empty_bucket(api: Any, bucket: str) -> None:
    """Delete every version and delete marker in ``bucket``."""
    pages = api.get_paginator("list_object_versions").paginate(Bucket=bucket)
    for page in pages:
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            api.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
