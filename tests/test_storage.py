"""Every security property of the store, asserted on every bucket and key of every environment."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import assertions

from cdk_constructs.common.removal import removable
from tests.conftest import built, construct_id, make_blueprint, resources


def this_trail(env: str) -> dict[str, Any]:
    """The ARN of the environment's one trail, as the storage stack writes it before the audit
    stack creates the trail (tests/test_audit_store.py checks the trail has that name)."""
    name = built(env).config.resource_name("trail")
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":cloudtrail:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":trail/{name}",
            ],
        ]
    }


THIS_ACCOUNTS_LOG_GROUPS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":logs:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":log-group:*",
        ],
    ]
}
ZONE_BUCKETS = {"LandingBucket", "RawBucket", "CuratedBucket", "AnalyticsBucket"}
DATA_KEY_BUCKETS = ZONE_BUCKETS | {"AthenaResultsBucket"}
ALL_BUCKETS = DATA_KEY_BUCKETS | {"AuditLogsBucket", "AccessLogsBucket"}
# Construct path of each bucket (logical IDs are made from them).
BUCKET_PATHS = {name: f"Storage/{name}" for name in ALL_BUCKETS} | {
    "AuditLogsBucket": "Storage/AuditLogs/Bucket"
}


def buckets(storage: assertions.Template) -> dict[str, dict[str, Any]]:
    return {construct_id(lid): r for lid, r in resources(storage, "AWS::S3::Bucket").items()}


def key_id(storage: assertions.Template, prefix: str) -> str:
    (logical_id,) = [k for k in resources(storage, "AWS::KMS::Key") if k.startswith(prefix)]
    return logical_id


def policy_statements(storage: assertions.Template, bucket: str) -> list[dict[str, Any]]:
    for policy in resources(storage, "AWS::S3::BucketPolicy").values():
        if construct_id(policy["Properties"]["Bucket"]["Ref"]) == bucket:
            return list(policy["Properties"]["PolicyDocument"]["Statement"])
    raise AssertionError(f"{bucket} has no bucket policy")


def test_the_store_has_exactly_the_expected_buckets(storage: assertions.Template) -> None:
    assert set(buckets(storage)) == ALL_BUCKETS


def test_every_bucket_blocks_public_access_and_disables_acls(
    storage: assertions.Template,
) -> None:
    for name, bucket in buckets(storage).items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert props["OwnershipControls"] == {
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
        }, name
        assert "AccessControl" not in props, name


def test_every_bucket_is_versioned(storage: assertions.Template) -> None:
    for name, bucket in buckets(storage).items():
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}, name


def _zone_keys(storage: assertions.Template) -> dict[str, str]:
    """The key each lake bucket must use: personal data in clear, or curated data."""
    personal, curated = key_id(storage, "DataKey"), key_id(storage, "CuratedDataKey")
    return {
        "LandingBucket": personal,
        "RawBucket": personal,
        "CuratedBucket": curated,
        "AnalyticsBucket": curated,
        "AthenaResultsBucket": curated,
    }


def test_lake_buckets_use_sse_kms_with_bucket_keys_and_the_right_key(
    storage: assertions.Template,
) -> None:
    expected_keys = {**_zone_keys(storage), "AuditLogsBucket": key_id(storage, "AuditLogsKey")}
    for name, bucket in buckets(storage).items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}, name
        default = rule["ServerSideEncryptionByDefault"]
        if name == "AccessLogsBucket":
            # S3 server access log delivery supports SSE-S3 only.
            assert default == {"SSEAlgorithm": "AES256"}
            continue
        expected_key = expected_keys.pop(name)
        assert default == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": {"Fn::GetAtt": [expected_key, "Arn"]},
        }, name
        # No bucket key for CloudTrail's bucket: it would change the encryption context that
        # the audit key's policy checks.
        assert rule["BucketKeyEnabled"] is (name != "AuditLogsBucket"), name
    assert expected_keys == {}


def test_every_bucket_policy_refuses_requests_without_tls_1_2(
    storage: assertions.Template,
) -> None:
    for name in ALL_BUCKETS:
        denies = [s for s in policy_statements(storage, name) if s["Effect"] == "Deny"]
        conditions = [d["Condition"] for d in denies if d["Action"] == "s3:*"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions, name
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions, name
        for deny in denies:
            assert deny["Principal"] == {"AWS": "*"}, name


def test_every_bucket_but_the_log_bucket_logs_its_access(storage: assertions.Template) -> None:
    all_buckets = buckets(storage)
    (log_bucket,) = [lid for lid in resources(storage, "AWS::S3::Bucket") if "AccessLogs" in lid]
    for name, bucket in all_buckets.items():
        logging = bucket["Properties"].get("LoggingConfiguration")
        if name == "AccessLogsBucket":
            assert logging is None
            continue
        assert logging == {
            "DestinationBucketName": {"Ref": log_bucket},
            "LogFilePrefix": f"{BUCKET_PATHS[name]}/",
            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}},
        }, name


def test_the_log_bucket_accepts_logs_only_from_the_lake_buckets(
    storage: assertions.Template,
) -> None:
    grants = [
        s
        for s in policy_statements(storage, "AccessLogsBucket")
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    sources = {
        construct_id(g["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::GetAtt"][0]) for g in grants
    }
    assert sources == ALL_BUCKETS - {"AccessLogsBucket"}
    for grant in grants:
        assert grant["Action"] == "s3:PutObject"
        assert grant["Condition"]["StringEquals"] == {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
        }


def lifecycle_rules(storage: assertions.Template, name: str) -> list[dict[str, Any]]:
    rules = buckets(storage)[name]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all(rule["Status"] == "Enabled" for rule in rules), name
    return list(rules)


def lifecycle(storage: assertions.Template, name: str) -> dict[str, Any]:
    """The one rule of a bucket other than raw (raw's: tests/test_raw_retention.py)."""
    (rule,) = lifecycle_rules(storage, name)
    return rule


def test_every_bucket_expires_old_versions_and_aborts_stale_uploads(
    storage: assertions.Template, env: str
) -> None:
    config = built(env).config.lifecycle
    for name in ALL_BUCKETS:
        for rule in lifecycle_rules(storage, name):
            # At the latest then: erasure requests' versions go after a day.
            days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            assert 1 <= days <= config.noncurrent_version_expiration_days, name
            assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1, name


GLACIER_CLASSES = {"GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"}


def test_every_lifecycle_rule_is_one_s3_accepts(storage: assertions.Template) -> None:
    """S3 refuses these at deploy time, long after synth and cfn-lint have passed."""
    every_rule = [(b, rule) for b in ALL_BUCKETS for rule in lifecycle_rules(storage, b)]
    for name, rule in every_rule:
        steps = [(t["TransitionInDays"], t["StorageClass"]) for t in rule.get("Transitions", [])]
        assert steps == sorted(steps), name
        for days, storage_class in steps:
            if storage_class == "STANDARD_IA":
                assert days >= 30, f"{name}: STANDARD_IA before 30 days"
            if storage_class in GLACIER_CLASSES:
                earlier_ia = [d for d, c in steps if c == "STANDARD_IA"]
                assert all(days >= ia + 30 for ia in earlier_ia), f"{name}: {storage_class}"
        if "ExpirationInDays" in rule and steps:
            assert rule["ExpirationInDays"] > steps[-1][0], f"{name}: expires before tiering"


def test_audit_logs_are_write_once_where_data_is_kept(
    storage: assertions.Template, env: str
) -> None:
    config = built(env).config
    for name, bucket in buckets(storage).items():
        props = bucket["Properties"]
        if name != "AuditLogsBucket" or config.remove_data_on_destroy:
            assert "ObjectLockEnabled" not in props, name
            assert "ObjectLockConfiguration" not in props, name
            continue
        assert props["ObjectLockEnabled"] is True
        assert props["ObjectLockConfiguration"] == {
            "ObjectLockEnabled": "Enabled",
            "Rule": {
                "DefaultRetention": {
                    "Mode": config.retention.audit_object_lock_mode,
                    "Days": config.retention.audit_log_days,
                }
            },
        }


def test_lifecycle_follows_the_environment_configuration(
    storage: assertions.Template, env: str
) -> None:
    config = built(env).config
    life = config.lifecycle
    assert lifecycle(storage, "LandingBucket")["ExpirationInDays"] == life.landing_expiration_days
    assert lifecycle(storage, "CuratedBucket")["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": life.curated_infrequent_access_days}
    ]
    assert "ExpirationInDays" not in lifecycle(storage, "CuratedBucket")
    assert "ExpirationInDays" not in lifecycle(storage, "AnalyticsBucket")
    assert (
        lifecycle(storage, "AthenaResultsBucket")["ExpirationInDays"]
        == life.athena_results_expiration_days
    )
    assert lifecycle(storage, "AuditLogsBucket")["ExpirationInDays"] == (
        config.retention.audit_log_days
    )
    assert lifecycle(storage, "AccessLogsBucket")["ExpirationInDays"] == (
        config.retention.access_log_days
    )


