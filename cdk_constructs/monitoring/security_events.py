"""The trail events a security officer must hear about, each as a CloudWatch Logs filter pattern.

The set is the CIS AWS Foundations Benchmark's monitoring section (controls 4.1 to 4.15 of
v1.4 to v3.0; AWS Security Hub checks 4.1 to 4.14 as CloudWatch.1 to .14), with the
benchmark's patterns, plus Lake Formation permission changes, which decide who reads the lake.
Where a pattern here catches more than the benchmark's, the extra event names come after the
benchmark's own and the entry says why; ``tests/test_monitoring.py`` checks that each pattern
fires on every event its benchmark pattern fires on.
"""

from __future__ import annotations

from dataclasses import dataclass


def any_name(*names: str) -> str:
    """A pattern matching any of ``names`` as the event name, from whichever service."""
    return "{ " + " || ".join(f"($.eventName = {name})" for name in names) + " }"


def any_event(source: str, *names: str) -> str:
    """A pattern matching any of ``names`` as an event of the service ``source``."""
    calls = " || ".join(f"($.eventName = {name})" for name in names)
    return f"{{ ($.eventSource = {source}) && ({calls}) }}"


# CIS 4.4, in the benchmark's order; then what changes who may assume a role or how far a
# role's grants reach, which the benchmark leaves out although it decides who becomes a persona.
IAM_POLICY_CALLS = (
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
    "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
    "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
    "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
    "UpdateAssumeRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
)  # fmt: skip
# CIS 4.5; then PutEventSelectors, which can stop the S3 data events this lake's audit needs.
TRAIL_CALLS = (
    "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging",
    "PutEventSelectors",
)  # fmt: skip
# CIS 4.8; then the public access block, whose removal is how a bucket becomes public.
BUCKET_CONTROL_CALLS = (
    "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
    "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
    "DeleteBucketReplication", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
)  # fmt: skip
CONFIG_CALLS = (  # CIS 4.9
    "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
    "PutConfigurationRecorder",
)  # fmt: skip
SECURITY_GROUP_CALLS = (  # CIS 4.10
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
    "DeleteSecurityGroup",
)  # fmt: skip
NETWORK_ACL_CALLS = (  # CIS 4.11
    "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
)  # fmt: skip
GATEWAY_CALLS = (  # CIS 4.12
    "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
    "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
)  # fmt: skip
ROUTE_TABLE_CALLS = (  # CIS 4.13
    "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
    "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
)  # fmt: skip
VPC_CALLS = (  # CIS 4.14
    "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
    "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
    "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink",
    "EnableVpcClassicLink",
)  # fmt: skip
ORGANIZATIONS_CALLS = (  # CIS 4.15
    "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
    "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit",
    "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
    "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
    "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
)  # fmt: skip
LAKE_FORMATION_CONTROL_CALLS = (
    "GrantPermissions", "RevokePermissions", "BatchGrantPermissions", "BatchRevokePermissions",
    "PutDataLakeSettings", "CreateLFTag", "UpdateLFTag", "DeleteLFTag", "AddLFTagsToResource",
    "RemoveLFTagsFromResource", "RegisterResource", "DeregisterResource",
)  # fmt: skip


@dataclass(frozen=True)
class SecurityEvent:
    """``metric`` counts the trail events matching ``pattern``; ``control`` is the
    benchmark's control (and Security Hub's), or None for this blueprint's own."""

    metric: str
    control: str | None
    pattern: str
    meaning: str
    response: str


