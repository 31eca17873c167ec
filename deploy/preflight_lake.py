"""The preflight's Lake Formation checks: who administers the data lake, and whether
IAMAllowedPrincipals would let IAM policies alone decide who reads the app's tables.

Lake Formation settings are one per account, so what the governance stack writes meets what
other workloads rely on; these checks say what the deploy will change, and read only.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from deploy.preflight_checks import Context, Result
from deploy.preflight_plan import execution_role

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
# What Glue says when Lake Formation, not IAM, refuses a catalog read.
LAKE_FORMATION_REFUSAL = "Insufficient Lake Formation permission"
SESSION_ARN = re.compile(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+")


def _lake_settings_today(ctx: Context) -> dict[str, Any]:
    return dict(ctx.client("lakeformation").get_data_lake_settings()["DataLakeSettings"])


def check_lake_admins(ctx: Context) -> list[Result]:
    """Whether the CDK execution role is a Lake Formation admin, or the deploy makes it one;
    and which of the environment's ``lakeFormationAdmins`` are admins already."""
    today = {
        a["DataLakePrincipalIdentifier"]
        for a in _lake_settings_today(ctx).get("DataLakeAdmins", [])
    }
    role = execution_role(ctx.account, ctx.region)
    settings = ctx.plan.lake_settings(ctx.account, ctx.region)
    adds = set(settings.admins) if settings else set()
    others = sorted(adds - {role})
    named = (
        (
            f"; lakeFormationAdmins: {len(others)} ({sum(a in today for a in others)} "
            "admins already, the rest added by the deploy)"
        )
        if others
        else ("; lakeFormationAdmins: none")
    )
    found = f"{len(today)} admins today{named}"
    if settings and settings.mutation_type != "APPEND" and today - adds:
        return [
            Result(
                "WARN",
                "Lake Formation admins",
                f"{found}; the deploy REPLACES the admin list and removes "
                f"{len(today - adds)} of them",
                "set MutationType APPEND on the data lake settings, or add those admins "
                "to lakeFormationAdmins",
            )
        ]
    if role in today:
        return [
            Result(
                "PASS",
                "Lake Formation admins",
                f"{found}; the CDK execution role is an admin already",
            )
        ]
    if role in adds:
        return [
            Result(
                "PASS",
                "Lake Formation admins",
                f"{found}; the governance stack adds the CDK execution role "
                f"(MutationType {settings.mutation_type if settings else ''})",
            )
        ]
    return [
        Result(
            "WARN",
            "Lake Formation admins",
            f"{found}; the CDK execution role is no admin and the deploy does not add "
            "it: creating databases and grants will fail",
            f"make {role} a Lake Formation admin (aws lakeformation "
            "put-data-lake-settings, keeping today's admins)",
        )
    ]


def _grants_everyone(defaults: list[dict[str, Any]]) -> bool:
    return any(
        d.get("Principal", {}).get("DataLakePrincipalIdentifier") == IAM_ALLOWED_PRINCIPALS
        for d in defaults
    )


def check_iam_allowed_principals(ctx: Context) -> list[Result]:
    """The account's default permissions for new databases and tables, what the deploy does
    with them, and any of the app's databases and tables that already grant IAM_ALLOWED_PRINCIPALS
    (where IAM policies alone decide, bypassing the app's Lake Formation grants)."""
    today = _lake_settings_today(ctx)
    present = [
        key
        for key in ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions")
        if _grants_everyone(today.get(key, []))
    ]
    settings = ctx.plan.lake_settings(ctx.account, ctx.region)
    turns_off = settings is not None and settings.database_defaults == [] == settings.table_defaults
    results = _existing_grants(ctx, today)
    if present and turns_off:
        results.insert(
            0,
            Result(
                "WARN",
                "IAMAllowedPrincipals",
                f"{' and '.join(present)} grant IAM_ALLOWED_PRINCIPALS "
                "today; the deploy turns both off for the whole account, so databases and tables "
                "other workloads create afterwards no longer grant it",
                "check that nothing else in the account relies on the defaults "
                "(docs/governance.md)",
            ),
        )
    elif present:
        results.insert(
            0,
            Result(
                "FAIL",
                "IAMAllowedPrincipals",
                f"{' and '.join(present)} grant IAM_ALLOWED_PRINCIPALS "
                "and the deploy leaves them: the app's databases and tables would bypass its "
                "grants",
                "set CreateDatabaseDefaultPermissions and CreateTableDefaultPermissions to [] in "
                "the governance stack's data lake settings",
            ),
        )
    else:
        off = "the deploy keeps them off" if turns_off else "the deploy does not change them"
        results.insert(
            0,
            Result(
                "PASS",
                "IAMAllowedPrincipals",
                f"no default permissions for IAM_ALLOWED_PRINCIPALS; {off}",
            ),
        )
    return results


