"""parliament, an IAM policy linter on AWS's own IAM definitions (bundled, so it runs offline),
over every policy the app synthesizes: identity policies and resource policies, in both
environments, with and without the warehouse. Its known false positives are listed once in
``FALSE_POSITIVES``, each with why; anything else fails.

parliament reads literal ARNs, so CloudFormation's intrinsics are rendered first: pseudo
parameters as example values, a reference to a resource as an ARN of its type, and a value
borrowed from another stack (``Fn::GetStackOutput``) as what that stack's output renders to.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from parliament import analyze_policy_string

from blueprint.factory import Blueprint
from tests.test_iam_wildcards import CONFIGURATIONS, configuration
from tools.markdown import DOCS, replace_block, table

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"}
_R, _A = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
# What a reference to a resource looks like as an ARN (Arn attribute, or Ref where the Ref
# is the ARN), by type: ``{r}`` region, ``{a}`` account, ``{id}`` logical ID.
ARNS = {
    "AWS::S3::Bucket": "arn:aws:s3:::{id}",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{id}:*",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{id}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{id}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{id}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{a}:policy/{id}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{id}-AbCdEf",
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{id}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{id}",
    "AWS::CloudTrail::Trail": "arn:aws:cloudtrail:{r}:{a}:trail/{id}",
    "AWS::KinesisFirehose::DeliveryStream": "arn:aws:firehose:{r}:{a}:deliverystream/{id}",
    "AWS::Events::Rule": "arn:aws:events:{r}:{a}:rule/{id}",
}
# Where a Ref is the ARN (for every other type it is a name or an ID).
REF_IS_ARN = {"AWS::SNS::Topic", "AWS::IAM::ManagedPolicy", "AWS::StepFunctions::StateMachine",
              "AWS::SecretsManager::Secret"}  # fmt: skip
POLICY_TYPES = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
}


def _mismatches(*actions: str) -> str:
    """A RESOURCE_MISMATCH detail naming only some of ``actions``."""
    names = "|".join(map(re.escape, actions))
    one = rf'\{{"action": "({names})", "required_format": "[^"]*"\}}'
    return rf"\[{one}(, {one})*\]"


# What s3:GetObject* and s3:List* (the wildcard actions of CDK's bucket grants) expand to that
# applies to no bucket or object: account-level listings, access points, access grants.
_S3_EXPANSIONS = _mismatches(
    "s3:GetObjectAttributes", "s3:ListAccessGrants", "s3:ListAccessGrantsInstances",
    "s3:ListAccessGrantsLocations", "s3:ListAccessPoints", "s3:ListAccessPointsForObjectLambda",
    "s3:ListAllMyBuckets", "s3:ListCallerAccessGrants", "s3:ListJobs",
    "s3:ListMultiRegionAccessPoints", "s3:ListStorageLensConfigurations",
    "s3:ListStorageLensGroups",
)  # fmt: skip


@dataclass(frozen=True)
class Known:
    """A parliament finding known here: on policies of ``policy_type``, of ``issue``, with a
    detail matching ``detail`` in full; ``why`` it is a false positive, or (``forced``) a
    true finding the service or CDK requires and that is accepted for that reason."""

    policy_type: str
    issue: str
    detail: str
    why: str
    forced: bool = False

    def matches(self, policy_type: str, issue: str, detail: str) -> bool:
        return (policy_type, issue) == (self.policy_type, self.issue) and bool(
            re.fullmatch(self.detail, detail)
        )


BUCKET_POLICY, KEY = "AWS::S3::BucketPolicy", "AWS::KMS::Key"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
KNOWN = (
    Known(BUCKET_POLICY, "MISMATCHED_TYPE",
          r'"Type mismatch: s3:TlsVersion requires a value of type Numeric but given '
          r"\['1\.2'\]\"",
          "The deny of TLS below 1.2 compares a number; parliament cannot read a JSON number "
          "(it raises) nor its text form (it calls it a mismatch). IAM accepts both."),
    Known(BUCKET_POLICY, "MISMATCHED_TYPE_BUT_USABLE",
          r'"Type mismatch: StringNotEquals requires a value of type String but given '
          r'Arn"',
          "Each lake bucket refuses writes under another key: S3 documents "
          "s3:x-amz-server-side-encryption-aws-kms-key-id as a string holding the key's ARN, "
          "so a string operator on an ARN value is what it expects."),
    Known(BUCKET_POLICY, "UNKNOWN_CONDITION_FOR_ACTION",
          r'"Unknown condition s3:TlsVersion for action s3:[A-Za-z]+"',
          "The TLS deny covers s3:*; parliament expands it and names actions whose reference "
          "entry omits s3:TlsVersion, which S3 still sets on every request."),
    Known(BUCKET_POLICY, "RESOURCE_MISMATCH", _S3_EXPANSIONS,
          "Sandbox only: CDK's auto-delete statement grants s3:List* on the bucket; the "
          "expanded account-level List actions apply to no bucket, so they grant nothing."),
    Known(BUCKET_POLICY, "PERMISSIONS_MANAGEMENT_ACTIONS", '""',
          "Sandbox only (removeDataOnDestroy): CDK's auto-delete provider may put a bucket "
          "policy, to block new writes while it empties the bucket on stack deletion.",
          forced=True),
    Known(BUCKET_POLICY, "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
          r'"Possible resource policy privilege escalation on arn:aws:s3:::\w+ due to '
          r's3:(GetObject|PutObject) not being allowed, but does allow s3:PutBucketPolicy"',
          "Sandbox only: the same auto-delete statement; that role is CDK's, used by its "
          "custom resource on deletion only.", forced=True),
    Known(KEY, "RESOURCE_STAR", r'\["kms:[A-Za-z]+"(, "kms:[A-Za-z]+")*\]',
          "In a key policy, Resource * means this key: a key policy can name no other."),
    Known(KEY, "PERMISSIONS_MANAGEMENT_ACTIONS", '""',
          "The key policy's statement for the account (kms:* to the account root) is KMS's "
          "default: it lets IAM policies govern the key; without it the key is unmanageable.",
          forced=True),
    Known(KEY, "MISMATCHED_TYPE",
          r'"Type mismatch: ArnLike requires a value of type Arn but given String"',
          "CloudWatch Logs documents ArnLike on kms:EncryptionContext:aws:logs:arn; the IAM "
          "definitions type the key String, and ArnLike compares ARN strings."),
    Known(KEY, "UNKNOWN_CONDITION_FOR_ACTION",
          r'"Unknown condition kms:EncryptionContext:aws:logs:arn for action '
          r'kms:Describe(Key|CustomKeyStores)"',
          "CloudWatch Logs documents its key policy statement with kms:Describe* under the "
          "encryption-context condition; Describe calls carry no context and are not needed."),
    Known(MANAGED_POLICY, "RESOURCE_MISMATCH", _S3_EXPANSIONS,
          "CDK's bucket grants use s3:GetObject* and s3:List*; their expansions to account-level "
          "listings, access points and access grants match no bucket or object ARN, so they "
          "grant nothing."),
    Known(MANAGED_POLICY, "RESOURCE_MISMATCH", _mismatches("states:ListExecutions"),
          "The reference marks both stateMachine and mapRun as required for "
          "states:ListExecutions; they are alternatives, and the state machine is the one."),
    Known(MANAGED_POLICY, "PERMISSIONS_MANAGEMENT_ACTIONS", '""',
          "logs:PutResourcePolicy: Step Functions requires the execution role of a logged state "
          "machine to hold the log-delivery actions on *, none of which has a resource type "
          "(pinned in cdk_constructs/common/wildcards.py).", forced=True),
)  # fmt: skip


class Renderer:
    """Renders the intrinsics of one stack's template, following borrowed values to the
    stack that lends them."""

    def __init__(self, blueprint: Blueprint) -> None:
        assembly = blueprint.app.synth()
        self.templates = {s.stack_name: s.template for s in assembly.stacks}

    def render(self, value: Any, stack: str) -> Any:
        if isinstance(value, list):
            return [self.render(v, stack) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # IAM reads "1.2" and 1.2 alike; parliament's condition check needs text.
            return str(value)
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument, stack)
            if key == "Fn::GetAtt":
                return self._arn(argument[0], stack)
            if key == "Fn::Join":
                return str(argument[0]).join(str(self.render(p, stack)) for p in argument[1])
            if key == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._ref(m[1], stack)), argument)
            if key == "Fn::GetStackOutput":
                producer = argument["StackName"]
                output = self.templates[producer]["Outputs"][argument["OutputName"]]
                return self.render(output["Value"], producer)
        return {k: self.render(v, stack) for k, v in value.items()}

    def _ref(self, name: str, stack: str) -> str:
        if name in PSEUDO:
            return PSEUDO[name]
        kind = self.templates[stack]["Resources"][name]["Type"]
        return self._arn(name, stack) if kind in REF_IS_ARN else name.lower()

    def _arn(self, logical_id: str, stack: str) -> str:
        kind = self.templates[stack]["Resources"][logical_id]["Type"]
        arn = ARNS.get(kind, "arn:aws:unknown:{r}:{a}:{id}")
        return arn.format(r=_R, a=_A, id=logical_id.lower())


def policies(blueprint: Blueprint) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(stack, logical ID, resource type, rendered document) of every policy in the templates."""
    renderer = Renderer(blueprint)
    for stack, template in renderer.templates.items():
        for logical_id, resource in template["Resources"].items():
            properties, kind = resource.get("Properties", {}), resource["Type"]
            documents = []
            if kind in POLICY_TYPES:
                documents.append(properties[POLICY_TYPES[kind]])
            if kind == "AWS::IAM::Role":
                documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
            for document in documents:
                yield stack, logical_id, kind, renderer.render(document, stack)


