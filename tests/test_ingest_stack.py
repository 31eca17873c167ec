"""The ingest stack and each streaming dataset's delivery stream, as synthesized."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import assertions

from cdk_constructs.ingest.ingest_function import SOURCE, function_code
from model.declarations import load_datasets
from tests.conftest import DATASETS, built, construct_id, only, resources, template


def function(env: str) -> dict[str, Any]:
    return only(template(env, "Ingest"), "AWS::Lambda::Function")


def storage_output(value: dict[str, Any]) -> str:
    reference = value["Fn::GetStackOutput"]
    assert reference["StackName"].endswith("-storage")
    return str(reference["OutputName"])


def test_the_function_runs_on_the_latest_python_on_arm_with_limits(env: str) -> None:
    props = function(env)
    config = built(env).config.ingest
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["Timeout"] == 900
    assert props["MemorySize"] == 512
    assert props.get("ReservedConcurrentExecutions") == config.reserved_concurrency
    assert props["TracingConfig"] == {"Mode": "Active"}
    variables = props["Environment"]["Variables"]
    assert variables["MAX_BYTES"] == str(config.max_file_megabytes * 1024 * 1024)
    assert storage_output(variables["RAW_BUCKET"]) == "RawBucketName"


def test_the_sandbox_reserves_no_concurrency_and_prod_does() -> None:
    """New accounts have 10 concurrent executions, none of which may be reserved."""
    assert "ReservedConcurrentExecutions" not in function("sandbox")
    assert function("prod")["ReservedConcurrentExecutions"] == 20


def test_failed_invocations_are_retried_then_kept_in_an_encrypted_queue(env: str) -> None:
    tmpl = template(env, "Ingest")
    ((queue_id, queue),) = resources(tmpl, "AWS::SQS::Queue").items()
    assert storage_output(queue["Properties"]["KmsMasterKeyId"]) == "OperationsKeyArn"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert function(env)["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    invoke = only(tmpl, "AWS::Lambda::EventInvokeConfig")
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["MaximumEventAgeInSeconds"] == 6 * 3600
    (policy,) = resources(tmpl, "AWS::SQS::QueuePolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == insecure for s in statements)
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in statements)


def test_object_created_events_of_the_landing_bucket_trigger_the_function(env: str) -> None:
    tmpl = template(env, "Ingest")
    rule = only(tmpl, "AWS::Events::Rule")
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    (bucket,) = pattern["detail"]["bucket"]["name"]
    assert storage_output(bucket) == "LandingBucketName"
    (target,) = rule["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 7200}
    (queue_id,) = resources(tmpl, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}


def test_the_landing_bucket_sends_its_events_to_eventbridge(env: str) -> None:
    buckets = template(env, "Storage").to_json()["Resources"]
    landing = next(v for k, v in buckets.items() if k.startswith("LandingBucket")
                   and v["Type"] == "AWS::S3::Bucket")  # fmt: skip
    assert landing["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_the_function_logs_to_an_encrypted_group_with_retention(env: str) -> None:
    tmpl = template(env, "Ingest")
    ((group_id, group),) = resources(tmpl, "AWS::Logs::LogGroup").items()
    assert storage_output(group["Properties"]["KmsKeyId"]) == "OperationsKeyArn"
    assert group["Properties"]["RetentionInDays"] == built(env).config.retention.log_group_days
    assert function(env)["LoggingConfig"]["LogGroup"] == {"Ref": group_id}


def test_the_function_may_touch_only_landing_raw_its_queue_logs_and_traces(env: str) -> None:
    tmpl = template(env, "Ingest")
    (policy,) = resources(tmpl, "AWS::IAM::ManagedPolicy").values()
    reached = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        resources_ = statement["Resource"]
        for resource in resources_ if isinstance(resources_, list) else [resources_]:
            text = json.dumps(resource)
            if "GetStackOutput" in text:
                reached.add(text.split('"OutputName": "')[1].split('"')[0])
            elif resource == "*":
                assert set(statement["Action"]) == {
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                }
            else:
                reached.add(resource["Fn::GetAtt"][0][:-8])
    assert reached == {
        "LandingBucketArn", "RawBucketArn", "PersonalDataKeyArn", "OperationsKeyArn",
        "BatchIngestDeadLetterQueue", "BatchIngestLogGroup",
    }  # fmt: skip
    assert resources(tmpl, "AWS::IAM::Policy") == {}


def test_the_function_code_carries_every_declaration_and_no_stray_file(tmp_path: Path) -> None:
    (SOURCE / "__pycache__").mkdir(exist_ok=True)
    stray = SOURCE / "__pycache__" / "stray.pyc"
    stray.write_bytes(b"\0")
    try:
        code = function_code(load_datasets(DATASETS))
        staged = Path(code.path)
    finally:
        stray.unlink()
    assert sorted(p.name for p in staged.iterdir()) == [
        "content.py", "datasets.json", "handler.py", "ingest.py", "observability.py", "streams.py",
        "validation.py",
    ]  # fmt: skip
    specs = json.loads((staged / "datasets.json").read_text())
    assert set(specs) == {d.name for d in load_datasets(DATASETS)}
    assert specs["orders"]["format"] == "csv"


def test_each_streaming_dataset_has_a_delivery_stream_into_raw(env: str) -> None:
    for name, stack in built(env).dataset_stacks.items():
        tmpl = template(env, f"Dataset-{name}")
        streams = resources(tmpl, "AWS::KinesisFirehose::DeliveryStream")
        if stack.dataset.source.mode != "streaming":
            assert streams == {}
            continue
        (stream,) = streams.values()
        props = stream["Properties"]
        assert props["DeliveryStreamType"] == "DirectPut"
        assert props["DeliveryStreamName"] == f"datalake-{env}-{name}"
        assert (
            props["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "CUSTOMER_MANAGED_CMK"
        )
        s3 = props["ExtendedS3DestinationConfiguration"]
        assert storage_output(s3["BucketARN"]) == "RawBucketArn"
        assert s3["Prefix"] == f"{name}/ingest_date=!{{timestamp:yyyy-MM-dd}}/"
        assert s3["ErrorOutputPrefix"].startswith(f"_quarantine/{name}/firehose/")
        assert "!{firehose:error-output-type}" in s3["ErrorOutputPrefix"]
        assert (
            storage_output(s3["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"])
            == "PersonalDataKeyArn"
        )
        # The records Firehose buffers are raw personal data in clear, as the objects are.
        stream_key = props["DeliveryStreamEncryptionConfigurationInput"]["KeyARN"]
        assert storage_output(stream_key) == "PersonalDataKeyArn"
        assert s3["CloudWatchLoggingOptions"]["Enabled"] is True
        assert s3["CompressionFormat"] == "GZIP"
        (group,) = [g for lid, g in resources(tmpl, "AWS::Logs::LogGroup").items()
                    if construct_id(lid) == "StreamIngestLogGroup"]  # fmt: skip
        assert storage_output(group["Properties"]["KmsKeyId"]) == "OperationsKeyArn"


def test_stateless_stacks_read_storage_through_its_outputs(env: str) -> None:
    blueprint = built(env)
    outputs = template(env, "Storage").to_json()["Outputs"]
    for name in (
        "LandingBucketArn",
        "RawBucketArn",
        "PersonalDataKeyArn",
        "OperationsKeyArn",
        "LandingBucketName",
        "RawBucketName",
    ):
        assert name in outputs
    assert blueprint.storage in blueprint.ingest.dependencies
    assertions.Template.from_stack(blueprint.ingest)  # synthesizes on its own
