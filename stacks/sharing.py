"""The one way stacks use each other's resources: lent under a name, borrowed as objects.

A producing stack lends a resource under a name (``Lender.lend``): its ARN, name or URL become
outputs named after it (``RawBucketArn``, ``RawBucketName``). A consuming stack borrows it
(``Borrowed``) and gets an object in its own scope, made from those outputs through an
explicit weak reference, ``Fn::GetStackOutput``:

* weak, so there is no export: a consumer that stops using a value never blocks its
  producer's update (a strong ``Fn::ImportValue`` deadlocks there);
* explicit, so the value is final when the consumer is built: a cdk-nag acknowledgment can
  name the ARN (CDK's automatic references are settled only at synthesis);
* named, so the outputs are a contract that moving a construct cannot rename.

A stack never hands one of its resources to a construct of another stack (that would make one
of CDK's automatic references; a test finds none in any template), and output names are
strings only here and in ``lend`` calls. Borrowing adds the stack dependency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

T = TypeVar("T")

# What is published of each kind of resource, each output named <name><attribute>.
_ATTRIBUTES: tuple[tuple[type, dict[str, Callable[[Any], str]]], ...] = (
    (s3.Bucket, {"Arn": lambda b: b.bucket_arn, "Name": lambda b: b.bucket_name}),
    (kms.Key, {"Arn": lambda k: k.key_arn}),
    (secretsmanager.Secret, {"Arn": lambda s: s.secret_arn}),
    (iam.Role, {"Arn": lambda r: r.role_arn, "Name": lambda r: r.role_name}),
    (iam.ManagedPolicy, {"Arn": lambda p: p.managed_policy_arn}),
    (logs.LogGroup, {"Name": lambda g: g.log_group_name}),
    (sns.Topic, {"Arn": lambda t: t.topic_arn}),
    (sqs.Queue, {"Arn": lambda q: q.queue_arn, "Name": lambda q: q.queue_name,
                 "Url": lambda q: q.queue_url}),
    (lambda_.Function, {"Name": lambda f: f.function_name}),
    (events.Rule, {"Name": lambda r: r.rule_name}),
    (glue.Database, {"Name": lambda d: d.database_name}),
    (cloudtrail.CfnTrail, {"Arn": lambda t: t.attr_arn}),
)  # fmt: skip


@dataclass(frozen=True)
class _Lent:
    lender: cdk.Stack
    name: str
    key: kms.IKey | None  # the key a bucket's objects are encrypted with


class Lender:
    """For a stack whose resources later stacks use: ``lend`` each of them once."""

    def lend(self, resource: IConstruct, name: str, *, key: kms.IKey | None = None) -> None:
        """Publish ``resource`` under ``name`` for other stacks to borrow.

        :param key: for a bucket, the key its objects are encrypted with (lent too), so a
            borrower's grants include it. Default: none.
        """
        assert isinstance(self, cdk.Stack)
        if cdk.Stack.of(resource).node.path != self.node.path:
            raise ValueError(f"{self.node.path} lends {resource.node.path}, not its own")
        attributes = next((a for kind, a in _ATTRIBUTES if isinstance(resource, kind)), None)
        if attributes is None:
            raise TypeError(f"{resource.node.path}: no way to lend a {type(resource).__name__}")
        for attribute, value in attributes.items():
            cdk.CfnOutput(self, f"{name}{attribute}", value=value(resource))
        self.lent[resource.node.path] = _Lent(self, name, key)

    @property
    def lent(self) -> dict[str, _Lent]:
        """What this stack lends, by the construct path of each resource."""
        if not hasattr(self, "_lent"):
            self._lent: dict[str, _Lent] = {}
        return self._lent


class Borrowed:
    """Resources other stacks lent, as objects in ``consumer``'s scope, each made once."""

    def __init__(self, consumer: cdk.Stack) -> None:
        self.consumer = consumer
        self._made: dict[str, Any] = {}

    def key(self, key: kms.IKey) -> kms.IKey:
        return self._once(key, lambda id, v: kms.Key.from_key_arn(self.consumer, id, v("Arn")))

    def bucket(self, bucket: s3.IBucket) -> s3.IBucket:
        key = self._lent(bucket).key
        return self._once(
            bucket,
            lambda id, v: s3.Bucket.from_bucket_attributes(
                self.consumer,
                id,
                bucket_arn=v("Arn"),
                bucket_name=v("Name"),
                encryption_key=self.key(key) if key else None,
            ),
        )

    def secret(self, secret: secretsmanager.ISecret) -> secretsmanager.ISecret:
        return self._once(
            secret,
            lambda id, v: secretsmanager.Secret.from_secret_complete_arn(
                self.consumer, id, v("Arn")
            ),
        )

    def role(self, role: iam.IRole) -> iam.IRole:
        """The role, by name: to attach policies to (its ARN is formatted from the name)."""
        return self._once(role, lambda id, v: iam.Role.from_role_name(self.consumer, id, v("Name")))

    def principal_arn(self, role: iam.IRole) -> str:
        """The role's exact ARN: to name it in grants and registrations."""
        return self._value(role, "Arn")

    def managed_policy(self, policy: iam.IManagedPolicy) -> iam.IManagedPolicy:
        return self._once(
            policy,
            lambda id, v: iam.ManagedPolicy.from_managed_policy_arn(self.consumer, id, v("Arn")),
        )

    def log_group(self, log_group: logs.ILogGroup) -> logs.ILogGroup:
        return self._once(
            log_group,
            lambda id, v: logs.LogGroup.from_log_group_name(self.consumer, id, v("Name")),
        )

    def topic(self, topic: sns.ITopic) -> sns.ITopic:
        return self._once(
            topic, lambda id, v: sns.Topic.from_topic_arn(self.consumer, id, v("Arn"))
        )

    def queue(self, queue: sqs.IQueue) -> sqs.IQueue:
        """The queue, by all three of its names (cfn-lint cannot follow a split of a
        cross-stack value, which deriving name and URL from the ARN would make)."""
        return self._once(
            queue,
            lambda id, v: sqs.Queue.from_queue_attributes(
                self.consumer, id, queue_arn=v("Arn"), queue_name=v("Name"), queue_url=v("Url")
            ),
        )

    def function(self, function: lambda_.IFunction) -> lambda_.IFunction:
        return self._once(
            function,
            lambda id, v: lambda_.Function.from_function_name(self.consumer, id, v("Name")),
        )

    def database(self, database: glue.IDatabase) -> glue.IDatabase:
        arn = self.consumer.format_arn
        return self._once(
            database,
            lambda id, v: glue.Database.from_database_arn(
                self.consumer,
                id,
                arn(service="glue", resource="database", resource_name=v("Name")),
            ),
        )

    def arn(self, resource: IConstruct) -> str:
        """A lent resource's ARN, where an ARN is all the consumer needs (a trail's, to scope a
        policy to it)."""
        return self._value(resource, "Arn")

    def name(self, resource: IConstruct) -> str:
        """A lent resource's name, where a name is all the consumer needs (a rule's)."""
        return self._value(resource, "Name")

    def _lent(self, resource: IConstruct) -> _Lent:
        owner = cdk.Stack.of(resource)
        lent = owner.lent.get(resource.node.path) if isinstance(owner, Lender) else None
        if lent is None:
            raise ValueError(
                f"{self.consumer.node.path} uses {resource.node.path}, which its stack does "
                "not lend: lend it there (Lender.lend)"
            )
        return lent

    def _value(self, resource: IConstruct, attribute: str) -> str:
        lent = self._lent(resource)
        self.consumer.add_stack_dependency(lent.lender)
        return cdk.Fn.get_stack_output(
            lent.lender.stack_name, f"{lent.name}{attribute}", cdk.Aws.REGION
        )

    def _once(self, resource: IConstruct, make: Callable[[str, Callable[[str], str]], T]) -> T:
        """``make(id, value)`` once per resource: ``value(attribute)`` reads a lent output."""
        path = resource.node.path
        if path not in self._made:
            lent = self._lent(resource)
            self._made[path] = make(
                f"{lent.lender.node.id}{lent.name}", lambda a: self._value(resource, a)
            )
        return cast(T, self._made[path])