@cache
def findings(name: str) -> tuple[tuple[str, str, str, str], ...]:
    """(where, policy type, issue, detail) of each parliament finding in a configuration."""
    found = []
    for stack, logical_id, kind, document in policies(configuration(name)):
        analyzed = analyze_policy_string(json.dumps(document), include_community_auditors=True)
        for finding in analyzed.findings:
            detail = json.dumps(finding.detail)
            found.append((f"{stack}/{logical_id}", kind, finding.issue, detail))
    return tuple(found)


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_parliament_finds_nothing_but_the_known_findings(name: str) -> None:
    unexplained = [
        f"{where}: {issue} {detail}"
        for where, kind, issue, detail in findings(name)
        if not any(known.matches(kind, issue, detail) for known in KNOWN)
    ]
    assert unexplained == []


def test_every_known_finding_still_occurs() -> None:
    """A known finding that no longer occurs leaves the list, so the list cannot rot."""
    occurring = [f[1:] for name in CONFIGURATIONS for f in findings(name)]
    stale = [k for k in KNOWN if not any(k.matches(*finding) for finding in occurring)]
    assert stale == []


def test_the_known_findings_hide_no_other() -> None:
    """A real mismatch beside a known one is still reported: s3:GetObject on a bucket ARN."""
    assert not any(
        k.matches(MANAGED_POLICY, "RESOURCE_MISMATCH", json.dumps(detail))
        for k in KNOWN
        for detail in (
            [{"action": "s3:GetObject", "required_format": "arn:*:s3:::*/*"}],
            [{"action": "s3:ListJobs", "required_format": "*"},
             {"action": "s3:GetObject", "required_format": "arn:*:s3:::*/*"}],
        )
    )  # fmt: skip


