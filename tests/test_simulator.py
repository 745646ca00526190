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
            {"k": "arn:aws:iam::111111111111:role/x"},
            True,
        ),
        # ArnLike matches part by part: '*' in the account part cannot swallow the resource part's colon.
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnLike": {"k": "arn:aws:iam::*"}}},
            {"k": "arn:aws:iam::111111111111:role/x"},
            False,
        ),
        ({"Action": "*", "Resource": "*", "Condition": {"ArnNotLike": {"k": "arn:aws:iam::*:role/x"}}}, {}, True),
        # ArnEquals takes wildcards too: "ArnEquals, ArnLike ... These behave identically."
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnEquals": {"k": "arn:aws:iam::*:role/x"}}},
            {"k": "arn:aws:iam::111111111111:role/x"},
            True,
        ),
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnNotEquals": {"k": "arn:aws:iam::*:role/?"}}},
            {"k": "arn:aws:iam::111111111111:role/x"},
            False,
        ),
        # ARN parts are case-sensitive.
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnLike": {"k": "arn:aws:iam::*:role/X"}}},
            {"k": "arn:aws:iam::111111111111:role/x"},
            False,
        ),
        # Null with JSON booleans; a service key not given is absent.
        ({"Action": "*", "Resource": "*", "Condition": {"Null": {"s3:x": True}}}, {}, True),
        ({"Action": "*", "Resource": "*", "Condition": {"Null": {"s3:x": False}}}, {}, False),
        (
            {"Action": "*", "Resource": "*", "Condition": {"ArnEquals": {"k": "arn:aws:iam::111111111111:role/x"}}},
            {"k": "arn:aws:iam::111111111111:role/x"},
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


# ---------------------------------------------------------------------------------------------------------
# Refusals: what the simulator cannot decide exactly raises, naming what is missing or unsupported.


def _evaluate(statement: dict[str, Any], **overrides: Any) -> simulator.Decision:
    fields: dict[str, Any] = {
        "action": "s3:PutObject",
        "account": "app",
        "region": "us-east-1",
        "principal_arn": "arn:aws:iam::222222222222:role/dev",
        "resource": "*",
    }
    fields.update(overrides)
    return simulator.evaluate(_model({"Sid": "S", "Effect": "Deny", **statement}), Request(**fields))


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"StringEqualsIfExists": {"k": "v"}}, "'StringEqualsIfExists'"),
        ({"NumericLessThan": {"k": "1"}}, "'NumericLessThan'"),
        ({"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}, "policy variable"),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/x"}}, "policy variable"),
        ({"StringEquals": {"aws:PrincipalOrgPaths": "o-1/r-1/"}}, "multivalued key"),
        ({"Bool": {"aws:SecureTransport": "yes"}}, "takes true or false"),
    ],
)
def test_unsupported_constructs_name_policy_statement_and_construct(condition: dict[str, Any], named: str) -> None:
    with pytest.raises(simulator.UnsupportedPolicy, match=named) as caught:
        _evaluate({"Action": "*", "Resource": "*", "Condition": condition}, context={"k": "v"})
    assert "policy 'p', statement 'S'" in str(caught.value)


def test_a_policy_variable_in_the_resource_is_refused() -> None:
    with pytest.raises(simulator.UnsupportedPolicy, match="policy variable in Resource"):
        _evaluate({"Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalAccount}-*/*"})


def test_a_statement_whose_action_does_not_match_is_not_examined() -> None:
    """An unsupported operator stops only the requests it could decide."""
    decision = _evaluate({"Action": "ec2:*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "1"}}})
    assert decision.allowed


def test_a_statement_without_sid_is_named_by_position() -> None:
    model = _model({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"k": "1"}}})
    with pytest.raises(simulator.UnsupportedPolicy, match=r"statement #1 \(no Sid\)"):
        simulator.evaluate(model, Request("s3:GetObject", "app", "us-east-1", "arn:aws:iam::222222222222:role/x"))


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"aws:RequestedRegion": "eu-west-1"}, "contradicts --region"),
        ({"AWS:requestedregion": "eu-west-1"}, "contradicts --region"),  # keys ignore case
        ({"aws:PrincipalArn": "arn:aws:iam::222222222222:role/other"}, "contradicts --principal"),
        ({"aws:PrincipalAccount": "333333333333"}, "contradicts --account/--principal"),
        ({"k": "a", "K": "b"}, "given twice with different values"),
        ({"k": ""}, "empty value"),
    ],
)
def test_context_that_contradicts_the_request_is_refused(context: dict[str, str], message: str) -> None:
    with pytest.raises(simulator.InvalidRequest, match=message):
        _evaluate({"Action": "*", "Resource": "*"}, context=context)


