"""An IAM role for one persona of the data platform, and the IAM side of what it may reach.

Which databases, tables and columns a persona reads is decided by Lake Formation grants to its
role (see ``persona_grants``); IAM only lets the role make the calls: catalog reads of its
zones, Lake Formation's data credentials when it reads data, and the calls of its duties
(``model.vocabulary.PERSONAS``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.kms_conditions import s3_service
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.wildcards import PINNED, allow_wildcards, wildcard_statement
from model.vocabulary import ERASURE_RECORD_PREFIX, ERASURE_REQUEST_PREFIX, Persona

_CATALOG_READ = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables"]
_PARTITION_READ = ["glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
# The trail's own settings, on its ARN.
_TRAIL_REVIEW = ["cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]
# Reading the trail's log group: its events and streams (LogGroup.grant_read without
# logs:DescribeLogGroups, which works on "*" only and is granted there).
_LOG_GROUP_READ = [
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogGroupFields",
    "logs:DescribeLogStreams",
]
# Running an erasure job and following its runs.
_ERASURE_RUNS = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:GetJob"]
# Writing a request, reading it back, and deleting every version of it once the jobs ended.
_ERASURE_REQUESTS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]


class PersonaRole(ManagedRole):
    """A role people assume to work as one persona; its data access comes from Lake Formation.

    IAM gives the role the API calls its persona needs (the ``allow_*`` methods); which
    databases, tables and columns those calls may reach is decided by Lake Formation grants.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        persona: Persona,
        principals: Sequence[str] = (),
    ) -> None:
        """Create the role.

        :param persona: the persona it is for (its title shows in the description).
        :param principals: IAM role or user ARNs that may assume it, and no one else (an
            account's root ARN is refused: it would trust the whole account). Default: none
            named; the role then trusts this account's IAM policies and requires MFA, so
            nobody can use it until an administrator grants ``sts:AssumeRole`` on it to
            someone, a sandbox convenience that production environments refuse.
        """
        trusted: iam.IPrincipal
        accounts = [arn for arn in principals if arn.endswith(":root")]
        if accounts:
            raise ValueError(
                f"{persona.name}: {accounts[0]} trusts a whole account; name the roles or users "
                "who work as this persona instead"
            )
        if principals:
            trusted = iam.CompositePrincipal(*(iam.ArnPrincipal(arn) for arn in principals))
        else:
            trusted = iam.AccountRootPrincipal().with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
        super().__init__(
            scope,
            id,
            description=f"The {persona.title} persona of the data platform.",
            assumed_by=trusted,
            max_session_duration=Duration.hours(4),
        )
        self.persona = persona

    def allow_queries(self, databases: Sequence[str]) -> None:
        """Catalog and partition reads of ``databases``, and Lake Formation's data credentials."""
        self.add_to_principal_policy(
            iam.PolicyStatement(
                actions=_CATALOG_READ + _PARTITION_READ, resources=self._catalog_arns(databases)
            )
        )
        self._allow_on_every_resource("persona role reading data", ["lakeformation:GetDataAccess"])
        self._acknowledge_table_wildcards(databases)

    def allow_definitions(self, databases: Sequence[str]) -> None:
        """Table definitions (columns, tags, owners) of ``databases``: no partitions, no data."""
        self.add_to_principal_policy(
            iam.PolicyStatement(actions=_CATALOG_READ, resources=self._catalog_arns(databases))
        )
        self._acknowledge_table_wildcards(databases)

    def operate_pipelines(self, *, crawlers: str, ingest_review_policy: iam.IManagedPolicy) -> None:
        """Start and watch the crawlers named by the pattern ``crawlers`` (datalake-sandbox-*),
        and read files waiting in landing or quarantined in raw (which are not catalogued)."""
        arn = Stack.of(self).format_arn(service="glue", resource="crawler", resource_name=crawlers)
        self.add_to_principal_policy(
            iam.PolicyStatement(actions=["glue:StartCrawler", "glue:GetCrawler"], resources=[arn])
        )
        self._allow_on_every_resource(
            "persona role operating pipelines", ["glue:GetCrawlerMetrics"]
        )
        acknowledge(
            self,
            "The engineer operates every dataset's crawler, and datasets are added over time; "
            "the pattern covers only crawlers named for this project and environment.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, arn)}]",
        )
        self.add_managed_policy(ingest_review_policy)

    def allow_erasure(
        self,
        *,
        jobs: str,
        pipelines: str,
        raw: s3.IBucket,
        personal_data_key: kms.IKey,
        audit: s3.IBucket,
        audit_key: kms.IKey,
    ) -> None:
        """Carry out erasure requests: start and follow the erasure jobs named by the
        pattern ``jobs`` (datalake-sandbox-*-forget); list the runs of the pipelines named
        by the pattern ``pipelines`` (the command refuses while one runs); write, read and
        delete the request objects under ``_erasure/requests/`` of ``raw`` (encrypted with
        the personal-data key, through S3 only: the key also encrypts the salt); read the
        jobs' records under ``erasure/`` of ``audit``, decrypting with the audit key only
        objects there (the audit bucket has no bucket key, so S3 names each object in the
        encryption context). Nothing else of the audit bucket: the trail's files stay the
        security officer's. Each statement's Sid starts with ``Erasure``, so reviews and
        tests tell them from the persona's others."""
        stack = Stack.of(self)
        job_arn = stack.format_arn(service="glue", resource="job", resource_name=jobs)
        pipeline_arn = stack.format_arn(service="states", resource="stateMachine",
                                        resource_name=pipelines,
                                        arn_format=ArnFormat.COLON_RESOURCE_NAME)  # fmt: skip
        requests = f"{ERASURE_REQUEST_PREFIX}/*"
        records = audit.arn_for_objects(f"{ERASURE_RECORD_PREFIX}/*")
        via_s3 = {"kms:ViaService": s3_service(self)}
        for sid, actions, resources, conditions in (
            ("ErasureRuns", _ERASURE_RUNS, [job_arn], None),
            ("ErasurePipelineRuns", ["states:ListExecutions"], [pipeline_arn], None),
            ("ErasureRequests", _ERASURE_REQUESTS, [raw.arn_for_objects(requests)], None),
            ("ErasureRequestList", ["s3:ListBucket", "s3:ListBucketVersions"],
             [raw.bucket_arn], {"StringLike": {"s3:prefix": [requests]}}),
            ("ErasureRequestKey", ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
             [personal_data_key.key_arn], {"StringEquals": via_s3}),
            ("ErasureRecords", ["s3:GetObject"], [records], None),
            ("ErasureRecordList", ["s3:ListBucket"], [audit.bucket_arn],
             {"StringLike": {"s3:prefix": [f"{ERASURE_RECORD_PREFIX}/*"]}}),
            ("ErasureRecordKey", ["kms:Decrypt"], [audit_key.key_arn],
             {"StringEquals": via_s3,
              "StringLike": {"kms:EncryptionContext:aws:s3:arn": records}}),
        ):  # fmt: skip
            self.add_to_principal_policy(
                iam.PolicyStatement(
                    sid=sid, actions=actions, resources=resources, conditions=conditions
                )
            )
        acknowledge(
            self,
            "The engineer runs every dataset's erasure job, and datasets are added over time: "
            "the job pattern covers only this project's and environment's erasure jobs, the "
            "pipeline pattern only its pipelines, whose runs it lists; the "
            "object patterns are the erasure requests in raw and the erasure records in the "
            "audit bucket, nothing else of either.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, job_arn)}]",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, pipeline_arn)}]",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, raw.arn_for_objects(requests))}]",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, records)}]",
        )

    def allow_audit_review(
        self,
        audit_read_policy: iam.IManagedPolicy,
        trail_log_group: logs.ILogGroup,
        trail_arn: str,
    ) -> None:
        """The audit trail (files, log group, its settings on ``trail_arn``) and the
        governance configuration."""
        self.add_managed_policy(audit_read_policy)
        trail_log_group.grant(self, *_LOG_GROUP_READ)
        self.add_to_principal_policy(
            iam.PolicyStatement(actions=_TRAIL_REVIEW, resources=[trail_arn])
        )
        # Reviewing the trail and the governance configuration on "*": exactly what is pinned
        # for auditing (none of it has a resource type, none reads table data).
        self._allow_on_every_resource("persona role auditing", PINNED["persona role auditing"])
        acknowledge(
            self,
            "A log group's ARN ends in :* to cover its log streams; the role reads the trail's "
            "log group and no other.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, trail_log_group.log_group_arn)}]",
        )

    def _allow_on_every_resource(self, kind: str, actions: Sequence[str]) -> None:
        """``actions`` on ``*``: each must be pinned for ``kind`` (what the persona's entry
        gives it: reading data, or one of its duties)."""
        self.add_to_principal_policy(wildcard_statement(kind, actions))
        allow_wildcards(self, kind)

    def _catalog_arns(self, databases: Sequence[str]) -> list[str]:
        stack = Stack.of(self)
        arns = [stack.format_arn(service="glue", resource="catalog")]
        for database in databases:
            arns.append(
                stack.format_arn(service="glue", resource="database", resource_name=database)
            )
            arns.append(self._tables(database))
        return arns

    def _tables(self, database: str) -> str:
        return Stack.of(self).format_arn(
            service="glue", resource="table", resource_name=f"{database}/*"
        )

    def _acknowledge_table_wildcards(self, databases: Sequence[str]) -> None:
        acknowledge(
            self,
            "Tables are created by crawlers and declarations over time, so catalog reads name "
            "the blueprint's own databases and all their tables; which tables and columns a "
            "query may read is decided by Lake Formation grants, not by this IAM policy.",
            *(
                f"AwsSolutions-IAM5[Resource::{in_finding(self, self._tables(database))}]"
                for database in databases
            ),
        )
