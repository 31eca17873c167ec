"""What was deployed, asked of the emulated services: never the stack's status.

Each probe reads one resource back through its service's API by the physical id
CloudFormation recorded, and returns what it read (a JSON-able description) and the
problems it saw in the properties that matter: a bucket's encryption key, a function's code
against its asset, a state machine's definition, a Glue job's script. ``references`` then
follows every name and ARN in what was read to something that exists: a bucket in an
``s3://`` URI, a topic, queue, function, role, key, state machine, Glue database or job.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

Clients = Callable[[str], Any]
# A probe: (clients, physical id, the template's properties) -> (what was read, problems).
Probe = Callable[[Clients, str, dict[str, Any]], tuple[Any, list[str]]]
PROBES: dict[str, Probe] = {}


def probe(*types: str) -> Callable[[Probe], Probe]:
    def register(function: Probe) -> Probe:
        for type_ in types:
            PROBES[type_] = function
        return function

    return register


def key_differs(aws: Clients, actual: str | None, wanted: Any) -> list[str]:
    """A problem unless ``actual`` (as the service reports it) is the template's key
    ``wanted``, compared by key id, whatever form each names it in (id, ARN, alias)."""
    if wanted is None and actual is None:
        return []
    if wanted is None or actual is None:
        return [f"encrypted with {actual or 'no key of its own'}, the template says {wanted}"]
    if not isinstance(wanted, str):
        return [f"the template's key {wanted} could not be resolved to compare"]
    kms = aws("kms")
    ids = [kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] for key in (actual, wanted)]
    return [] if ids[0] == ids[1] else [f"encrypted with key {ids[0]}, not the template's {ids[1]}"]


def _read(call: Callable[..., Any], **kwargs: Any) -> tuple[Any, list[str]]:
    answer = dict(call(**kwargs))
    answer.pop("ResponseMetadata", None)
    return answer, []


@probe("AWS::S3::Bucket")
def _bucket(aws: Clients, bucket: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    s3 = aws("s3")
    s3.head_bucket(Bucket=bucket)
    problems = []
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    wanted = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [{}])[0]
    wanted_algorithm = wanted.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
    if wanted_algorithm and default["SSEAlgorithm"] != wanted_algorithm:
        problems.append(f"encrypted with {default['SSEAlgorithm']}, not {wanted_algorithm}")
    wanted_key = wanted.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
    problems += key_differs(aws, default.get("KMSMasterKeyID"), wanted_key)
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    if props.get("VersioningConfiguration", {}).get("Status") != versioning:
        problems.append(
            f"versioning {versioning}, the template says "
            f"{props.get('VersioningConfiguration', {}).get('Status')}"
        )
    logging = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {})
    wanted_logging = props.get("LoggingConfiguration", {}).get("DestinationBucketName")
    if wanted_logging and logging.get("TargetBucket") != wanted_logging:
        problems.append(f"access logs go to {logging.get('TargetBucket')}, not {wanted_logging}")
    return {"Bucket": bucket, "Encryption": default, "Logging": logging}, problems


@probe("AWS::KMS::Key")
def _key(aws: Clients, key: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    metadata = aws("kms").describe_key(KeyId=key)["KeyMetadata"]
    rotation = aws("kms").get_key_rotation_status(KeyId=key)["KeyRotationEnabled"]
    problems = [] if rotation == bool(props.get("EnableKeyRotation")) else ["key rotation differs"]
    return {"KeyId": metadata["KeyId"], "Enabled": metadata["Enabled"]}, problems


@probe("AWS::IAM::Role")
def _role(aws: Clients, role: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    return {"Role": aws("iam").get_role(RoleName=role)["Role"]["Arn"]}, []


@probe("AWS::IAM::ManagedPolicy")
def _policy(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    policy = aws("iam").get_policy(PolicyArn=arn)["Policy"]
    attached = policy.get("AttachmentCount", 0)
    expected = len(props.get("Roles", []))
    problems = [] if attached >= expected else [f"attached to {attached} of {expected} roles"]
    return {"Policy": arn}, problems


@probe("AWS::Lambda::Function")
def _function(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    configuration = aws("lambda").get_function_configuration(FunctionName=name)
    code = props.get("Code", {})
    problems = []
    if "S3Bucket" in code:
        asset = aws("s3").get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
        expected = base64.b64encode(hashlib.sha256(asset).digest()).decode()
        if configuration["CodeSha256"] != expected:
            problems.append(f"code {configuration['CodeSha256']} is not the asset's {expected}")
    for key in ("Handler", "Runtime"):
        if key in props and configuration.get(key) != props[key]:
            problems.append(f"{key} {configuration.get(key)}, the template says {props[key]}")
    return {
        "Environment": configuration.get("Environment", {}),
        "Role": configuration["Role"],
    }, problems


@probe("AWS::Lambda::Permission")
def _permission(aws: Clients, statement: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    """The function's policy holds a statement for the template's principal and action."""
    policy = json.loads(aws("lambda").get_policy(FunctionName=props["FunctionName"])["Policy"])
    found = [s for s in policy["Statement"] if s.get("Action") == props["Action"]
             and props["Principal"] in json.dumps(s.get("Principal"))]  # fmt: skip
    problems = [] if found else [f"no statement lets {props['Principal']} {props['Action']}"]
    return {"Function": props["FunctionName"]}, problems


@probe("AWS::Lambda::EventInvokeConfig")
def _invoke_config(aws: Clients, physical: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    return _read(
        aws("lambda").get_function_event_invoke_config,
        FunctionName=props["FunctionName"],
        Qualifier=props["Qualifier"],
    )


@probe("AWS::Logs::LogGroup")
def _log_group(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = [g for g in groups if g["logGroupName"] == name]
    if not found:
        raise LookupError(f"no log group {name}")
    problems = key_differs(aws, found[0].get("kmsKeyId"), props.get("KmsKeyId"))
    return {"LogGroup": name, "Key": found[0].get("kmsKeyId")}, problems


@probe("AWS::Logs::LogStream")
def _log_stream(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    streams = aws("logs").describe_log_streams(
        logGroupName=props["LogGroupName"], logStreamNamePrefix=name
    )["logStreams"]
    if not any(s["logStreamName"] == name for s in streams):
        raise LookupError(f"no log stream {name}")
    return {"LogStream": name}, []


@probe("AWS::Logs::MetricFilter")
def _metric_filter(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    filters = aws("logs").describe_metric_filters(
        logGroupName=props["LogGroupName"], filterNamePrefix=name
    )["metricFilters"]
    found = [f for f in filters if f["filterName"] == name]
    if not found:
        raise LookupError(f"no metric filter {name}")
    problems = [] if found[0]["filterPattern"] == props["FilterPattern"] else ["pattern differs"]
    return found[0], problems


@probe("AWS::SNS::Topic")
def _topic(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    attributes = aws("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    problems = key_differs(aws, attributes.get("KmsMasterKeyId"), props.get("KmsMasterKeyId"))
    return {"Topic": arn, "Key": attributes.get("KmsMasterKeyId")}, problems


@probe("AWS::SQS::Queue")
def _queue(aws: Clients, url: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    attributes = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    problems = key_differs(aws, attributes.get("KmsMasterKeyId"), props.get("KmsMasterKeyId"))
    return {"Queue": attributes["QueueArn"], "Key": attributes.get("KmsMasterKeyId")}, problems


@probe("AWS::StepFunctions::StateMachine")
def _state_machine(aws: Clients, arn: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    described = aws("stepfunctions").describe_state_machine(stateMachineArn=arn)
    definition = json.loads(described["definition"])
    problems = []
    for state in _states(definition):
        resource, parameters = str(state.get("Resource", "")), state.get("Parameters", {})
        if resource.endswith(("glue:startCrawler", "glue:getCrawler")):
            try:  # a crawler's name is under "Name", which the reference walk cannot tell
                aws("glue").get_crawler(Name=parameters["Name"])
            except Exception as error:  # reported as the definition's problem
                problems.append(f"starts crawler {parameters.get('Name')!r}: {error}")
    return {"Definition": definition, "Role": described["roleArn"]}, problems


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state of a definition, those of parallel branches and maps included."""
    found = []
    for state in definition.get("States", {}).values():
        found.append(state)
        for branch in [*state.get("Branches", []), state.get("ItemProcessor") or {}]:
            found += _states(branch)
    return found


@probe("AWS::Events::Rule")
def _rule(aws: Clients, name: str, props: dict[str, Any]) -> tuple[Any, list[str]]:
    events = aws("events")
    rule = events.describe_rule(Name=name)
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    problems = [] if len(targets) == len(props.get("Targets", [])) else ["targets differ"]
    return {"Pattern": rule.get("EventPattern"), "Targets": targets}, problems