def test_context_that_agrees_with_the_request_is_accepted() -> None:
    statement = {"Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}
    assert _evaluate(statement, context={"aws:RequestedRegion": "us-east-1"}).allowed
    assert not _evaluate(statement, region="eu-west-1").allowed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("resource", "arn:aws:s3:::", "is not an ARN"),
        ("resource", "arn:aws:s3", "is not an ARN"),
        ("resource", "s3://bucket/key", "is not an ARN"),
        ("resource", "arn:aws:iam::1234:role/x", "is not an ARN"),
        ("principal_arn", "arn:aws:iam::222222222222:group/admins", "is not an IAM role, user, root"),
        ("principal_arn", "arn:aws:iam::2222:role/x", "is not an IAM role, user, root"),
        ("principal_arn", "developer", "is not an IAM role, user, root"),
        ("principal_arn", "arn:aws:sts::222222222222:assumed-role/Role/session", "give the role's path"),
        ("action", "s3:*", "must be service:Action"),
        ("region", "moon-1", "not an AWS region"),
    ],
)
def test_malformed_requests_are_refused(field: str, value: str, message: str) -> None:
    with pytest.raises(simulator.InvalidRequest, match=message):
        _evaluate({"Action": "*", "Resource": "*"}, **{field: value})


def test_malformed_arn_in_the_context_is_refused_not_compared() -> None:
    # aws:SourceArn is in a service principal's request only (IAM global condition keys page), which no SCP binds;
    # a service key compared as an ARN stands in for it.
    key = "kms:EncryptionContext:aws:cloudtrail:arn"
    statement = {"Action": "*", "Resource": "*", "Condition": {"ArnNotLike": {key: "arn:aws:cloudtrail:*:*:trail/t"}}}
    with pytest.raises(simulator.InvalidRequest, match=f"compares {key} as an ARN"):
        _evaluate(statement, context={key: "not-an-arn"})


EXEMPT_STATEMENT = {
    "Action": "*",
    "Resource": "*",
    "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ops/break-glass"}},
}
SESSION = "arn:aws:sts::222222222222:assumed-role/break-glass/alice"


def test_a_role_session_is_evaluated_as_its_role_with_the_path_given() -> None:
    """aws:PrincipalArn is the role's ARN, path included, not the session's (IAM global condition keys page)."""
    decision = _evaluate(EXEMPT_STATEMENT, principal_arn=SESSION, role_path="/ops/")
    assert decision.allowed, decision.reason
    assert simulator.principal_arn_in_context(SESSION, "/ops/") == "arn:aws:iam::222222222222:role/ops/break-glass"
    # The same session of a role with another path is not exempt: the path decides, so it must be given.
    assert not _evaluate(EXEMPT_STATEMENT, principal_arn=SESSION, role_path="/").allowed
    with pytest.raises(simulator.InvalidRequest, match="--role-path"):
        _evaluate(EXEMPT_STATEMENT, principal_arn=SESSION)
    with pytest.raises(simulator.InvalidRequest, match="must be '/' or begin and end with '/'"):
        _evaluate(EXEMPT_STATEMENT, principal_arn=SESSION, role_path="ops")
    with pytest.raises(simulator.InvalidRequest, match="not a role session ARN"):
        _evaluate(EXEMPT_STATEMENT, principal_arn="arn:aws:iam::222222222222:role/x", role_path="/")


def test_a_service_linked_role_session_is_not_restricted() -> None:
    session = "arn:aws:sts::222222222222:assumed-role/AWSServiceRoleForConfig/session"
    decision = _evaluate(
        {"Action": "*", "Resource": "*"}, principal_arn=session, role_path="/aws-service-role/config.amazonaws.com/"
    )
    assert decision.allowed
    assert decision.reason == "service-linked roles are not restricted by SCPs"


