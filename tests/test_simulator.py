"""The SCP simulator: the probe table against the real policies, and the evaluation rules on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import policies
from docustack import project, simulator
from docustack.probes import PROBES, Probe, with_probe_accounts
from docustack.settings import StackSettings
from docustack.simulator import OrganizationModel, Request


@pytest.fixture(scope="module")
def organization() -> OrganizationModel:
    """The management stack's organization, plus the sandbox account the probes use."""
    settings = project.load_stack_settings(project.find_project_dir(Path(__file__).parent), "management")
    return with_probe_accounts(OrganizationModel.from_settings(settings))


def test_the_probe_table_is_large_enough_to_mean_something() -> None:
    assert len(PROBES) >= 30
    assert {p.allowed for p in PROBES} == {True, False}


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.name)
def test_probe(organization: OrganizationModel, probe: Probe) -> None:
    decision = simulator.evaluate(organization, probe.request)
    assert decision.allowed is probe.allowed, f"{probe.why}: {decision.reason}"
    if not probe.allowed:
        assert sorted({m.policy for m in decision.denied_by}) == sorted(probe.denied_by), decision.reason


def test_denial_names_policy_statement_and_target(organization: OrganizationModel) -> None:
    decision = simulator.evaluate(
        organization,
        Request("s3:PutObject", "dev", "us-east-1", "arn:aws:iam::216482851263:role/x", "arn:aws:s3:::b/k"),
    )
    assert decision.denied_by == (
        simulator.StatementMatch("require-s3-encryption", "ou:Workloads", "DenyUnencryptedS3Uploads"),
    )
    assert decision.levels == ("root", "ou:Workloads", "account:dev")


def test_accounts_can_be_named_by_id(organization: OrganizationModel) -> None:
    by_id = simulator.evaluate(
        organization, Request("ec2:RunInstances", "216482851263", "us-west-2", "arn:aws:iam::216482851263:role/x")
    )
    assert not by_id.allowed


def test_unknown_account_is_an_error(organization: OrganizationModel) -> None:
    with pytest.raises(simulator.UnknownAccount, match="no account 'nope'"):
        simulator.evaluate(organization, Request("s3:GetObject", "nope", "us-east-1"))


# ---------------------------------------------------------------------------------------------------------
# Evaluation rules, each on a one-statement policy attached to the root of a one-account organization.


def _model(statement: dict[str, Any]) -> OrganizationModel:
    return OrganizationModel(
        management_account_id="111111111111",
        ou_parents={"Workloads": None},
        accounts={"app": simulator.AccountNode("app", "222222222222", "Workloads")},
        attachments={"root": [simulator.AttachedPolicy("p", {"Version": "2012-10-17", "Statement": [statement]})]},
    )


def _denied(statement: dict[str, Any], *, action: str = "s3:PutObject", resource: str = "*", **context: str) -> bool:
    request = Request(action, "app", "us-east-1", "arn:aws:iam::222222222222:role/dev", resource, context)
    return not simulator.evaluate(_model({"Sid": "S", "Effect": "Deny", **statement}), request).allowed


