"""Redshift Serverless over the lake, for teams that want a warehouse beside Athena.

Off by default (``redshift.enabled``): a workgroup's base capacity is billed while queries
run, and its VPC is one more thing to own. When on, it queries the curated and analytics
zones in place (Redshift Spectrum through the Glue catalog), with Lake Formation deciding
what its role may read: the analyst's view, no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_redshiftserverless as redshift
from constructs import Construct

from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.removal import data_removal_policy, warn_data_removal
from cdk_constructs.common.service_trust import trusted_service
from cdk_constructs.common.wildcards import allow_wildcards, wildcard_statement

PORT = 5439
CIDR = "10.40.0.0/20"


class ServerlessWarehouse(Construct):
    """A VPC with isolated subnets only (no NAT gateway, no internet), a KMS-encrypted
    namespace whose admin password Redshift keeps in Secrets Manager, a workgroup reachable
    from inside the VPC only, and the role it reads the lake with."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        encryption_key: kms.IKey,
        log_key: kms.IKey,
        availability_zones: Sequence[str],
        base_capacity: int,
        databases: list[str],
        log_retention_days: int,
        remove_on_destroy: bool,
    ) -> None:
        """Create the warehouse.

        :param name: namespace and workgroup name (``datalake-<env>``).
        :param encryption_key: the key of the namespace and its admin secret: the curated
            key, since the warehouse holds what the analyst reads.
        :param log_key: the key of the flow log group (the operations key).
        :param availability_zones: three zones Redshift Serverless supports in the region.
        :param databases: the Glue databases its role may read table definitions of.
        :param remove_on_destroy: delete the namespace (its data) with the stack. Default:
            kept, with a final snapshot.
        """
        super().__init__(scope, id)
        self.vpc = self._vpc(availability_zones)
        self._log_flows(
            name=name,
            encryption_key=log_key,
            log_retention_days=log_retention_days,
            remove_on_destroy=remove_on_destroy,
        )
        self.security_group = self._security_group(name)
        self.role = self._role(name, databases)
        self.namespace = self._namespace(
            name, encryption_key=encryption_key, remove_on_destroy=remove_on_destroy
        )
        self.workgroup = self._workgroup(name, base_capacity=base_capacity)

    def _vpc(self, availability_zones: Sequence[str]) -> ec2.Vpc:
        """Isolated subnets only, one per zone: no NAT gateway and no route to the internet."""
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(CIDR),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Warehouse", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            restrict_default_security_group=False,
        )
        acknowledge(
            vpc,
            "No resource uses the VPC's default security group (the workgroup has its own); "
            "closing it would take a custom-resource Lambda function in every warehouse.",
            *(f"{pack}-VPCDefaultSecurityGroupClosed"
              for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")),
        )  # fmt: skip
        return vpc

    def _log_flows(
        self,
        *,
        name: str,
        encryption_key: kms.IKey,
        log_retention_days: int,
        remove_on_destroy: bool,
    ) -> None:
        """The VPC's flow logs, in an encrypted log group of their own."""
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                EncryptedLogGroup(
                    self,
                    "FlowLogs",
                    encryption_key=encryption_key,
                    retention_days=log_retention_days,
                    holds="the warehouse VPC's flow logs",
                    remove_on_destroy=remove_on_destroy,
                ),
                iam_role=ManagedRole(
                    self,
                    "FlowLogRole",
                    description=f"{name}: delivers the VPC's flow logs.",
                    assumed_by=trusted_service(self, "vpc-flow-logs.amazonaws.com"),
                ),
            ),
        )

    def _security_group(self, name: str) -> ec2.SecurityGroup:
        """The workgroup's security group: SQL in from the VPC's own range, nothing out."""
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description=f"{name} workgroup: SQL clients inside the VPC only.",
            allow_all_outbound=False,
        )
        security_group.add_ingress_rule(
            ec2.Peer.ipv4(CIDR), ec2.Port.tcp(PORT), "SQL from inside the VPC"
        )
        return security_group

    def _role(self, name: str, databases: list[str]) -> ManagedRole:
        """The role Redshift reads the lake with: table definitions of ``databases`` from the
        Glue catalog, data through Lake Formation (whose grants decide what it reads)."""
        stack = Stack.of(self)
        role = ManagedRole(
            self,
            "Role",
            description=f"{name}: reads the lake through the Glue catalog and Lake Formation.",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("redshift.amazonaws.com"),
                iam.ServicePrincipal("redshift-serverless.amazonaws.com"),
            ),
        )
        tables = {
            database: stack.format_arn(
                service="glue", resource="table", resource_name=f"{database}/*"
            )
            for database in databases
        }
        glue = [stack.format_arn(service="glue", resource="catalog")]
        for database in databases:
            glue += [
                stack.format_arn(service="glue", resource="database", resource_name=database),
                tables[database],
            ]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
                         "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
                         "glue:BatchGetPartition"],
                resources=glue,
            )
        )  # fmt: skip
        kind = "warehouse role"
        role.add_to_principal_policy(wildcard_statement(kind, ["lakeformation:GetDataAccess"]))
        allow_wildcards(role, kind)
        acknowledge(
            role,
            "Tables come and go in the zones' databases, so catalog reads name the blueprint's "
            "own databases and all their tables; Lake Formation grants decide what it reads.",
            *(f"AwsSolutions-IAM5[Resource::{in_finding(self, t)}]" for t in tables.values()),
        )
        return role

    def _namespace(
        self, name: str, *, encryption_key: kms.IKey, remove_on_destroy: bool
    ) -> redshift.CfnNamespace:
        """The namespace (the warehouse's storage): encrypted with ``encryption_key``, its admin
        password kept by Redshift in Secrets Manager, its logs exported to CloudWatch."""
        namespace = redshift.CfnNamespace(
            self,
            "Namespace",
            namespace_name=name,
            db_name="lake",
            # Not "admin": a default admin name is what scanners and attackers try first.
            admin_username="lakeadmin",
            manage_admin_password=True,
            admin_password_secret_kms_key_id=encryption_key.key_arn,
            kms_key_id=encryption_key.key_arn,
            iam_roles=[self.role.role_arn],
            default_iam_role_arn=self.role.role_arn,
            log_exports=["userlog", "connectionlog", "useractivitylog"],
            # Kept data leaves a snapshot when the stack goes (kept 30 days).
            final_snapshot_name=None if remove_on_destroy else f"{name}-final",
            final_snapshot_retention_period=None if remove_on_destroy else 30,
        )
        namespace.apply_removal_policy(data_removal_policy(remove_on_destroy))
        warn_data_removal(namespace, remove_on_destroy, "this namespace and its tables")
        return namespace

    def _workgroup(self, name: str, *, base_capacity: int) -> redshift.CfnWorkgroup:
        """The workgroup (the warehouse's compute), in the isolated subnets, not public."""
        workgroup = redshift.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=name,
            namespace_name=name,
            base_capacity=base_capacity,
            publicly_accessible=False,
            enhanced_vpc_routing=False,
            subnet_ids=self.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            port=PORT,
        )
        # The workgroup names its namespace by name, which CloudFormation cannot follow.
        workgroup.add_dependency(self.namespace)
        return workgroup
