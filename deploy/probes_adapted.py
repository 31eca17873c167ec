"""Probes of the types the adapters create: each read back through its service's API."""

from __future__ import annotations

import json
from typing import Any

from deploy.probes import Clients, _read, probe


@probe("AWS::Glue::Database")
def _database(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    return aws("glue").get_database(Name=name)["Database"], []


@probe("AWS::Glue::Table")
def _table(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    database, _, name = physical.partition("|")
    table = aws("glue").get_table(DatabaseName=database, Name=name)["Table"]
    return {"DatabaseName": database, "Location": table["StorageDescriptor"]["Location"]}, []


@probe("AWS::Glue::Job")
def _job(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    job = aws("glue").get_job(JobName=name)["Job"]
    script = job["Command"]["ScriptLocation"]
    bucket, _, key = script.removeprefix("s3://").partition("/")
    aws("s3").head_object(Bucket=bucket, Key=key)  # the script was published
    for argument in ("--extra-py-files", "--additional-python-modules"):
        for path in job.get("DefaultArguments", {}).get(argument, "").split(","):
            if path.startswith("s3://"):
                bucket, _, key = path.removeprefix("s3://").partition("/")
                aws("s3").head_object(Bucket=bucket, Key=key)
    return {
        "Command": job["Command"],
        "DefaultArguments": job.get("DefaultArguments", {}),
        "Role": job["Role"],
        "SecurityConfiguration": job.get("SecurityConfiguration"),
    }, []


@probe("AWS::Glue::Crawler")
def _crawler(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    crawler = aws("glue").get_crawler(Name=name)["Crawler"]
    return {
        "DatabaseName": crawler["DatabaseName"],
        "Targets": crawler["Targets"],
        "Role": crawler["Role"],
    }, []


@probe("AWS::Glue::SecurityConfiguration")
def _security(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    return _read(aws("glue").get_security_configuration, Name=name)


@probe("AWS::LakeFormation::DataLakeSettings")
def _settings(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    settings = aws("lakeformation").get_data_lake_settings()["DataLakeSettings"]
    missing = [a for a in props.get("Admins", []) if a not in settings.get("DataLakeAdmins", [])]
    return {"Admins": settings.get("DataLakeAdmins", [])}, [f"not an admin: {a}" for a in missing]


@probe("AWS::LakeFormation::Resource")
def _location(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    return aws("lakeformation").describe_resource(ResourceArn=arn)["ResourceInfo"], []


@probe("AWS::LakeFormation::Tag")
def _tag(aws: Clients, key: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    tag = aws("lakeformation").get_lf_tag(TagKey=key)
    missing = set(props["TagValues"]) - set(tag["TagValues"])
    return {"TagKey": key}, [f"values missing: {sorted(missing)}"] if missing else []


@probe("AWS::LakeFormation::TagAssociation")
def _association(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    resource = json.loads(physical)
    answer = aws("lakeformation").get_resource_lf_tags(Resource=resource)
    held = {
        t["TagKey"] for t in answer.get("LFTagOnDatabase", []) + answer.get("LFTagsOnTable", [])
    }
    held |= {t["TagKey"] for column in answer.get("LFTagsOnColumns", []) for t in column["LFTags"]}
    missing = {t["TagKey"] for t in props["LFTags"]} - held
    return {"Resource": resource}, [f"tags missing: {sorted(missing)}"] if missing else []


@probe("AWS::LakeFormation::PrincipalPermissions")
def _grant(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    principal, resource = json.loads(physical)
    granted = aws("lakeformation").list_permissions()["PrincipalResourcePermissions"]
    found = [
        g
        for g in granted
        if g["Principal"] == principal
        and g["Resource"] == resource
        and set(props["Permissions"]) <= set(g["Permissions"])
    ]
    problems = [] if found else ["no such grant"]
    return {"Principal": principal, "Resource": resource}, problems


@probe("AWS::Athena::WorkGroup")
def _workgroup(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    group = aws("athena").get_work_group(WorkGroup=name)["WorkGroup"]
    return {"Configuration": group.get("Configuration", {})}, []


@probe("AWS::Athena::NamedQuery")
def _query(aws: Clients, query_id: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    query = aws("athena").get_named_query(NamedQueryId=query_id)["NamedQuery"]
    aws("athena").get_work_group(WorkGroup=query["WorkGroup"])
    return {"Database": query["Database"], "WorkGroup": query["WorkGroup"]}, []


@probe("AWS::CloudTrail::Trail")
def _trail(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    cloudtrail = aws("cloudtrail")
    trail = cloudtrail.get_trail(Name=name)["Trail"]
    logging = cloudtrail.get_trail_status(Name=name)["IsLogging"]
    problems = [] if logging == bool(props.get("IsLogging")) else ["logging differs"]
    return {"S3BucketName": trail["S3BucketName"], "Key": trail.get("KmsKeyId")}, problems


@probe("AWS::CloudWatch::Alarm")
def _alarm(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    if not alarms:
        raise LookupError(f"no alarm {name}")
    return {"AlarmActions": alarms[0].get("AlarmActions", [])}, []


@probe("AWS::CloudWatch::Dashboard")
def _dashboard(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    body = json.loads(aws("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    return {"Widgets": len(body.get("widgets", []))}, []


@probe("AWS::SNS::Subscription")
def _subscription(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    attributes = aws("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    problems = [] if attributes["Endpoint"] == props["Endpoint"] else ["endpoint differs"]
    return {"TopicArn": attributes["TopicArn"]}, problems


@probe("AWS::Scheduler::Schedule")
def _schedule(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    schedule = aws("scheduler").get_schedule(Name=name)
    return {"Target": schedule["Target"], "State": schedule["State"]}, []


@probe("AWS::KinesisFirehose::DeliveryStream")
def _stream(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    stream = aws("firehose").describe_delivery_stream(DeliveryStreamName=name)
    return {"Destinations": stream["DeliveryStreamDescription"]["Destinations"]}, []


@probe("AWS::SecretsManager::Secret")
def _secret(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    secret = aws("secretsmanager").describe_secret(SecretId=arn)
    aws("secretsmanager").get_secret_value(SecretId=arn)
    return {"KmsKeyId": secret.get("KmsKeyId")}, []


@probe("AWS::S3::BucketPolicy")
def _bucket_policy(aws: Clients, bucket: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    return {"Statements": len(policy["Statement"])}, []


@probe("AWS::SNS::TopicPolicy")
def _topic_policy(aws: Clients, topics: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    for topic in topics.split(","):
        json.loads(aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    return {"Topics": topics.split(",")}, []


@probe("AWS::SQS::QueuePolicy")
def _queue_policy(aws: Clients, queues: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    for queue in queues.split(","):
        attributes = aws("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])
        json.loads(attributes["Attributes"]["Policy"])
    return {"Queues": queues.split(",")}, []


@probe("Custom::S3AutoDeleteObjects")
def _auto_delete(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    bucket = physical.removesuffix("-auto-delete")
    aws("s3").head_bucket(Bucket=bucket)
    return {"Bucket": bucket}, []
