"""The crawler that catalogues one dataset's raw data as it arrives."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.wildcards import allow_wildcards, wildcard_statement
from model.datasets import Dataset

WILDCARD_KIND = "raw crawler role"
# The crawler's settings beyond its CloudFormation properties (Glue's JSON configuration).
_CONFIGURATION = json.dumps(
    {
        "Version": 1.0,
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
        # One table, at the include path: a layout that would make more fails the crawl
        # instead of scattering tables the pipeline does not know.
        "CrawlerOutput": {
            "Partitions": {"AddOrUpdateBehavior": "InheritFromTable"},
            "Tables": {"TableThreshold": 1},
        },
        "CreatePartitionIndex": True,
    },
    sort_keys=True,
)


class RawCrawler(Construct):
    """A Glue crawler over ``s3://<raw bucket>/<dataset>/``, making one raw table.

    Settings, on purpose:

    * encrypted with the shared Glue security configuration;
    * ``CRAWL_NEW_FOLDERS_ONLY``: each run reads only the ingest-date folders added since the
      last, never the whole history again;
    * schema changes are logged, not applied (required by incremental crawls, and a changed
      source schema should be a decision, not a side effect); new partitions inherit the
      table's schema;
    * one table per dataset, at the include path (the dataset's folder): compatible schemas
      are combined, so ingest-date folders become partitions, and a run that would make a
      second table fails instead (table threshold 1);
    * CSV sources get a classifier built from the declaration's delimiter and header.

    It has no schedule of its own: the dataset's pipeline starts it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        name: str,
        database: glue.IDatabase,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        security_configuration: str,
    ) -> None:
        """Create the crawler, its role and its Lake Formation permissions.

        :param name: the crawler's name (pipelines start it by name).
        :param database: the raw zone's database.
        :param bucket: the raw zone's bucket.
        :param encryption_key: the operations key, of Glue's encrypted logs (raw's own key is
            used by Lake Formation's role, which reads raw for the crawler).
        :param security_configuration: name of the Glue security configuration.
        """
        super().__init__(scope, id)
        database_name = database.database_name
        self.role = self._role(
            dataset, name=name, database_name=database_name, encryption_key=encryption_key
        )
        classifier = self._csv_classifier(dataset, name=name)
        self.crawler = self._crawler(
            dataset,
            name=name,
            database_name=database_name,
            bucket=bucket,
            classifier=classifier,
            security_configuration=security_configuration,
        )
        self._grant_lake_formation(dataset, database_name=database_name, bucket=bucket)

    def _role(
        self, dataset: Dataset, *, name: str, database_name: str, encryption_key: kms.IKey
    ) -> ManagedRole:
        """The crawler's role: its dataset's table in the raw database, its own log groups.

        No S3 permissions: the crawler reads through Lake Formation credentials, vended for
        the registered raw location, so not the personal-data key either. The key is the
        operations key, for its encrypted CloudWatch logs.
        """
        stack = Stack.of(self)
        role = ManagedRole(
            self,
            "Role",
            description=f"The {name} crawler: reads raw {dataset.name} files.",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
        )
        encryption_key.grant(role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:UpdatePartition",
                    "glue:BatchUpdatePartition",
                    "glue:CreatePartitionIndex",
                ],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(
                        service="glue", resource="database", resource_name=database_name
                    ),
                    stack.format_arn(
                        service="glue",
                        resource="table",
                        resource_name=f"{database_name}/{dataset.name}",
                    ),
                ],
            )
        )
        role.add_to_principal_policy(
            wildcard_statement(
                WILDCARD_KIND, ["glue:GetSecurityConfiguration", "lakeformation:GetDataAccess"]
            )
        )
        allow_wildcards(role, WILDCARD_KIND)
        self._allow_crawler_logs(role)
        return role

    def _allow_crawler_logs(self, role: ManagedRole) -> None:
        """Let ``role`` write the log groups Glue names after a crawler's role, and no others."""
        log_groups = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws-glue/crawlers-role/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                         "logs:AssociateKmsKey"],
                resources=[log_groups],
            )
        )  # fmt: skip
        acknowledge(
            role,
            "Glue names a crawler's log group /aws-glue/crawlers-role/<role path>-<security "
            "configuration> and its streams by crawler run, so the role may write log groups "
            "under that prefix only.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, log_groups)}]",
        )

    def _csv_classifier(self, dataset: Dataset, *, name: str) -> glue.CfnClassifier | None:
        """For CSV sources, a classifier named ``name`` from the declaration's delimiter and
        header, so the crawler need not guess them; none for other formats."""
        if dataset.source.format != "csv":
            return None
        return glue.CfnClassifier(
            self,
            "CsvClassifier",
            csv_classifier=glue.CfnClassifier.CsvClassifierProperty(
                name=name,
                delimiter=dataset.source.delimiter,
                contains_header="PRESENT" if dataset.source.header else "ABSENT",
                header=[c.name for c in dataset.columns if not c.derived_from],
                quote_symbol='"',
            ),
        )

    def _crawler(
        self,
        dataset: Dataset,
        *,
        name: str,
        database_name: str,
        bucket: s3.IBucket,
        classifier: glue.CfnClassifier | None,
        security_configuration: str,
    ) -> glue.CfnCrawler:
        """The crawler itself, with the settings the class docstring lists."""
        crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=name,
            description=f"Catalogues raw {dataset.name} files as they arrive.",
            role=self.role.role_arn,
            database_name=database_name,
            targets=glue.CfnCrawler.TargetsProperty(
                s3_targets=[
                    glue.CfnCrawler.S3TargetProperty(
                        path=bucket.s3_url_for_object(f"{dataset.name}/")
                    )
                ]
            ),
            # The classifier is named after the crawler.
            classifiers=None if classifier is None else [name],
            crawler_security_configuration=security_configuration,
            lake_formation_configuration=glue.CfnCrawler.LakeFormationConfigurationProperty(
                use_lake_formation_credentials=True, account_id=Stack.of(self).account
            ),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(
                recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY"
            ),
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            configuration=_CONFIGURATION,
        )
        if classifier is not None:
            crawler.node.add_dependency(classifier)
        acknowledge(
            crawler,
            "The crawler uses the shared Glue security configuration of the catalog stack "
            "(referred to by name, so cdk-nag cannot follow it), which encrypts CloudWatch "
            "logs and bookmarks with the operations key; tests assert both.",
            "AwsSolutions-GL1",
        )
        return crawler

    def _grant_lake_formation(
        self, dataset: Dataset, *, database_name: str, bucket: s3.IBucket
    ) -> None:
        """Lake Formation: create the dataset's table in the raw database, over the dataset's
        folder of the raw location only (the crawler then owns that table). The crawler is
        created after both grants, so no run of it finds them missing."""
        account = Stack.of(self).account
        principal = lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty(
            data_lake_principal_identifier=self.role.role_arn
        )
        database_grant = lakeformation.CfnPrincipalPermissions(
            self,
            "CreatesTable",
            principal=principal,
            resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                database=lakeformation.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=account, name=database_name
                )
            ),
            permissions=["CREATE_TABLE", "DESCRIBE"],
            permissions_with_grant_option=[],
        )
        location_grant = lakeformation.CfnPrincipalPermissions(
            self,
            "UsesRawLocation",
            principal=principal,
            resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
                data_location=lakeformation.CfnPrincipalPermissions.DataLocationResourceProperty(
                    catalog_id=account, resource_arn=f"{bucket.bucket_arn}/{dataset.name}"
                )
            ),
            permissions=["DATA_LOCATION_ACCESS"],
            permissions_with_grant_option=[],
        )
        for grant in (database_grant, location_grant):
            self.crawler.node.add_dependency(grant)