SECURITY_EVENTS = (
    SecurityEvent(
        "UnauthorizedApiCalls",
        "CIS 4.1, CloudWatch.2",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
        "an API call was refused for lack of permission",
        "find the caller in the trail; a person probing, or a role missing a grant",
    ),
    SecurityEvent(
        "ConsoleSignInWithoutMfa",
        "CIS 4.2, CloudWatch.3",
        # The benchmark's variant for accounts signed into through single sign-on: a federated
        # sign-in reports no MFA (the identity provider checked it), and a failed one is 4.6's.
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
        '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "an IAM user signed in to the console without MFA",
        "have the user enable MFA (or remove the user's password); if the sign-in was not "
        "theirs, disable the password and rotate their credentials",
    ),
    SecurityEvent(
        "RootAccountUse",
        "CIS 4.3, CloudWatch.1",
        '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
        '&& ($.eventType != "AwsServiceEvent") }',
        "the account's root user did something",
        "confirm who holds the root credentials and why they were used",
    ),
    SecurityEvent(
        "IamPolicyChanges",
        "CIS 4.4, CloudWatch.4",
        any_name(*IAM_POLICY_CALLS),
        "an IAM policy, a role's trust policy or a permissions boundary was created, changed, "
        "attached or detached",
        "compare with the deployed templates (CloudFormation drift detection); a change outside "
        "a deployment may widen who reaches the lake",
    ),
    SecurityEvent(
        "TrailChanges",
        "CIS 4.5, CloudWatch.5",
        any_name(*TRAIL_CALLS),
        "a CloudTrail trail was created, changed, stopped or deleted",
        "make sure the lake's trail still logs (GetTrailStatus); stopped logging hides "
        "everything after it",
    ),
    SecurityEvent(
        "ConsoleAuthenticationFailures",
        "CIS 4.6, CloudWatch.6",
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
        "a console sign-in failed authentication",
        "find the user and source address in the trail; repeated failures are someone "
        "guessing a password",
    ),
    SecurityEvent(
        "KeyDisabledOrScheduledForDeletion",
        "CIS 4.7, CloudWatch.7",
        any_event("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
        "a KMS key was disabled or scheduled for deletion",
        "if unplanned, cancel the deletion (CancelKeyDeletion) or enable the key at once: "
        "data under it becomes unreadable",
    ),
    SecurityEvent(
        "BucketPolicyChanges",
        "CIS 4.8, CloudWatch.8",
        any_event("s3.amazonaws.com", *BUCKET_CONTROL_CALLS),
        "a bucket's policy, ACL, public access block, CORS, lifecycle or replication changed",
        "compare with the deployed template (CloudFormation drift detection)",
    ),
    SecurityEvent(
        "ConfigChanges",
        "CIS 4.9, CloudWatch.9",
        any_event("config.amazonaws.com", *CONFIG_CALLS),
        "AWS Config's recorder or delivery channel was stopped, changed or deleted",
        "make sure the recorder still records (DescribeConfigurationRecorderStatus)",
    ),
    SecurityEvent(
        "SecurityGroupChanges",
        "CIS 4.10, CloudWatch.10",
        any_name(*SECURITY_GROUP_CALLS),
        "a security group was created, deleted or had a rule added or removed",
        "check the rule against the network's design; an opened port exposes what it guards",
    ),
    SecurityEvent(
        "NetworkAclChanges",
        "CIS 4.11, CloudWatch.11",
        any_name(*NETWORK_ACL_CALLS),
        "a network ACL or one of its entries was created, replaced or deleted",
        "check the change against the network's design",
    ),
    SecurityEvent(
        "NetworkGatewayChanges",
        "CIS 4.12, CloudWatch.12",
        any_name(*GATEWAY_CALLS),
        "an internet or customer gateway was created, attached, detached or deleted",
        "check the change against the network's design; a new gateway is a new way in or out",
    ),
    SecurityEvent(
        "RouteTableChanges",
        "CIS 4.13, CloudWatch.13",
        any_name(*ROUTE_TABLE_CALLS),
        "a route or route table was created, replaced, disassociated or deleted",
        "check the change against the network's design; a route decides where traffic leaves",
    ),
    SecurityEvent(
        "VpcChanges",
        "CIS 4.14, CloudWatch.14",
        any_name(*VPC_CALLS),
        "a VPC, its attributes or a peering connection changed",
        "check the change against the network's design; a peering joins two networks",
    ),
    SecurityEvent(
        "OrganizationsChanges",
        "CIS 4.15",
        any_event("organizations.amazonaws.com", *ORGANIZATIONS_CALLS),
        "AWS Organizations changed: an account, unit, policy or handshake (a member account "
        "leaving escapes the organization's policies)",
        "check the change with the organization's administrators",
    ),
    SecurityEvent(
        "LakeFormationPermissionChanges",
        None,
        any_event("lakeformation.amazonaws.com", *LAKE_FORMATION_CONTROL_CALLS),
        "a Lake Formation grant, setting, tag or registered location changed",
        "check the change against the governance stack; who may read what just changed",
    ),
)
