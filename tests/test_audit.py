"""The audit trail: what it records, where it writes, and how it is protected."""

from __future__ import annotations

from typing import Any

from aws_cdk import assertions

from tests.conftest import built, resources

LAKE_BUCKETS = {
    "LandingBucket",
    "RawBucket",
    "CuratedBucket",
    "AnalyticsBucket",
    "AthenaResultsBucket",
}


def trail(audit: assertions.Template) -> dict[str, Any]:
    (only,) = resources(audit, "AWS::CloudTrail::Trail").values()
    return dict(only["Properties"])


def storage_output(value: dict[str, Any]) -> str:
    """The storage-stack output a weak cross-stack reference reads."""
    reference = value["Fn::GetStackOutput"]
    assert reference["StackName"].endswith("-storage")
    return str(reference["OutputName"])


def test_trail_records_management_events_in_every_region(audit: assertions.Template) -> None:
    props = trail(audit)
    assert props["IsLogging"] is True
    assert props["IsMultiRegionTrail"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert props["EnableLogFileValidation"] is True
    management = props["AdvancedEventSelectors"][0]
    assert management["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]


def test_trail_records_object_level_events_of_every_lake_bucket(
    audit: assertions.Template,
) -> None:
    data = trail(audit)["AdvancedEventSelectors"][1]["FieldSelectors"]
    assert {"Field": "eventCategory", "Equals": ["Data"]} in data
    assert {"Field": "resources.type", "Equals": ["AWS::S3::Object"]} in data
    (arns,) = [f["StartsWith"] for f in data if f["Field"] == "resources.ARN"]
    referenced = set()
    for arn in arns:
        output, suffix = arn["Fn::Join"][1]
        assert suffix == "/"
        referenced.add(storage_output(output))
    for bucket in LAKE_BUCKETS:
        assert any(bucket in name for name in referenced), bucket
    assert len(referenced) == len(LAKE_BUCKETS)


def test_trail_writes_encrypted_files_to_the_audit_bucket(audit: assertions.Template) -> None:
    props = trail(audit)
    assert "AuditLogsBucket" in storage_output(props["S3BucketName"])
    assert "AuditLogsKey" in storage_output(props["KMSKeyId"])


def test_trail_also_delivers_to_an_encrypted_log_group_with_retention(
    audit: assertions.Template, env: str
) -> None:
    (log_group_id, log_group), *_ = resources(audit, "AWS::Logs::LogGroup").items()
    assert "AuditLogsKey" in storage_output(log_group["Properties"]["KmsKeyId"])
    assert log_group["Properties"]["RetentionInDays"] == built(env).config.retention.log_group_days
    props = trail(audit)
    assert props["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    expected = "Delete" if built(env).config.remove_data_on_destroy else "Retain"
    assert log_group["DeletionPolicy"] == expected


def test_cloudtrail_may_only_write_to_its_own_log_group(audit: assertions.Template) -> None:
    (role_id, role), *_ = resources(audit, "AWS::IAM::Role").items()
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    (policy,) = resources(audit, "AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    (allow,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    (log_group_id,) = resources(audit, "AWS::Logs::LogGroup")
    assert allow["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    assert trail(audit)["CloudWatchLogsRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_no_inline_policies_anywhere(
    audit: assertions.Template, storage: assertions.Template
) -> None:
    for template in (audit, storage):
        template.resource_count_is("AWS::IAM::Policy", 0)