def test_changing_a_lifecycle_setting_changes_the_template() -> None:
    base = make_blueprint("sandbox")
    context_env = base.app.node.try_get_context("environments")["sandbox"]
    changed = {**context_env, "lifecycle": {**context_env["lifecycle"], "landingExpirationDays": 3}}
    other = make_blueprint("sandbox", environments={"sandbox": changed})
    tmpl = assertions.Template.from_stack(other.storage)
    assert lifecycle(tmpl, "LandingBucket")["ExpirationInDays"] == 3


def test_only_landing_and_raw_send_events_to_eventbridge(storage: assertions.Template) -> None:
    """Landing for the ingest function, raw for pipelines that start when data arrives."""
    for name, bucket in buckets(storage).items():
        notifications = bucket["Properties"].get("NotificationConfiguration")
        if name in ("LandingBucket", "RawBucket"):
            assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
        else:
            assert notifications is None, name
    # Set on the bucket itself: no custom-resource Lambda function just to switch it on.
    storage.resource_count_is("Custom::S3BucketNotifications", 0)


def test_lake_buckets_refuse_writes_under_any_other_key(storage: assertions.Template) -> None:
    """A write may name no encryption (the bucket's key applies) or SSE-KMS with the bucket's
    own key; SSE-S3 or another key (a curated key in raw, say) is denied to everyone."""
    expected = _zone_keys(storage)
    for name, key in expected.items():
        denies = [s for s in policy_statements(storage, name)
                  if s["Effect"] == "Deny" and s["Action"] == "s3:PutObject"]  # fmt: skip
        for statement in denies:
            assert statement["Principal"] == {"AWS": "*"}, name
            assert statement["Resource"]["Fn::Join"][1][-1] == "/*", name
        assert [s["Condition"] for s in denies] == [
            {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
            # SSE-KMS without a key id would get the AWS managed key aws/s3: denied too.
            {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": [key, "Arn"]}
                },
            },
        ], name


