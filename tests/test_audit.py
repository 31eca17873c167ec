"""The audit trail: what it records, where it writes, and how it is protected."""

from __future__ import annotations

from typing import Any

from aws_cdk import assertions

from tests.conftest import built, construct_id, resources, template

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


def storage_output(env: str, value: dict[str, Any]) -> Any:
    """What a weak cross-stack reference (Fn::GetStackOutput) reads from the storage stack."""
    reference = value["Fn::GetStackOutput"]
    assert reference["StackName"] == built(env).storage.stack_name
    assert reference["Region"] == {"Ref": "AWS::Region"}
    outputs = template(env, "Storage").to_json()["Outputs"]
    return outputs[reference["OutputName"]]["Value"]


def arn_of(value: Any) -> str:
    """The construct whose ARN ``value`` is (``Fn::GetAtt [<id>, Arn]``)."""
    logical_id, attribute = value["Fn::GetAtt"]
    assert attribute == "Arn"
    return construct_id(logical_id)


def test_trail_records_management_events_in_every_region(audit: assertions.Template) -> None:
    props = trail(audit)
    assert props["IsLogging"] is True
    assert props["IsMultiRegionTrail"] is True
    assert props["IncludeGlobalServiceEvents"] is True
    assert props["EnableLogFileValidation"] is True
    management = props["AdvancedEventSelectors"][0]
    assert management["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]


def test_trail_records_object_level_events_of_every_lake_bucket(
    audit: assertions.Template, env: str
) -> None:
    data = trail(audit)["AdvancedEventSelectors"][1]["FieldSelectors"]
    assert {"Field": "eventCategory", "Equals": ["Data"]} in data
    assert {"Field": "resources.type", "Equals": ["AWS::S3::Object"]} in data
    (prefixes,) = [f["StartsWith"] for f in data if f["Field"] == "resources.ARN"]
    buckets = set()
    for prefix in prefixes:
        # Object ARNs start with "<bucket ARN>/": a bucket name here would match nothing.
        output, suffix = prefix["Fn::Join"][1]
        assert suffix == "/"
        buckets.add(arn_of(storage_output(env, output)))
    assert buckets == LAKE_BUCKETS


def test_trail_writes_encrypted_files_to_the_audit_bucket(
    audit: assertions.Template, env: str
) -> None:
    props = trail(audit)
    bucket = storage_output(env, props["S3BucketName"])
    assert construct_id(bucket["Ref"]) == "AuditLogsBucket"  # a name, not an ARN
    assert arn_of(storage_output(env, props["KMSKeyId"])) == "AuditLogsKey"
    assert "S3KeyPrefix" not in props  # the bucket policy admits AWSLogs/<account>/ only


def test_trail_also_delivers_to_an_encrypted_log_group_with_retention(
    audit: assertions.Template, env: str
) -> None:
    ((log_group_id, log_group),) = resources(audit, "AWS::Logs::LogGroup").items()
    assert arn_of(storage_output(env, log_group["Properties"]["KmsKeyId"])) == "AuditLogsKey"
    assert log_group["Properties"]["RetentionInDays"] == built(env).config.retention.log_group_days
    props = trail(audit)
    assert props["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    expected = "Delete" if built(env).config.remove_data_on_destroy else "Retain"
    assert log_group["DeletionPolicy"] == expected


def test_cloudtrail_may_only_write_to_its_own_log_group(audit: assertions.Template) -> None:
    ((role_id, role),) = resources(audit, "AWS::IAM::Role").items()
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
    for tmpl in (audit, storage):
        tmpl.resource_count_is("AWS::IAM::Policy", 0)
