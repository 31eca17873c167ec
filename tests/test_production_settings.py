"""What production requires (alert destination, persona principals, a Lake Formation admin
that is not the deployer), how cdk.json says it, and the refusal or warning synth gives."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint.factory import UNREADY, build_app, cdk_json_context
from model.config import ConfigError
from model.environments import load_config
from model.readiness import gaps, is_deployer
from tests.conftest import CI_OVERLAY, built

ENVS = ("sandbox", "prod")
ROLE = "arn:aws:iam::111122223333:role/data-governance-admin"
SSO_ROLE = (
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
    "AWSReservedSSO_DataAnalyst_0123456789abcdef"
)
DEPLOYER = "arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1"
ACCOUNT_ROOT = "arn:aws:iam::111122223333:root"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:security-operations"
SLACK = {"workspaceId": "T07EA123LEP", "channelId": "C07EZ1ABC23"}
PERSONA_KEYS = ("analyst", "scientist", "engineer", "securityOfficer")


def context(env: str, **settings: Any) -> dict[str, Any]:
    """cdk.json's context selecting ``env``, with ``settings`` replacing its top-level keys."""
    ctx = copy.deepcopy(cdk_json_context())
    ctx["env"] = env
    ctx["environments"][env].update(settings)
    return ctx


def ready(env: str, **settings: Any) -> dict[str, Any]:
    """``env`` with every setting production requires, then ``settings``."""
    required = {
        "alerts": {"email": "alerts@example.com"},
        "lakeFormationAdmins": [ROLE],
        "personas": {key: [SSO_ROLE] for key in PERSONA_KEYS},
    }
    return context(env, **{**required, **settings})


# -- alerts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize(
    ("alerts", "email", "topic", "slack"),
    [
        pytest.param({}, None, None, False, id="absent"),
        pytest.param({"email": None, "topicArn": None, "slack": None}, None, None, False,
                     id="all-null"),
        pytest.param({"email": "ops@example.com"}, "ops@example.com", None, False, id="email"),
        pytest.param({"topicArn": TOPIC}, None, TOPIC, False, id="topic"),
        pytest.param({"slack": SLACK}, None, None, True, id="slack"),
        pytest.param({"email": "ops@example.com", "topicArn": TOPIC, "slack": SLACK},
                     "ops@example.com", TOPIC, True, id="all-three"),
    ],
)  # fmt: skip
def test_every_shape_of_alerts_is_read(
    env: str, alerts: dict[str, Any], email: str | None, topic: str | None, slack: bool
) -> None:
    config = load_config(ready(env, alerts=alerts)).alerts
    assert (config.email, config.topic_arn) == (email, topic)
    assert (config.slack is not None) is slack
    if config.slack:
        assert (config.slack.workspace_id, config.slack.channel_id) == (
            "T07EA123LEP",
            "C07EZ1ABC23",
        )
    assert config.reach_someone is bool(email or topic or slack)