def _denied(conditions: list[dict[str, Any]], request: dict[str, Any]) -> bool:
    """Whether a Deny with any of ``conditions`` applies to a request with these condition
    keys, by IAM's rules for the operators used: a negated operator is true for a key the
    request lacks, an ...IfExists one true too, and Null tests presence."""

    def holds(operator: str, key: str, value: Any) -> bool:
        present = key in request
        if operator == "Null":
            return present == (value == "false")  # "false": the key is present
        if operator in ("StringNotEquals", "StringNotEqualsIfExists"):
            return not present or request[key] != value
        raise AssertionError(f"no rule here for {operator}")

    return any(
        all(holds(op, k, v) for op, pairs in c.items() for k, v in pairs.items())
        for c in conditions
    )


def test_a_write_to_raw_gets_its_key_or_is_refused(storage: assertions.Template) -> None:
    """What S3 would do with each way of asking for encryption, under raw's policy."""
    denies = [s["Condition"] for s in policy_statements(storage, "RawBucket")
              if s["Effect"] == "Deny" and s["Action"] == "s3:PutObject"]  # fmt: skip
    own = {"Fn::GetAtt": [key_id(storage, "DataKey"), "Arn"]}
    other = {"Fn::GetAtt": [key_id(storage, "CuratedDataKey"), "Arn"]}
    sse, key = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"
    assert not _denied(denies, {})  # the bucket's default: its own key
    assert not _denied(denies, {sse: "aws:kms", key: own})
    assert _denied(denies, {sse: "aws:kms"})  # S3 would use aws/s3
    assert _denied(denies, {sse: "aws:kms", key: other})
    assert _denied(denies, {sse: "AES256"})
    assert _denied(denies, {sse: "aws:kms:dsse", key: own})


