"""Every name and ARN in what was deployed leads to something that exists.

Only the deployment's own account is searched: an ARN of another account (an alerts topic
that exists already, a person's role) is outside the emulator and is not checked.

A deployed resource can exist and still be broken: a Glue job whose arguments name a bucket
that was never made, a state machine that starts a job of another name, a crawler writing to
a database that is not there, an alarm notifying a topic that does not exist. These are the
references CloudFormation does not check and a user finds at the first run. ``broken``
walks what the probes read back and asks the emulated services for each one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from deploy.probes import Clients

_S3_URI = re.compile(r"^s3://([a-z0-9.\-]+)")
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$")
# Keys whose value names a Glue database or job, wherever they occur.
_DATABASE_KEYS = {"DatabaseName", "Database"}
_JOB_KEYS = {"JobName"}


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, string) of every string in ``node``, with the key that holds it."""
    if isinstance(node, dict):
        for k, value in node.items():
            yield from _strings(value, str(k).removesuffix(".$"))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)
    elif isinstance(node, str):
        yield key, node


def _arn_exists(aws: Clients, service: str, account: str, rest: str, arn: str) -> None:
    """Raise unless the resource of ``arn`` exists (services whose ARNs this app uses)."""
    checks: dict[str, Callable[[], Any]] = {
        "s3": lambda: aws("s3").head_bucket(Bucket=rest.split("/")[0]),
        "sns": lambda: aws("sns").get_topic_attributes(TopicArn=arn),
        "sqs": lambda: aws("sqs").get_queue_url(QueueName=rest),
        "lambda": lambda: aws("lambda").get_function(FunctionName=rest.split(":")[1]),
        "states": lambda: aws("stepfunctions").describe_state_machine(stateMachineArn=arn),
        "iam": lambda: (
            aws("iam").get_role(RoleName=rest.split("/")[-1]) if rest.startswith("role/") else None
        ),
        "kms": lambda: aws("kms").describe_key(KeyId=arn) if rest.startswith("key/") else None,
        "firehose": lambda: aws("firehose").describe_delivery_stream(
            DeliveryStreamName=rest.split("/")[-1]
        ),
        "events": lambda: (
            aws("events").describe_rule(Name=rest.split("/")[-1])
            if rest.startswith("rule/")
            else None
        ),
    }
    if service in checks:
        checks[service]()


def _account(aws: Clients) -> str:
    return str(aws("sts").get_caller_identity()["Account"])


def broken(aws: Clients, read: Any) -> list[str]:
    """The references in ``read`` (what a probe read back) that lead nowhere."""
    problems, own = [], _account(aws)
    for key, text in _strings(read):
        try:
            if (uri := _S3_URI.match(text)) is not None:
                aws("s3").head_bucket(Bucket=uri.group(1))
            elif (arn := _ARN.match(text)) is not None and "*" not in text:
                service, _, account, rest = arn.groups()
                # A bucket's ARN names no account; a service integration
                # (arn:aws:states:::glue:...) names nothing; another account's resource (an
                # existing alerts topic) is outside the emulator.
                if service == "s3" or (account == own):
                    _arn_exists(aws, service, account, rest, text)
            elif key in _DATABASE_KEYS:
                aws("glue").get_database(Name=text)
            elif key in _JOB_KEYS:
                aws("glue").get_job(JobName=text)
        except Exception as error:  # any refusal means the reference is broken
            problems.append(f"{key or 'value'} {text!r} leads nowhere ({type(error).__name__})")
    return problems