BAD_ALERTS = [
    pytest.param({"email": "ops-at-example.com"}, "alerts.email = 'ops-at-example.com': expected "
                 "an e-mail address, or null", id="email-not-an-address"),
    pytest.param({"topicArn": "security-operations"}, "alerts.topicArn = 'security-operations': "
                 "expected the ARN of an existing standard SNS topic", id="topic-not-an-arn"),
    pytest.param({"topicArn": TOPIC + ".fifo"}, "alerts.topicArn = '" + TOPIC + ".fifo': "
                 "expected the ARN of an existing standard SNS topic", id="topic-fifo"),
    pytest.param({"topicArn": ["x"]}, "alerts.topicArn = ['x']: expected the ARN", id="topic-list"),
    pytest.param({"slack": {"workspaceId": "T07EA123LEP"}}, "alerts.slack.channelId = "
                 "'<missing>': expected a value", id="slack-without-channel"),
    pytest.param({"slack": {**SLACK, "workspaceId": "acme"}}, "alerts.slack.workspaceId = "
                 "'acme': expected the Slack workspace ID", id="slack-workspace-not-an-id"),
    pytest.param({"slack": {**SLACK, "channelId": "#alerts"}}, "alerts.slack.channelId = "
                 "'#alerts': expected a Slack channel ID", id="slack-channel-a-name"),
    pytest.param({"slack": {**SLACK, "channel": "x"}}, "alerts.slack.channel = 'x': unknown "
                 "setting; expected one of channelId, workspaceId", id="slack-misspelt"),
    pytest.param({"slack": "https://hooks.slack.com/x"}, "alerts.slack = "
                 "'https://hooks.slack.com/x': expected an object of settings", id="slack-a-url"),
    pytest.param({"sms": "+15550100"}, "alerts.sms = '+15550100': unknown setting; expected one "
                 "of email, slack, topicArn", id="unknown-destination"),
    pytest.param("ops@example.com", "alerts = 'ops@example.com': expected an object of settings",
                 id="alerts-a-string"),
]  # fmt: skip


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize(("alerts", "message"), BAD_ALERTS)
def test_a_wrong_alert_destination_names_the_key(env: str, alerts: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(ready(env, alerts=alerts))
    assert str(error.value).startswith(f"cdk.json: context.environments.{env}.{message}")


@pytest.mark.parametrize("env", ENVS)
def test_a_topic_elsewhere_than_the_environment_is_refused(env: str) -> None:
    placed = ready(env, alerts={"topicArn": TOPIC}, account="111122223333", region="eu-west-2")
    if env == "prod":  # the sandbox may not share prod's account and region, nor the reverse
        placed["environments"]["sandbox"] |= {"account": "444455556666", "region": "eu-west-2"}
    expected = "a topic in this environment's account 111122223333 and region eu-west-2"
    with pytest.raises(
        ConfigError, match=rf"{env}\.alerts\.topicArn = '{TOPIC}': expected {expected}"
    ):
        load_config(placed)
    placed["environments"][env]["region"] = "eu-west-1"
    assert load_config(placed).alerts.topic_arn == TOPIC


@pytest.mark.parametrize("env", ENVS)
def test_the_old_alert_email_key_says_where_it_moved(env: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(context(env, alertEmail="ops@example.com"))
    assert str(error.value) == (
        f"cdk.json: context.environments.{env}.alertEmail = 'ops@example.com': expected no "
        'alertEmail: the setting moved to alerts.email (the alerts object: {"email": ..., '
        '"topicArn": ..., "slack": ...})'
    )


# -- principals and the production flag ------------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("lakeFormationAdmins", [ACCOUNT_ROOT], id="admin-root"),
        pytest.param("lakeFormationAdmins", [ROLE, ROLE], id="admin-repeated"),
        pytest.param("lakeFormationAdmins", "arn:aws:iam::111122223333:role/x", id="admin-text"),
        pytest.param("personas", {"analyst": [ACCOUNT_ROOT]},
                     id="persona-root"),
        pytest.param("personas", {"engineer": ["AWSReservedSSO_DataEngineer"]}, id="persona-name"),
        pytest.param("personas", {"scientist": [SSO_ROLE, SSO_ROLE]}, id="persona-repeated"),
    ],
)  # fmt: skip
def test_principals_are_roles_or_users_never_a_whole_account(
    env: str, key: str, value: Any
) -> None:
    path = key if key == "lakeFormationAdmins" else f"personas.{next(iter(value))}"
    with pytest.raises(ConfigError) as error:
        load_config(context(env, **{key: value}))
    assert str(error.value).startswith(f"cdk.json: context.environments.{env}.{path} = ")
    assert "expected a list of IAM role or user ARNs without repeats" in str(error.value)
    assert "an account's :root is not accepted" in str(error.value)


def test_production_is_a_flag_that_defaults_to_true() -> None:
    assert load_config(context("sandbox")).production is False
    assert load_config(context("prod")).production is True
    absent = ready("prod")
    del absent["environments"]["prod"]["production"]
    assert load_config(absent).production is True
    with pytest.raises(ConfigError, match=r"prod\.production = 'yes': expected true or false"):
        load_config(ready("prod", production="yes"))
    with pytest.raises(ConfigError, match=r"sandbox\.removeDataOnDestroy = True: expected false "
                       "when production is true: production keeps its data"):  # fmt: skip
        load_config(context("sandbox", production=True))


# -- what is missing -----------------------------------------------------------------------


def test_the_shipped_prod_lacks_all_three_and_the_sandbox_the_same() -> None:
    expected = ["alerts", "lakeFormationAdmins", *(f"personas.{k}" for k in PERSONA_KEYS)]
    for env in ENVS:
        assert [gap.key for gap in gaps(load_config(context(env)))] == expected
        assert gaps(load_config(ready(env))) == []


@pytest.mark.parametrize("env", ENVS)
def test_each_requirement_is_missed_on_its_own(env: str) -> None:
    no_alerts = ready(env, alerts={"email": None})
    assert [g.key for g in gaps(load_config(no_alerts))] == ["alerts"]
    only_deployer = ready(env, lakeFormationAdmins=[DEPLOYER])
    assert [g.key for g in gaps(load_config(only_deployer))] == ["lakeFormationAdmins"]
    one_persona_empty = ready(env)
    one_persona_empty["environments"][env]["personas"]["engineer"] = []
    assert [g.key for g in gaps(load_config(one_persona_empty))] == ["personas.engineer"]
    for destination in ({"email": "a@example.com"}, {"topicArn": TOPIC}, {"slack": SLACK}):
        assert gaps(load_config(ready(env, alerts=destination))) == []


def test_the_deployer_is_recognised_by_its_bootstrap_name() -> None:
    assert is_deployer(DEPLOYER)
    assert is_deployer(DEPLOYER.replace("hnb659fds", "custom01"))
    assert not is_deployer(ROLE)
    assert not is_deployer("arn:aws:iam::111122223333:role/cdk-hnb659fds-deploy-role-1-eu-west-1")