def test_four_keys_with_rotation(storage: assertions.Template) -> None:
    """Personal data in clear (DataKey, the ID of the single key it replaced), curated data,
    operations, audit."""
    keys = resources(storage, "AWS::KMS::Key")
    assert {construct_id(k) for k in keys} == {
        "DataKey",
        "CuratedDataKey",
        "OperationsKey",
        "AuditLogsKey",
    }
    for logical_id, key in keys.items():
        assert key["Properties"]["EnableKeyRotation"] is True, logical_id
        assert key["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"


def service_principals(key: dict[str, Any]) -> set[str]:
    found = set()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        service = statement["Principal"].get("Service")
        if service:
            found.add(service if isinstance(service, str) else "logs.<region>.amazonaws.com")
    return found


def test_services_may_use_the_operations_key_and_only_logs_the_personal_data_key(
    storage: assertions.Template,
) -> None:
    """Pipeline log groups, the dead-letter queues and the alerts topic (which CloudWatch
    alarms publish to) are encrypted with the operations key; everyone else needs an IAM
    grant. CloudWatch Logs keeps the personal-data key for log events written before the
    operations key existed; no service may use the curated key by its key policy."""
    keys = resources(storage, "AWS::KMS::Key")
    assert service_principals(keys[key_id(storage, "DataKey")]) == {"logs.<region>.amazonaws.com"}
    assert service_principals(keys[key_id(storage, "CuratedDataKey")]) == set()
    data_key = keys[key_id(storage, "OperationsKey")]
    assert service_principals(data_key) == {
        "logs.<region>.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
    }
    statements = {
        str(s["Principal"]["Service"]) if isinstance(s["Principal"]["Service"], str) else "logs": s
        for s in data_key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s["Principal"]
    }
    assert statements["logs"]["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": THIS_ACCOUNTS_LOG_GROUPS}
    }
    for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
        statement = statements[service]
        assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
        this_account = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        assert statement["Condition"] == this_account


def test_the_audit_key_serves_only_this_trail_and_this_accounts_logs(
    storage: assertions.Template, env: str
) -> None:
    audit_key = resources(storage, "AWS::KMS::Key")[key_id(storage, "AuditLogsKey")]
    assert service_principals(audit_key) == {
        "cloudtrail.amazonaws.com",
        "logs.<region>.amazonaws.com",
    }
    account = {"Ref": "AWS::AccountId"}
    for statement in audit_key["Properties"]["KeyPolicy"]["Statement"]:
        service = statement["Principal"].get("Service")
        if not service:
            continue
        assert "kms:CreateGrant" not in statement["Action"], statement["Sid"]
        assert "kms:*" not in statement["Action"], statement["Sid"]
        condition = statement["Condition"]
        if service == "cloudtrail.amazonaws.com":
            assert set(condition) == {"StringEquals"}, statement["Sid"]
            assert condition["StringEquals"]["aws:SourceAccount"] == account
            assert condition["StringEquals"]["aws:SourceArn"] == this_trail(env)
        else:
            # CloudWatch Logs may use it only for log groups of this account and region.
            assert condition == {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": THIS_ACCOUNTS_LOG_GROUPS}
            }
    encrypt = next(
        s
        for s in audit_key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "AllowCloudTrailToEncryptLogFiles"
    )
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": account,
            "aws:SourceArn": this_trail(env),
            "kms:EncryptionContext:aws:cloudtrail:arn": this_trail(env),
        }
    }


