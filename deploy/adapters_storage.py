"""Adapters that replace moto's own S3 bucket and log group: moto creates both but leaves out
properties this app depends on (a bucket's versioning, lifecycle, logging and public access
block; a log group's key), so a check of them would fail on the emulator, not on the app.
Here each property goes through the service's own API call, as CloudFormation's handler
makes it."""

from __future__ import annotations

from typing import Any

from deploy.adapters import Adapter, adapter

# Access logging waiting for its target's policy, by source bucket. moto refuses
# PutBucketLogging until the target bucket grants the logging service (it ignores that a
# bucket with ACLs disabled cannot grant otherwise), and CloudFormation may create the source
# bucket before the target's policy: the logging is set once the policy is there, and a
# bucket whose logging never could be set fails its check.
PENDING_LOGGING: dict[str, dict[str, Any]] = {}


def apply_pending_logging(api: Any, target: str) -> None:
    """Set the logging of each bucket waiting for ``target``, where moto now accepts it."""
    for source, status in list(PENDING_LOGGING.items()):
        if status["LoggingEnabled"]["TargetBucket"] != target:
            continue
        try:
            api.put_bucket_logging(Bucket=source, BucketLoggingStatus=status)
        except api.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "InvalidTargetBucketForLogging":
                raise
        else:
            del PENDING_LOGGING[source]


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One CloudFormation lifecycle rule as PutBucketLifecycleConfiguration takes it."""
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if rule.get("ExpiredObjectDeleteMarker"):
        api["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    if "Transitions" in rule:
        api["Transitions"] = [
            {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            for t in rule["Transitions"]
        ]
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        }
    if "NoncurrentVersionTransitions" in rule:
        api["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            for t in rule["NoncurrentVersionTransitions"]
        ]
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def _configure(api: Any, bucket: str, props: dict[str, Any]) -> None:
    if "BucketEncryption" in props:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
            }
            for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        api.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    if "VersioningConfiguration" in props:
        api.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"]
        )
    if "PublicAccessBlockConfiguration" in props:
        api.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "OwnershipControls" in props:
        api.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls=props["OwnershipControls"]
        )
    if "LoggingConfiguration" in props:
        logging = props["LoggingConfiguration"]
        PENDING_LOGGING[bucket] = {
            "LoggingEnabled": {
                "TargetBucket": logging["DestinationBucketName"],
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            }
        }
        apply_pending_logging(api, logging["DestinationBucketName"])
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
        api.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": rules}
        )
    if (
        props.get("NotificationConfiguration", {})
        .get("EventBridgeConfiguration", {})
        .get("EventBridgeEnabled")
    ):
        api.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    if "ObjectLockConfiguration" in props:
        api.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration=props["ObjectLockConfiguration"]
        )
    if "Tags" in props:
        api.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": props["Tags"]})


@adapter("AWS::S3::Bucket", "s3")
class Bucket(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        bucket = props.get("BucketName") or name.lower()[:63]
        region = api.meta.region_name
        location = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        api.create_bucket(
            Bucket=bucket,
            ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled")),
            **location,
        )
        _configure(api, bucket, props)
        return bucket, {
            "Arn": f"arn:aws:s3:::{bucket}",
            "DomainName": f"{bucket}.s3.amazonaws.com",
            "RegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        }

    def remove(self, api: Any) -> None:
        api.delete_bucket(Bucket=self.physical_id)  # refused unless empty, as in AWS


@adapter("AWS::Logs::LogGroup", "logs")
class LogGroup(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        group = props.get("LogGroupName") or name
        call: dict[str, Any] = {"logGroupName": group}
        if "KmsKeyId" in props:
            call["kmsKeyId"] = props["KmsKeyId"]
        if "Tags" in props:
            call["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        api.create_log_group(**call)
        if "RetentionInDays" in props:
            api.put_retention_policy(logGroupName=group, retentionInDays=props["RetentionInDays"])
        region = api.meta.region_name
        return group, {"Arn": f"arn:aws:logs:{region}:{_account()}:log-group:{group}:*"}

    def remove(self, api: Any) -> None:
        api.delete_log_group(logGroupName=self.physical_id)


def _account() -> str:
    from deploy.adapters import client

    return str(client("sts", "us-east-1").get_caller_identity()["Account"])


@adapter("AWS::IAM::ManagedPolicy", "iam")
class ManagedPolicy(Adapter):
    """moto's own deletes the policy without detaching it, which IAM refuses, so no stack
    with a role and its policy could be deleted: this one detaches first, as CloudFormation
    does."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        import json

        call = {key: props[key] for key in ("Description", "Path") if key in props}
        arn = api.create_policy(
            PolicyName=props.get("ManagedPolicyName") or name[-128:],
            PolicyDocument=json.dumps(props["PolicyDocument"]),
            **call,
        )["Policy"]["Arn"]
        for role in props.get("Roles", []):
            api.attach_role_policy(RoleName=role, PolicyArn=arn)
        for user in props.get("Users", []):
            api.attach_user_policy(UserName=user, PolicyArn=arn)
        for group in props.get("Groups", []):
            api.attach_group_policy(GroupName=group, PolicyArn=arn)
        return arn, {"PolicyArn": arn}

    def remove(self, api: Any) -> None:
        for role in self.props.get("Roles", []):
            api.detach_role_policy(RoleName=role, PolicyArn=self.physical_id)
        for user in self.props.get("Users", []):
            api.detach_user_policy(UserName=user, PolicyArn=self.physical_id)
        for group in self.props.get("Groups", []):
            api.detach_group_policy(GroupName=group, PolicyArn=self.physical_id)
        api.delete_policy(PolicyArn=self.physical_id)