def test_parliament_flags_what_it_should() -> None:
    """The linter is live here: a grant that can be scoped, an unknown action, and an action
    on a resource of the wrong type are each found."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "glue:PublishDataQuality", "Resource": "*"},
            {"Effect": "Allow", "Action": "glue:ReadEverything", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"},
        ],
    }
    issues = {f.issue for f in analyze_policy_string(json.dumps(document)).findings}
    assert {"RESOURCE_STAR", "UNKNOWN_ACTION", "RESOURCE_MISMATCH"} <= issues


def test_every_policy_is_rendered_to_literal_text() -> None:
    """No intrinsic is left for parliament to misread (it would see a dict, not an ARN)."""
    for _, _, _, document in policies(configuration("prod")):
        text = json.dumps(document)
        assert "Fn::" not in text, text
        assert '"Ref"' not in text, text


def test_parliament_runs_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its IAM definitions are the file it ships: no network call, so CI needs no egress."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "athena:ListWorkGroups", "Resource": "*"}]}  # fmt: skip
    assert analyze_policy_string(json.dumps(document)).findings == []


def known_findings_table() -> str:
    """docs/governance.md's table of parliament's known findings."""
    return table(
        ("policy", "parliament's finding", "kind", "why"),
        (
            (k.policy_type.split("::", 1)[1], k.issue, "accepted" if k.forced else "false", k.why)
            for k in KNOWN
        ),
    )


def test_the_governance_doc_lists_the_known_findings() -> None:
    doc = GOVERNANCE_DOC.read_text()
    assert replace_block(doc, "parliament-findings", known_findings_table(), fence=None) == doc


GOVERNANCE_DOC = DOCS / "governance.md"
