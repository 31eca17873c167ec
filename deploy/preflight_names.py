"""The preflight's checks of what the app claims: its fixed names, and room under the quotas.

A fixed name held by something other than the app's own stack fails the deploy halfway;
so does a quota the app's resources would exceed. Both are read-only: get, describe and list
calls, and Service Quotas where it answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from deploy.preflight_checks import Context, Result
from deploy.preflight_plan import COUNTED, NAMED, FixedName

# What the quota check reads when Service Quotas does not answer: AWS's documented defaults
# (Glue: the AWS General Reference's Glue quotas; Step Functions: its developer guide's
# "Quotas related to accounts"; Lake Formation: "tag-based access control notes").
DOCUMENTED = {
    "Glue jobs": 2000,
    "Glue crawlers": 1000,
    "Glue databases": 10000,
    "state machines": 10000,
    "LF-Tags": 1000,
}
# Label -> (Service Quotas service code, words its quota's name contains).
SERVICE_QUOTAS = {
    "Glue jobs": ("glue", "jobs per account"),
    "Glue crawlers": ("glue", "crawlers per account"),
    "Glue databases": ("glue", "databases per account"),
    "state machines": ("states", "state machines"),
}
LF_TAG_VALUES = 1000  # values per LF-Tag, documented beside the LF-Tag count
NOT_FOUND = {
    "EntityNotFoundException",
    "NoSuchEntity",
    "TrailNotFoundException",
    "StateMachineDoesNotExist",
    "404",
    "NoSuchBucket",
}
WARN_SHARE = 0.8  # warn when the app takes more than this share of what is left


def _lookup(ctx: Context, name: FixedName) -> Any:
    """Describe the resource that holds ``name``; raises a not-found ClientError if none."""
    arn = f"arn:aws:states:{ctx.region}:{ctx.account}:stateMachine:{name.name}"
    calls: dict[str, Callable[[], Any]] = {
        "AWS::Glue::Database": lambda: ctx.client("glue").get_database(Name=name.name),
        "AWS::Athena::WorkGroup": lambda: ctx.client("athena").get_work_group(WorkGroup=name.name),
        "AWS::S3::Bucket": lambda: ctx.client("s3").head_bucket(Bucket=name.name),
        "AWS::CloudTrail::Trail": lambda: ctx.client("cloudtrail").get_trail(Name=name.name),
        "AWS::StepFunctions::StateMachine": lambda: ctx.client(
            "stepfunctions"
        ).describe_state_machine(stateMachineArn=arn),
        "AWS::Glue::Job": lambda: ctx.client("glue").get_job(JobName=name.name),
        "AWS::Glue::Crawler": lambda: ctx.client("glue").get_crawler(Name=name.name),
        "AWS::Glue::SecurityConfiguration": lambda: ctx.client("glue").get_security_configuration(
            Name=name.name
        ),
        "AWS::IAM::Role": lambda: ctx.client("iam").get_role(RoleName=name.name),
    }
    return calls[name.kind]()


def _exists(ctx: Context, name: FixedName) -> bool:
    try:
        answer = _lookup(ctx, name)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        # Athena says InvalidRequestException for a workgroup that does not exist.
        if code in NOT_FOUND or (
            name.kind == "AWS::Athena::WorkGroup" and code == "InvalidRequestException"
        ):
            return False
        raise
    # moto answers get_work_group for an unknown name with an empty body, AWS with an error.
    return not (name.kind == "AWS::Athena::WorkGroup" and "WorkGroup" not in answer)


def stack_resources(ctx: Context, stack: str) -> list[dict[str, Any]]:
    """Every resource ``stack`` holds today, page by page (DescribeStackResources stops at 100);
    raises a ClientError if the stack does not exist."""
    pages = ctx.client("cloudformation").get_paginator("list_stack_resources")
    return [r for page in pages.paginate(StackName=stack) for r in page["StackResourceSummaries"]]


def _not_looked_up(label: str, name: FixedName, error: ClientError) -> Result:
    """The WARN for a name the account would not look up. S3 answers HeadBucket with a bare
    403 both for a bucket of another account (bucket names are global) and for credentials
    without s3:ListBucket on it, so a 403 cannot say the name is taken."""
    code = error.response["Error"]["Code"]
    if name.kind == "AWS::S3::Bucket" and code in ("403", "AccessDenied", "Forbidden"):
        return Result(
            "WARN",
            "names",
            f"{label} {name.name}: cannot tell (access denied): another account may hold the "
            "name, or the credentials may not call HeadBucket on it",
            "check with credentials that have s3:ListBucket on the bucket; if it is another "
            "account's, change the project or environment name in cdk.json",
        )
    return Result(
        "WARN",
        "names",
        f"could not look up {label} {name.name}: {code}",
        "allow the preflight's read-only describe calls, or check by hand",
    )


def _stack_resources(ctx: Context, stack: str, cache: dict[str, set[str]]) -> set[str]:
    """The physical IDs of the resources ``stack`` holds today (none if it does not exist)."""
    if stack not in cache:
        try:
            cache[stack] = {r.get("PhysicalResourceId", "") for r in stack_resources(ctx, stack)}
        except ClientError:
            cache[stack] = set()
    return cache[stack]


def _is_ours(name: FixedName, physical_ids: set[str]) -> bool:
    return any(
        pid == name.name or pid.endswith((f":{name.name}", f"/{name.name}")) for pid in physical_ids
    )


def check_names(ctx: Context) -> list[Result]:
    """Each fixed name is free, or held by the stack of the app that will create it."""
    free, ours, results = 0, 0, []
    cache: dict[str, set[str]] = {}
    for name in ctx.plan.names:
        label = NAMED[name.kind][0]
        try:
            exists = _exists(ctx, name)
        except ClientError as error:
            results.append(_not_looked_up(label, name, error))
            continue
        if not exists:
            free += 1
        elif _is_ours(name, _stack_resources(ctx, name.stack, cache)):
            ours += 1
        else:
            results.append(
                Result(
                    "FAIL",
                    "names",
                    f"{label} {name.name} exists and is not {name.stack}'s",
                    f"delete or rename the existing {label}, or deploy to another account or "
                    f"region (the name comes from project and environment names in cdk.json)",
                )
            )
    summary = f"{len(ctx.plan.names)} fixed names: {free} free, {ours} already this app's"
    status = (
        "PASS" if not results else "FAIL" if any(r.status == "FAIL" for r in results) else "WARN"
    )
    if status == "PASS":
        return [Result("PASS", "names", summary)]
    return results


def _service_quota(ctx: Context, label: str) -> tuple[int, str]:
    """The account's quota for ``label`` from Service Quotas, else AWS's documented default;
    with the words saying which was used."""
    if label in SERVICE_QUOTAS:
        code, words = SERVICE_QUOTAS[label]
        try:
            pages = ctx.client("service-quotas").get_paginator("list_service_quotas")
            for page in pages.paginate(ServiceCode=code):
                for quota in page["Quotas"]:
                    if words in quota["QuotaName"].lower():
                        return int(quota["Value"]), "Service Quotas"
            why = f"no {code} quota named '{words}'"
        except (ClientError, NotImplementedError) as error:
            # NotImplementedError: what moto raises for a Service Quotas call it lacks.
            answer = (
                error.response["Error"]["Code"]
                if isinstance(error, ClientError)
                else ("not implemented")
            )
            why = f"Service Quotas did not answer: {answer}"
        return DOCUMENTED[label], f"AWS's documented default; {why}"
    return DOCUMENTED[label], "AWS's documented default"


def _in_use(ctx: Context, label: str) -> int:
    """How many of ``label`` the account and region hold today."""
    glue, counted = ctx.client("glue"), 0
    pages: dict[str, tuple[Any, str, str, dict[str, Any]]] = {
        "Glue jobs": (glue, "get_jobs", "Jobs", {}),
        "Glue crawlers": (glue, "get_crawlers", "Crawlers", {}),
        "Glue databases": (glue, "get_databases", "DatabaseList", {}),
        "state machines": (ctx.client("stepfunctions"), "list_state_machines", "stateMachines", {}),
        "LF-Tags": (ctx.client("lakeformation"), "list_lf_tags", "LFTags", {}),
    }
    client, operation, key, args = pages[label]
    token_in, token_out = (
        ("nextToken", "nextToken") if label == "state machines" else ("NextToken", "NextToken")
    )
    token = None
    while True:
        page = getattr(client, operation)(**args, **({token_in: token} if token else {}))
        counted += len(page.get(key, []))
        token = page.get(token_out)
        if not token:
            return counted


def quota_result(label: str, adds: int, used: int, quota: int, source: str) -> Result:
    """PASS, WARN above WARN_SHARE of what is left, FAIL beyond it."""
    left = quota - used
    found = f"adds {adds}; {used} of {quota} used, {left} left ({source})"
    fix = f"ask for a higher {label} quota (Service Quotas console), or delete unused ones"
    if adds > left:
        return Result("FAIL", f"quota {label}", found, fix)
    if adds > WARN_SHARE * left:
        return Result("WARN", f"quota {label}", found, fix)
    return Result("PASS", f"quota {label}", found)


def _deployed(ctx: Context) -> Counter[str]:
    """How many of each counted resource the app's stacks hold already: a second run of the
    preflight, or a deploy that stopped halfway, adds only the rest."""
    held: Counter[str] = Counter()
    for stack in ctx.plan.templates:
        try:
            found = stack_resources(ctx, stack)
        except ClientError:
            continue  # not deployed
        held.update(COUNTED[r["ResourceType"]] for r in found if r.get("ResourceType") in COUNTED)
    return held


def check_quotas(ctx: Context) -> list[Result]:
    """What the app adds against what the account has left, per counted resource."""
    summary = ctx.client("iam").get_account_summary()["SummaryMap"]
    held = _deployed(ctx)

    def adds(label: str) -> int:
        return max(0, ctx.plan.counts.get(label, 0) - held[label])

    results = [
        quota_result(
            "IAM roles",
            adds("IAM roles"),
            summary["Roles"],
            summary["RolesQuota"],
            "IAM account summary",
        )
    ]
    for label in DOCUMENTED:
        quota, source = _service_quota(ctx, label)
        results.append(quota_result(label, adds(label), _in_use(ctx, label), quota, source))
    widest = max((len(v) for v in ctx.plan.lf_tags.values()), default=0)
    if widest > LF_TAG_VALUES:
        results.append(
            Result(
                "FAIL",
                "quota LF-Tag values",
                f"an LF-Tag with {widest} values; Lake Formation allows {LF_TAG_VALUES}",
                "split the tag's values",
            )
        )
    return results