@pytest.mark.parametrize(
    ("statement", "context", "denied"),
    [
        ({"Action": "s3:*", "Resource": "*"}, {}, True),
        ({"Action": "S3:PUT*", "Resource": "*"}, {}, True),  # actions are case-insensitive
        ({"Action": "s3:Get*", "Resource": "*"}, {}, False),
        ({"Action": "s3:Put?bject", "Resource": "*"}, {}, True),
        ({"NotAction": ["iam:*", "s3:*"], "Resource": "*"}, {}, False),
        ({"NotAction": ["iam:*"], "Resource": "*"}, {}, True),
        ({"Action": "*", "Resource": "*", "Condition": {"Null": {"k": "true"}}}, {}, True),
        ({"Action": "*", "Resource": "*", "Condition": {"Null": {"k": "true"}}}, {"k": "v"}, False),
        (
            {"Action": "*", "Resource": "*", "Condition": {"Null": {"k": "false"}}},
            {"K": "v"},
            True,
        ),  # key names ignore case
        (
            {"Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"aws:SecureTransport": "false"},
            True,
        ),
        ({"Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, {}, False),
        ({"Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": ["a", "b"]}}}, {"k": "b"}, True),
        (
            {"Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": "a"}}},
            {"k": "A"},
            False,
        ),  # values keep case
        ({"Action": "*", "Resource": "*", "Condition": {"StringEquals": {"k": "a"}}}, {}, False),
        ({"Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"k": ["a", "b"]}}}, {"k": "c"}, True),
        ({"Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"k": ["a", "b"]}}}, {"k": "a"}, False),
        ({"Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"k": "a"}}}, {}, True),  # missing key
        ({"Action": "*", "Resource": "*", "Condition": {"StringLike": {"k": "ab*"}}}, {"k": "abc"}, True),
        ({"Action": "*", "Resource": "*", "Condition": {"StringNotLike": {"k": "ab*"}}}, {"k": "abc"}, False),
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnLike": {"k": "arn:aws:iam::*:role/x"}}},
            {"k": "arn:aws:iam::1:role/x"},
            True,
        ),
        # ArnLike matches part by part: '*' in the account part cannot swallow the resource part's colon.
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnLike": {"k": "arn:aws:iam::*"}}},
            {"k": "arn:aws:iam::1:role/x"},
            False,
        ),
        ({"Action": "*", "Resource": "*", "Condition": {"ArnNotLike": {"k": "arn:aws:iam::*:role/x"}}}, {}, True),
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnEquals": {"k": "arn:aws:iam::1:role/x"}}},
            {"k": "arn:aws:iam::1:role/x"},
            True,
        ),
        # Two operators are ANDed; both must hold.
        (
            {"Action": "*", "Resource": "*", "Condition": {"StringEquals": {"a": "1"}, "StringNotEquals": {"b": "2"}}},
            {"a": "1", "b": "2"},
            False,
        ),
    ],
)
def test_condition_and_action_rules(statement: dict[str, Any], context: dict[str, str], denied: bool) -> None:
    assert _denied(statement, **context) is denied


def test_resource_and_not_resource() -> None:
    statement = {"Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::logs-*/*"}
    assert _denied(statement, action="s3:DeleteObject", resource="arn:aws:s3:::logs-1/a/b")
    assert not _denied(statement, action="s3:DeleteObject", resource="arn:aws:s3:::other/a")
    assert not _denied(statement, action="s3:DeleteObject", resource="arn:aws:s3:::LOGS-1/a")  # case-sensitive
    not_resource = {"Action": "s3:DeleteObject", "NotResource": "arn:aws:s3:::logs-*/*"}
    assert not _denied(not_resource, action="s3:DeleteObject", resource="arn:aws:s3:::logs-1/a")
    assert _denied(not_resource, action="s3:DeleteObject", resource="arn:aws:s3:::other/a")


def test_a_level_without_any_allow_denies_implicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    # An allow-list in place of FullAWSAccess that does not cover the action.
    only_s3 = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    monkeypatch.setattr(simulator, "FULL_AWS_ACCESS_DOCUMENT", only_s3)
    model = _model({"Sid": "S", "Effect": "Deny", "Action": "none:*", "Resource": "*"})
    decision = simulator.evaluate(
        model, Request("ec2:RunInstances", "app", "us-east-1", "arn:aws:iam::222222222222:role/x")
    )
    assert not decision.allowed
    assert "no SCP attached to root, ou:Workloads, account:app allows it" in decision.reason


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIfExists": {"k": "v"}},
        {"ForAnyValue:StringEquals": {"k": "v"}},
        {"NumericLessThan": {"k": "1"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ],
)
def test_unsupported_operators_are_refused_not_guessed(condition: dict[str, Any]) -> None:
    with pytest.raises(simulator.UnsupportedPolicy):
        _denied({"Action": "*", "Resource": "*", "Condition": condition}, k="v")


def test_every_project_policy_uses_only_what_the_simulator_evaluates(management_settings: StackSettings) -> None:
    assert management_settings.organization is not None
    for scp in management_settings.organization.service_control_policies:
        simulator.check_supported(policies.render(policies.load(scp.file), management_settings.policy_variables()))