def test_prod_without_the_settings_refuses_with_one_message_naming_each() -> None:
    with pytest.raises(ConfigError) as error:
        build_app(context("prod"), enforce_compliance=False)
    where = "cdk.json: context.environments.prod"
    lines = str(error.value).splitlines()
    assert lines[0] == (
        f"{where} is a production environment (production: true) and lacks 6 required settings:"
    )
    assert lines[1].startswith(f"  {where}.alerts = {{}}: expected a destination for the alarms")
    assert (
        "alerts.email (an address), alerts.topicArn (an existing SNS topic) or alerts.slack"
        in (lines[1])
    )
    assert lines[2].startswith(
        f"  {where}.lakeFormationAdmins = []: expected at least one IAM role ARN that is not the "
        "CDK deployment role"
    )
    for line, key in zip(lines[3:7], PERSONA_KEYS, strict=True):
        assert line.startswith(f"  {where}.personas.{key} = []: expected the IAM role ARNs")
    assert lines[7].startswith("Set them in cdk.json or in a settings overlay (-c overlay=FILE")
    assert len(lines) == 8


def test_prod_refuses_what_is_still_missing_only() -> None:
    with pytest.raises(ConfigError) as error:
        build_app(ready("prod", lakeFormationAdmins=[DEPLOYER]), enforce_compliance=False)
    assert "lacks 1 required setting:\n" in str(error.value)
    assert f"lakeFormationAdmins = ['{DEPLOYER}']" in str(error.value)


def test_a_sandbox_synth_does_not_fail_on_prod_and_warns_once() -> None:
    """The shipped cdk.json as is: only the selected environment is held to production."""
    blueprint = build_app(context("sandbox"), enforce_compliance=False)
    found = []
    for stack in blueprint.stacks:
        found += assertions.Annotations.from_stack(stack).find_warning(
            "*", assertions.Match.any_value()
        )
    (warning,) = [
        w for w in found if w.entry.type == "aws:cdk:warning" and UNREADY in str(w.entry.data)
    ]
    assert warning.id == "/Governance"
    text = str(warning.entry.data)
    assert text.startswith(
        "cdk.json: context.environments.sandbox (production: false) leaves unset what a "
        "production environment must name: alerts, lakeFormationAdmins, personas.analyst, "
        "personas.scientist, personas.engineer, personas.securityOfficer."
    )
    assert "Alarms and pipeline failures reach the alerts topic and nobody else." in text
    assert "trust this account with MFA" in text
    assert "a sandbox convenience" in text
    assert "The deployment role is the only Lake Formation admin." in text


def test_a_ready_environment_says_nothing() -> None:
    for stack in built("prod").stacks:
        warnings = assertions.Annotations.from_stack(stack).find_warning(
            "*", assertions.Match.string_like_regexp("production")
        )
        assert warnings == []


# -- the overlay -----------------------------------------------------------------------------


def test_the_ci_overlay_fills_in_exactly_what_production_requires() -> None:
    overlay = json.loads(Path(CI_OVERLAY).read_text())
    assert set(overlay["environments"]) == {"prod"}
    assert set(overlay["environments"]["prod"]) == {"alerts", "lakeFormationAdmins", "personas"}
    config = built("prod").config
    assert gaps(config) == []
    assert config.production
    assert config.alerts.email
    assert config.alerts.topic_arn
    assert config.alerts.slack


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{", "-c overlay='o.json': expected a readable JSON file", id="not-json"),
        pytest.param('{"prod": {}}', "o.json: expected an object with one key, environments",
                     id="no-environments-key"),
        pytest.param('{"environments": {"staging": {}}}', "o.json: environments.staging: "
                     "unknown environment; expected one of prod, sandbox", id="unknown-env"),
        pytest.param('{"environments": {"prod": {"alerts": {"email": "x"}}}}',
                     "cdk.json: context.environments.prod.alerts.email = 'x'", id="bad-value"),
    ],
)  # fmt: skip
def test_a_wrong_overlay_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setattr("blueprint.factory.ROOT", tmp_path)
    (tmp_path / "o.json").write_text(text)
    with pytest.raises(ConfigError) as error:
        build_app({**context("prod"), "overlay": "o.json"}, enforce_compliance=False)
    assert str(error.value).startswith(message)


def test_the_overlay_merges_objects_and_replaces_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blueprint.factory import _overlaid

    monkeypatch.setattr("blueprint.factory.ROOT", tmp_path)
    (tmp_path / "o.json").write_text(
        '{"environments": {"prod": {"alerts": {"email": "a@example.com"}, "tags": {"owner": '
        'null}, "lakeFormationAdmins": ["' + ROLE + '"]}}}'
    )
    environments = cdk_json_context()["environments"]
    merged = _overlaid(environments, "o.json")
    assert merged["sandbox"] == environments["sandbox"]
    assert merged["prod"]["alerts"] == {"email": "a@example.com", "topicArn": None, "slack": None}
    assert merged["prod"]["tags"] == {"owner": None, "costCenter": "data-platform"}
    assert merged["prod"]["lakeFormationAdmins"] == [ROLE]
    assert merged["prod"]["retention"] == environments["prod"]["retention"]
