"""Asks a real AWS account, read-only, whether a first deploy of the app can succeed there.

What fails a first deploy most often is the account, not the app: no bootstrap (or an old
one), a CDK execution role that is no Lake Formation admin, IAMAllowedPrincipals defaults that
bypass the grants, a fixed name someone else holds, a quota the app would exceed, a region
without a service. The preflight reads the synthesized app (``--assembly``) and the account
(boto3's default credentials: profile, environment variables, SSO) and prints one line per
finding; it exits 1 if anything would fail the deploy. It changes nothing in the account.

    python -m deploy.preflight --env sandbox --assembly cdk.out.preflight
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from deploy.preflight_checks import (
    Context,
    Result,
    check_bootstrap,
    check_credentials,
    check_region,
)
from deploy.preflight_lake import check_iam_allowed_principals, check_lake_admins
from deploy.preflight_names import check_names, check_quotas
from deploy.preflight_plan import Plan, read_plan

Check = Callable[[Context], list[Result]]
# In order: without credentials for the right account nothing else can be asked.
CHECKS: tuple[Check, ...] = (
    check_credentials,
    check_bootstrap,
    check_lake_admins,
    check_iam_allowed_principals,
    check_names,
    check_quotas,
    check_region,
)


def context(plan: Plan, session: boto3.session.Session | None = None) -> Context | Result:
    """The checks' shared context: the region is cdk.json's, else boto3's; a FAIL if neither."""
    session = session or boto3.session.Session()
    region = plan.region or session.region_name
    if not region:
        return Result(
            "FAIL",
            "region",
            "cdk.json pins no region and boto3 has none",
            "set `region` in cdk.json, or AWS_REGION / a profile's region",
        )
    return Context(plan=plan, session=session, region=region)


def _asked(check: Check, ctx: Context) -> list[Result]:
    """The check's lines; a WARN naming the refused call if the account would not answer it
    (credentials without read access to one service should not hide the other checks)."""
    try:
        return check(ctx)
    except ClientError as error:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        return [
            Result(
                "WARN",
                name,
                f"not checked: {error.operation_name} answered {error.response['Error']['Code']}",
                "run the preflight with credentials that may read this (e.g. ReadOnlyAccess), "
                "or check by hand",
            )
        ]


def run(
    plan: Plan, out: Callable[[str], None] = print, session: boto3.session.Session | None = None
) -> int:
    """Run every check, print its lines with ``out``; 1 if any FAIL, else 0."""
    ctx = context(plan, session)
    if isinstance(ctx, Result):
        results = [ctx]
    else:
        results = []
        for check in CHECKS:
            found = _asked(check, ctx)
            results += found
            if check is check_credentials and any(r.status == "FAIL" for r in found):
                break  # the other checks would ask the wrong account, or none
    for result in results:
        for line in result.lines():
            out(line)
    return 1 if any(r.status == "FAIL" for r in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.preflight", description=__doc__)
    parser.add_argument("--env", required=True, help="the environment of cdk.json synthesized")
    parser.add_argument(
        "--assembly",
        required=True,
        type=Path,
        help="the cloud assembly folder (cdk synth --output DIR)",
    )
    args = parser.parse_args(argv)
    if not (args.assembly / "manifest.json").exists():
        parser.error(f"{args.assembly}/manifest.json not found: synthesize {args.env} first")
    return run(read_plan(args.assembly, args.env))


if __name__ == "__main__":
    sys.exit(main())