def caller_principal(arn: str) -> str:
    """The principal Lake Formation lists for the caller: an assumed-role session's role
    (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION is arn:aws:iam::ACCOUNT:role/NAME), else
    the caller's own ARN."""
    session = SESSION_ARN.fullmatch(arn)
    if session:
        partition, account, role = session.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return arn


def _not_checked(why: str, fix: str) -> Result:
    return Result(
        "WARN",
        "IAMAllowedPrincipals",
        f"not checked: {why}; the app's existing databases and tables may grant "
        "IAM_ALLOWED_PRINCIPALS",
        fix,
    )


def _existing_grants(ctx: Context, today: dict[str, Any]) -> list[Result]:
    """A WARN for each of the app's existing databases and tables that grants
    IAM_ALLOWED_PRINCIPALS. Lake Formation lists only the permissions its caller may see, so
    without a caller who is an admin or read-only admin an empty list proves nothing: the
    check then says it did not look."""
    caller = caller_principal(ctx.client("sts").get_caller_identity()["Arn"])
    admins = {
        a["DataLakePrincipalIdentifier"]
        for key in ("DataLakeAdmins", "ReadOnlyAdmins")
        for a in today.get(key, [])
    }
    if caller not in admins:
        return [
            _not_checked(
                "the caller is not a Lake Formation admin or read-only admin",
                f"run the preflight as one, e.g. with {caller} among the ReadOnlyAdmins of "
                "the data lake settings, or check by hand",
            )
        ]
    existing, refused = _app_catalog(ctx)
    results = [
        _not_checked(
            f"Lake Formation refused the caller {', '.join(refused)}",
            "grant the caller DESCRIBE on them in Lake Formation, or check by hand",
        )
    ] if refused else []  # fmt: skip
    for database, table in existing:
        resource = (
            {"Table": {"DatabaseName": database, "Name": table}}
            if table
            else {"Database": {"Name": database}}
        )
        grants = ctx.client("lakeformation").list_permissions(
            Principal={"DataLakePrincipalIdentifier": IAM_ALLOWED_PRINCIPALS}, Resource=resource
        )["PrincipalResourcePermissions"]
        if grants:
            what = f"table {database}.{table}" if table else f"database {database}"
            results.append(
                Result(
                    "WARN",
                    "IAMAllowedPrincipals",
                    f"the existing {what} grants IAM_ALLOWED_PRINCIPALS: "
                    "IAM policies alone decide who reads it, not the app's grants",
                    f"aws lakeformation revoke-permissions --principal DataLakePrincipalIdentifier="
                    f"{IAM_ALLOWED_PRINCIPALS} on {what} (after checking nothing relies on it)",
                )
            )
    return results


def _app_catalog(ctx: Context) -> tuple[list[tuple[str, str]], list[str]]:
    """The app's databases (table "") and tables that exist already; and those Lake
    Formation would not let the caller read, which may exist or not."""
    glue = ctx.client("glue")
    found: list[tuple[str, str]] = []
    refused: list[str] = []
    databases = [(n.name, "") for n in ctx.plan.names if n.kind == "AWS::Glue::Database"]
    for database, table in databases + list(ctx.plan.tables):
        try:
            if table:
                glue.get_table(DatabaseName=database, Name=table)
            else:
                glue.get_database(Name=database)
            found.append((database, table))
        except glue.exceptions.EntityNotFoundException:
            continue
        except ClientError as error:
            answer = error.response["Error"]
            if answer["Code"] != "AccessDeniedException" or LAKE_FORMATION_REFUSAL not in (
                answer.get("Message", "")
            ):
                raise
            refused.append(f"table {database}.{table}" if table else f"database {database}")
    return found, refused