def test_a_global_key_the_request_does_not_give_is_refused_unless_declared_absent() -> None:
    statement = {"Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}
    with pytest.raises(simulator.InvalidRequest, match="depends on aws:PrincipalOrgID"):
        _evaluate(statement)
    assert _evaluate(statement, context={"aws:PrincipalOrgID": "o-abc"}).allowed
    assert not _evaluate(statement, context={"aws:PrincipalOrgID": "o-other"}).allowed
    declared = _evaluate(statement, absent=frozenset({"aws:PrincipalOrgID"}))
    assert not declared.allowed  # a negated operator on an absent key holds
    assert declared.absent_keys == ("aws:PrincipalOrgID",)
    with pytest.raises(simulator.InvalidRequest, match="declared absent but has a value"):
        _evaluate(statement, context={"aws:PrincipalOrgID": "o-abc"}, absent=frozenset({"aws:principalorgid"}))
    with pytest.raises(simulator.InvalidRequest, match="cannot be absent"):
        _evaluate(statement, absent=frozenset({"aws:RequestedRegion"}))


def test_a_service_key_not_given_is_taken_as_absent_and_reported() -> None:
    statement = {
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
    }
    decision = _evaluate(statement)
    assert not decision.allowed
    assert decision.absent_keys == ("s3:x-amz-server-side-encryption",)
    assert _evaluate(statement, context={"s3:x-amz-server-side-encryption": "AES256"}).absent_keys == ()


def test_bool_context_values_must_be_true_or_false() -> None:
    statement = {"Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert not _evaluate(statement, context={"aws:SecureTransport": "false"}).allowed
    assert _evaluate(statement, context={"aws:SecureTransport": "true"}).allowed
    with pytest.raises(simulator.InvalidRequest, match="must be true or false"):
        _evaluate(statement, context={"aws:SecureTransport": "no"})


def test_an_unknown_principal_arn_is_refused_when_the_decision_needs_it() -> None:
    with pytest.raises(simulator.InvalidRequest, match="depends on aws:PrincipalArn, which needs --principal"):
        _evaluate(EXEMPT_STATEMENT, principal_arn="")
    assert not _evaluate({"Action": "*", "Resource": "*"}, principal_arn="").allowed  # not consulted


def test_a_resource_not_given_is_refused_only_when_a_statement_names_resources() -> None:
    named = {"Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::logs/*"}
    with pytest.raises(simulator.InvalidRequest, match="applies to some resources only"):
        _evaluate(named, action="s3:DeleteObject", resource=None)
    assert _evaluate(named, action="s3:DeleteObject", resource="*").allowed  # an action without a resource
    assert not _evaluate({"Action": "s3:*", "Resource": "*"}, resource=None).allowed
    # A statement whose conditions fail does not apply to any resource: no need to know it.
    conditioned = {**named, "Condition": {"StringEquals": {"s3:x": "y"}}}
    assert _evaluate(conditioned, action="s3:DeleteObject", resource=None).allowed


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:iam::216482851263:role/*",
        "arn:aws:iam::216482851263:role/docustack-break-glas?",
        "arn:aws:kms:us-east-1:216482851263:key/*",
    ],
)
def test_a_wildcard_in_the_request_resource_is_refused(management_settings: StackSettings, resource: str) -> None:
    """A request names one resource; matched literally, 'role/*' would slip past every statement naming a role."""
    model = simulator.OrganizationModel.from_settings(management_settings)
    request = simulator.Request(action="iam:CreateRole", account="dev", region="us-east-1", resource=resource)
    with pytest.raises(simulator.InvalidRequest, match="has a wildcard"):
        simulator.evaluate(model, request)


def test_an_s3_object_key_may_hold_wildcard_characters(management_settings: StackSettings) -> None:
    model = simulator.OrganizationModel.from_settings(management_settings)
    request = simulator.Request(
        action="s3:GetObject", account="dev", region="us-east-1", resource="arn:aws:s3:::bucket/report*?.pdf"
    )
    assert simulator.evaluate(model, request).allowed


def test_principal_and_resource_in_different_partitions_are_refused(management_settings: StackSettings) -> None:
    model = simulator.OrganizationModel.from_settings(management_settings)
    request = simulator.Request(
        action="s3:GetObject",
        account="dev",
        region="us-east-1",
        resource="arn:aws:s3:::bucket/key",
        principal_arn="arn:aws-cn:iam::216482851263:role/developer",
    )
    with pytest.raises(simulator.InvalidRequest, match="different partitions"):
        simulator.evaluate(model, request)