def test_only_this_trail_may_write_audit_logs(storage: assertions.Template, env: str) -> None:
    allows = [s for s in policy_statements(storage, "AuditLogsBucket") if s["Effect"] == "Allow"]
    cloudtrail = [s for s in allows if s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}]
    assert {s["Action"] for s in cloudtrail} == {"s3:GetBucketAcl", "s3:PutObject"}
    for statement in cloudtrail:
        assert set(statement["Condition"]) == {"StringEquals"}, statement["Sid"]
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {
            "Ref": "AWS::AccountId"
        }
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == this_trail(env)
    (bucket_id,) = [b for b in resources(storage, "AWS::S3::Bucket") if b.startswith("AuditLogs")]
    (write,) = [s for s in cloudtrail if s["Action"] == "s3:PutObject"]
    # The trail writes without a key prefix, so its files land under AWSLogs/<account>/.
    assert write["Resource"] == {
        "Fn::Join": [
            "",
            [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/AWSLogs/", {"Ref": "AWS::AccountId"}, "/*"],
        ]
    }
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"


@pytest.mark.parametrize(("env_name", "policy"), [("sandbox", "Delete"), ("prod", "Retain")])
def test_data_is_kept_unless_the_environment_allows_removal(env_name: str, policy: str) -> None:
    blueprint = built(env_name)
    assert blueprint.config.remove_data_on_destroy is (policy == "Delete")
    storage = assertions.Template.from_stack(blueprint.storage)
    for type_ in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for logical_id, resource in resources(storage, type_).items():
            assert resource["DeletionPolicy"] == policy, logical_id
            assert resource["UpdateReplacePolicy"] == policy, logical_id
    auto_delete = resources(storage, "Custom::S3AutoDeleteObjects")
    # Removable buckets are emptied first, or CloudFormation could not delete them.
    assert len(auto_delete) == (len(ALL_BUCKETS) if policy == "Delete" else 0)


def test_removable_data_is_announced_at_synth_in_one_warning() -> None:
    def marked(env_name: str) -> set[str]:
        return {f"/{c.node.path}" for c in removable(built(env_name).app)}

    def warnings(env_name: str) -> list[str]:
        found = []
        for stack in built(env_name).stacks:
            messages = assertions.Annotations.from_stack(stack).find_warning(
                "*", assertions.Match.string_like_regexp("removeDataOnDestroy is true")
            )
            found += [f"{m.id}: {m.entry.data}" for m in messages]
        return found

    expected = {f"/{path}" for path in BUCKET_PATHS.values()} | {
        "/Storage/DataKey",
        "/Storage/CuratedDataKey",
        "/Storage/OperationsKey",
        "/Storage/AuditLogs/Key",
        "/Audit/AuditTrail/LogGroup",
        "/Ingest/BatchIngest/LogGroup",
        "/Dataset-clickstream/StreamIngest/LogGroup",
        "/Dataset-clickstream/PipelineLogs",
        "/Dataset-orders/PipelineLogs",
    }
    assert marked("sandbox") == expected
    # One line in synth's output, naming how many, not one per resource.
    (warning,) = warnings("sandbox")
    assert warning.startswith("/Storage: ")
    assert f"deletes {len(expected)} buckets, keys and log groups" in warning
    assert marked("prod") == set()
    assert warnings("prod") == []


def test_stateful_stacks_are_protected_where_the_environment_asks(env: str) -> None:
    blueprint = built(env)
    for stack in blueprint.stacks:
        assert stack.termination_protection is blueprint.config.termination_protection
    assert built("prod").config.termination_protection is True
