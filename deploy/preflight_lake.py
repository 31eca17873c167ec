"""The preflight's Lake Formation checks: who administers the data lake, and whether
IAMAllowedPrincipals would let IAM policies alone decide who reads the app's tables.

Lake Formation settings are one per account, so what the governance stack writes meets what
other workloads rely on; these checks say what the deploy will change, and read only.
"""

from __future__ import annotations

from typing import Any

from deploy.preflight_checks import Context, Result
from deploy.preflight_plan import execution_role

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"


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
    results = []
    for database, table in _app_catalog(ctx):
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


def _app_catalog(ctx: Context) -> list[tuple[str, str]]:
    """The app's databases (table "") and tables that exist already."""
    glue = ctx.client("glue")
    found: list[tuple[str, str]] = []
    for name in (n.name for n in ctx.plan.names if n.kind == "AWS::Glue::Database"):
        try:
            glue.get_database(Name=name)
            found.append((name, ""))
        except glue.exceptions.EntityNotFoundException:
            continue
    for database, table in ctx.plan.tables:
        try:
            glue.get_table(DatabaseName=database, Name=table)
            found.append((database, table))
        except glue.exceptions.EntityNotFoundException:
            continue
    return found
