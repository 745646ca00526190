"""The data perimeter: the RCPs and the Sandbox "no PHI" SCP as documents, and their decisions through the simulator.

The probe table (docustack/probes.py, PERIMETER_PROBES) holds one request per perimeter case and its allowed twin;
these tests hold the documents to AWS's lists and quotas and sweep the cases the probes only sample.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import policies
from docustack import project, simulator
from docustack.probes import CI_SUBJECT_PREFIX, PERIMETER_PROBES, with_probe_accounts
from docustack.settings import CONFIG_KEY, StackSettings, iter_ous
from docustack.simulator import OrganizationModel, Request
from policies import perimeter

PROJECT_DIR = Path(__file__).resolve().parent.parent
IAM_DATA = PROJECT_DIR / "node_modules" / "@cloud-copilot" / "iam-data" / "data"
RCP_FILES = ("rcp-identity-perimeter.json", "rcp-deny-sandbox-principals.json")
SANDBOX = "arn:aws:iam::777788889999:role/developer"
OUTSIDER = "arn:aws:iam::999988887777:role/attacker"
DEV_ROLE = "arn:aws:iam::216482851263:role/developer"


@pytest.fixture(scope="module")
def organization() -> OrganizationModel:
    settings = project.load_stack_settings(PROJECT_DIR, "management")
    return with_probe_accounts(OrganizationModel.from_settings(settings))


def _prefixes(document: dict[str, Any]) -> set[str]:
    return {
        action.split(":")[0].lower()
        for statement in document["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    }


# ---------------------------------------------------------------------------------------------------------
# The documents


def test_the_rcp_service_list_is_the_pages_and_every_rcp_keeps_to_it() -> None:
    """The list is the RCP page's ("List of AWS services that support RCPs"), as iam-data, generated from it, has
    it; a prefix RCPs do not support would be ignored by AWS and give false comfort."""
    assert perimeter.RCP_SUPPORTED_SERVICES_SOURCE.startswith(
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html"
    )
    assert set(json.loads((IAM_DATA / "rcpSupportedServices.json").read_text())) == perimeter.RCP_SUPPORTED_SERVICES
    assert 55 <= len(perimeter.RCP_SUPPORTED_SERVICES) <= 70  # "about 60 prefixes"
    assert {"s3", "sts", "kms", "sqs", "secretsmanager", "dynamodb", "logs", "ecr", "cognito-idp"} <= (
        perimeter.RCP_SUPPORTED_SERVICES
    )
    assert "healthlake" not in perimeter.RCP_SUPPORTED_SERVICES
    for file in RCP_FILES:
        named = _prefixes(policies.load(file, "RESOURCE_CONTROL_POLICY"))
        assert named <= perimeter.RCP_SUPPORTED_SERVICES, (file, named - perimeter.RCP_SUPPORTED_SERVICES)


def test_the_perimeter_covers_the_data_services_of_ct_s3_pv_4_and_its_siblings() -> None:
    document = policies.load("rcp-identity-perimeter.json", "RESOURCE_CONTROL_POLICY")
    statements = {s["Sid"]: s for s in document["Statement"]}
    org = statements["EnforceOrgIdentities"]["Action"]
    for service in ("s3", "kms", "sqs", "secretsmanager", "dynamodb", "logs", "ecr"):
        assert f"{service}:*" in org
    # Federation carries no aws:PrincipalOrgID: in EnforceOrgIdentities it would be denied with IfExists.
    assert not [a for a in org if a.startswith("sts:") and re.match(r"sts:(AssumeRoleWith|\*)", a)]
    assert statements["EnforceConfusedDeputyProtection"]["Condition"]["Null"] == {"aws:SourceAccount": "false"}


def test_the_perimeter_fits_the_rcp_quota_whatever_ids_organizations_assigns(
    management_settings: StackSettings,
) -> None:
    """Rendered with stand-ins of the greatest length AWS issues, so real IDs can only make them shorter."""
    organization = management_settings.organization
    assert organization is not None
    rcps = organization.policies_of("RESOURCE_CONTROL_POLICY")
    assert {p.file for p in rcps} == set(RCP_FILES)
    variables = management_settings.policy_variables()
    short = {**variables, **perimeter.organization_variables("o-a1b2c3d4e5", "r-ab12", _short_ou_ids(organization))}
    quota = policies.QUOTAS["RESOURCE_CONTROL_POLICY"]
    for rcp in rcps:
        longest = policies.render_file(rcp.file, variables, policy_type=rcp.type)
        real = policies.render_file(rcp.file, short, policy_type=rcp.type)
        assert len(real) <= len(longest) <= quota.max_characters, rcp.name
    assert quota == policies.PolicyQuota(5120, 5, "RCPFullAWSAccess")
    org_id, root_id, ou_ids = perimeter.stand_in_ids(None, ["Workloads"])
    assert (len(org_id), len(root_id), len(ou_ids["Workloads"])) == (34, 34, 68)


def _short_ou_ids(organization: Any) -> dict[str, str]:
    return {node.path: f"ou-ab12-{i:08d}" for i, node in enumerate(iter_ous(organization))}


def test_only_the_perimeter_names_the_organizations_ids() -> None:
    named = {
        path.name
        for path in policies.POLICY_DIR.glob("*.json")
        if perimeter.uses_organization_ids(json.loads(path.read_text()))
    }
    assert named == {*RCP_FILES, "sandbox-no-phi.json", "workloads-no-reach-into-sandbox.json"}


def test_the_health_data_services_are_the_ones_the_sandbox_scp_closes() -> None:
    (statement,) = [
        s for s in policies.load("sandbox-no-phi.json")["Statement"] if s["Sid"] == "DenyHealthDataServices"
    ]
    assert sorted(statement["Action"]) == sorted(perimeter.HEALTH_DATA_SERVICES)
    services = set(json.loads((IAM_DATA / "serviceNames.json").read_text()))
    for pattern, source in perimeter.HEALTH_DATA_SERVICES.items():
        assert pattern.split(":")[0] in services, pattern
        assert source.startswith("https://docs.aws.amazon.com/"), pattern
    # AWS Health (notifications) is not a health-data service, whatever its name.
    assert not any(p.startswith("health:") for p in perimeter.HEALTH_DATA_SERVICES)


def test_the_trusted_oidc_tenant_is_the_repository_of_every_stack() -> None:
    """The RCP trusts the management stack's repository; every account's CI roles must trust the same one."""
    management = project.load_stack_settings(PROJECT_DIR, "management")
    assert management.ci is not None
    assert management.ci.oidc_subject_prefix() == CI_SUBJECT_PREFIX
    assert management.policy_variables()["github_subject_patterns"] == [f"{CI_SUBJECT_PREFIX}:*"]
    for stack in project.stack_names(PROJECT_DIR):
        raw = project.read_stack_config(PROJECT_DIR, stack)[CONFIG_KEY]
        assert raw["ci"]["repository"] == management.ci.repository, stack
        ci = project.load_stack_settings(PROJECT_DIR, stack).ci
        assert ci is not None and ci.oidc_subject_prefix() == management.ci.oidc_subject_prefix(), stack


# ---------------------------------------------------------------------------------------------------------
# Decisions


def test_the_perimeter_probes_have_both_verdicts_for_every_case() -> None:
    assert len(PERIMETER_PROBES) >= 20
    kinds = {
        "sandbox": [p for p in PERIMETER_PROBES if p.request.principal_arn.startswith("arn:aws:iam::777788889999")],
        "outside": [p for p in PERIMETER_PROBES if "999988887777" in p.request.principal_arn],
        "service": [p for p in PERIMETER_PROBES if p.request.principal_arn.endswith(".amazonaws.com")],
        "oidc": [p for p in PERIMETER_PROBES if ":oidc-provider/" in p.request.principal_arn],
    }
    for kind, probes in kinds.items():
        assert {p.allowed for p in probes} == {True, False}, kind


@pytest.mark.parametrize("value", ["phi", "PHI", "Phi", "pHi", "phI"])
@pytest.mark.parametrize("key", ["data-classification", "Data-Classification", "DATA-CLASSIFICATION"])
@pytest.mark.parametrize("action", ["dynamodb:CreateTable", "s3:PutBucketTagging", "tag:TagResources"])
def test_phi_tags_are_refused_in_a_sandbox_in_any_case(
    organization: OrganizationModel, value: str, key: str, action: str
) -> None:
    request = Request(action, "sandbox", "us-east-1", SANDBOX, "*", {f"aws:RequestTag/{key}": value})
    decision = simulator.evaluate(organization, request)
    assert not decision.allowed
    assert {(m.policy, m.sid) for m in decision.denied_by} == {("sandbox-no-phi", "DenyPhiClassificationTags")}
    dev = Request(action, "dev", "us-east-1", DEV_ROLE, "*", {f"aws:RequestTag/{key}": value})
    assert simulator.evaluate(organization, dev).allowed


@pytest.mark.parametrize("value", ["public", "internal", "confidential", "phi ", "p-h-i"])
def test_other_classifications_pass_and_the_limits_are_exact(organization: OrganizationModel, value: str) -> None:
    """Only the value phi, in any letter case, is refused: "phi " with a space is another value to IAM (the tag
    policy's allowed values catch it, README)."""
    request = Request(
        "dynamodb:CreateTable", "sandbox", "us-east-1", SANDBOX, "*", {"aws:RequestTag/data-classification": value}
    )
    assert simulator.evaluate(organization, request).allowed


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", "arn:aws:s3:::prod-phi/x"),
        ("s3:ListBucket", "arn:aws:s3:::prod-phi"),
        ("kms:Decrypt", "arn:aws:kms:us-east-1:333344445555:key/k"),
        ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:333344445555:secret:db-AbCdEf"),
        ("dynamodb:Scan", "arn:aws:dynamodb:us-east-1:333344445555:table/patients"),
        ("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:333344445555:intake"),
        ("logs:GetLogEvents", "arn:aws:logs:us-east-1:333344445555:log-group:app:log-stream:x"),
        ("sts:AssumeRole", "arn:aws:iam::333344445555:role/app"),
    ],
)
@pytest.mark.parametrize("workload", ["dev", "staging", "prod"])
def test_no_sandbox_principal_reaches_workloads_data(
    organization: OrganizationModel, action: str, resource: str, workload: str
) -> None:
    if workload == "dev":
        resource = resource.replace("333344445555", "216482851263")
    decision = simulator.evaluate(
        organization, Request(action, "sandbox", "us-east-1", SANDBOX, resource, resource_account=workload)
    )
    assert not decision.allowed
    denied = {(m.policy, m.policy_type) for m in decision.denied_by}
    assert ("sandbox-no-phi", simulator.SCP) in denied
    assert ("rcp-deny-sandbox-principals", simulator.RCP) in denied
    # The RCP alone holds even if the SCP were detached: it is attached to Workloads, named by its target.
    rcp = [m for m in decision.denied_by if m.policy_type == simulator.RCP]
    assert {m.target for m in rcp} == {"ou:Workloads"}
    assert decision.rcp_levels == ("root", "ou:Workloads", f"account:{workload}")


@pytest.mark.parametrize("workload", ["dev", "prod", "log-archive", "audit"])
@pytest.mark.parametrize(
    "organization_context",
    [{"aws:PrincipalOrgID": "o-attackerorg1", "aws:PrincipalOrgPaths": "o-attackerorg1/r-a1/"}, None],
)
def test_no_outside_principal_reaches_workloads_or_security(
    organization: OrganizationModel, workload: str, organization_context: dict[str, str] | None
) -> None:
    absent = frozenset() if organization_context else frozenset({"aws:PrincipalOrgID"})
    request = Request(
        "s3:GetObject",
        "999988887777",
        "us-east-1",
        OUTSIDER,
        "arn:aws:s3:::data/x",
        organization_context or {},
        absent,
        resource_account=workload,
    )
    decision = simulator.evaluate(organization, request)
    assert not decision.allowed
    assert {(m.policy, m.sid, m.policy_type) for m in decision.denied_by} == {
        ("rcp-identity-perimeter", "EnforceOrgIdentities", simulator.RCP)
    }
    assert decision.levels == ()  # an outside principal has no SCPs of ours


def test_what_rcps_do_not_bind(organization: OrganizationModel) -> None:
    outside = {"aws:PrincipalOrgID": "o-attackerorg1", "aws:PrincipalOrgPaths": "o-attackerorg1/r-a1/"}

    def decide(action: str, resource: str, account: str, principal: str = OUTSIDER) -> simulator.Decision:
        caller = "999988887777" if principal == OUTSIDER else "prod"
        return simulator.evaluate(
            organization,
            Request(
                action,
                caller,
                "us-east-1",
                principal,
                resource,
                outside if principal == OUTSIDER else {},
                resource_account=account,
            ),
        )

    # The management account's resources.
    management = decide("s3:GetObject", "arn:aws:s3:::m/x", "management")
    assert management.allowed and "never bind the management account" in management.reason
    # A service RCPs do not support: HealthLake's resource policies and IAM decide.
    healthlake = decide("healthlake:ReadResource", "arn:aws:healthlake:us-east-1:333344445555:datastore/fhir/x", "prod")
    assert healthlake.allowed and "not a service RCPs support" in healthlake.reason
    # kms:RetireGrant, even under kms:*.
    retire = decide("kms:RetireGrant", "arn:aws:kms:us-east-1:333344445555:key/k", "prod")
    assert retire.allowed and "not restricted by RCPs" in retire.reason
    # A service-linked role's own requests.
    linked = "arn:aws:iam::333344445555:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
    slr = decide("s3:GetObject", "arn:aws:s3:::prod-phi/x", "prod", principal=linked)
    assert slr.allowed and "service-linked roles are not restricted by RCPs" in slr.reason
    # Twin: the same outside read of a supported service in prod is denied.
    assert not decide("kms:Decrypt", "arn:aws:kms:us-east-1:333344445555:key/k", "prod").allowed


def test_the_organization_keys_are_derived_and_a_contradiction_is_refused(organization: OrganizationModel) -> None:
    def decide(**overrides: Any) -> simulator.Decision:
        fields: dict[str, Any] = {
            "action": "kms:Decrypt",
            "account": "dev",
            "region": "us-east-1",
            "principal_arn": DEV_ROLE,
            "resource": "arn:aws:kms:us-east-1:216482851263:key/k",
        }
        fields.update(overrides)
        return simulator.evaluate(organization, Request(**fields))

    assert decide().allowed
    assert organization.organization_id is not None
    assert decide(context={"aws:PrincipalOrgID": organization.organization_id}).allowed
    for key, value, message in [
        ("aws:PrincipalOrgID", "o-someoneelse1", "contradicts the organization of --principal"),
        ("aws:ResourceAccount", "111111111111", "contradicts --resource-account/--resource"),
        ("aws:ResourceOrgPaths", "o-x/r-x/", "contradicts the OU path"),
        ("aws:SourceAccount", "216482851263", "does not carry it"),
    ]:
        with pytest.raises(simulator.InvalidRequest, match=message):
            decide(context={key: value})
    with pytest.raises(simulator.InvalidRequest, match="declared absent, but"):
        decide(absent=frozenset({"aws:PrincipalOrgID"}))
    with pytest.raises(simulator.InvalidRequest, match="is 348665872333, but the resource"):
        decide(resource="arn:aws:kms:us-east-1:216482851263:key/k", resource_account="management")


def test_an_s3_resource_in_an_unnamed_account_is_decided_only_when_every_account_agrees(
    organization: OrganizationModel,
) -> None:
    # From the management account (no SCP binds it; its principals pass every RCP), every account gives the same
    # answer: decided.
    management_role = "arn:aws:iam::348665872333:role/admin"
    decided = simulator.evaluate(
        organization, Request("s3:GetObject", "management", "us-east-1", management_role, "arn:aws:s3:::b/k")
    )
    assert decided.allowed and "whichever account holds the resource" in decided.reason
    # From a sandbox it depends on whether the bucket is in Workloads, and from dev on whether it is in a sandbox
    # (workloads-no-reach-into-sandbox): refused, asking for the account.
    for account, principal in (("sandbox", SANDBOX), ("dev", DEV_ROLE)):
        with pytest.raises(simulator.InvalidRequest, match="--resource-account"):
            simulator.evaluate(
                organization, Request("s3:GetObject", account, "us-east-1", principal, "arn:aws:s3:::b/k")
            )
    assert simulator.evaluate(
        organization, Request("s3:GetObject", "dev", "us-east-1", DEV_ROLE, "arn:aws:s3:::b/k", resource_account="dev")
    ).allowed


def test_an_outside_id_that_may_be_a_member_without_an_id_must_say_so(organization: OrganizationModel) -> None:
    request = Request("kms:Decrypt", "999988887777", "us-east-1", OUTSIDER, "arn:aws:kms:us-east-1:216482851263:key/k")
    with pytest.raises(simulator.InvalidRequest, match="may be one of them"):
        simulator.evaluate(organization, request)
    declared = simulator.evaluate(
        organization, Request(**{**request.__dict__, "absent": frozenset({"aws:PrincipalOrgID"})})
    )
    assert not declared.allowed


# ---------------------------------------------------------------------------------------------------------
# The operators the perimeter uses, on one-statement RCPs: their documented semantics, and refusals


def _rcp_model(condition: dict[str, Any], action: str = "s3:*") -> OrganizationModel:
    statement = {
        "Sid": "S",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": "*",
        "Condition": condition,
    }
    return OrganizationModel(
        management_account_id="111111111111",
        ou_parents={"Workloads": None},
        accounts={"app": simulator.AccountNode("app", "222222222222", "Workloads")},
        attachments={},
        rcp_attachments={"root": [simulator.AttachedPolicy("r", {"Version": "2012-10-17", "Statement": [statement]})]},
        organization_id="o-aaaaaaaaaa",
        root_id="r-aaaa",
        ou_ids={"Workloads": "ou-aaaa-11111111"},
    )


def _rcp_denied(condition: dict[str, Any], principal: str = "arn:aws:iam::333333333333:role/x", **context: str) -> bool:
    absent = frozenset({"aws:PrincipalOrgID"}) if "aws:PrincipalOrgID" not in context else frozenset()
    request = Request(
        "s3:GetObject",
        "333333333333",
        "us-east-1",
        principal,
        "arn:aws:s3:::b/k",
        context,
        absent,
        resource_account="app",
    )
    if principal.endswith(".amazonaws.com"):
        request = Request(
            "s3:GetObject", "app", "us-east-1", principal, "arn:aws:s3:::b/k", context, resource_account="app"
        )
    return not simulator.evaluate(_rcp_model(condition), request).allowed


@pytest.mark.parametrize(
    ("condition", "context", "denied"),
    [
        # IfExists: a key absent from the request makes the condition true.
        ({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}}, {}, True),
        (
            {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}},
            {"aws:PrincipalOrgID": "o-aaaaaaaaaa", "aws:PrincipalOrgPaths": "o-aaaaaaaaaa/r-aaaa/"},
            False,
        ),
        (
            {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}},
            {"aws:PrincipalOrgID": "o-bbbbbbbbbb"},
            True,
        ),
        ({"StringNotLikeIfExists": {"s3:prefix": "home/*"}}, {}, True),
        ({"StringNotLikeIfExists": {"s3:prefix": "home/*"}}, {"s3:prefix": "home/a"}, False),
        ({"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}, {}, True),  # derived false for an IAM role
        ({"BoolIfExists": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        # ForAnyValue on a multivalued key: any value matches; an absent key matches nothing.
        ({"ForAnyValue:StringLike": {"aws:TagKeys": ["dp:*", "team"]}}, {"aws:TagKeys": "team"}, True),
        ({"ForAnyValue:StringLike": {"aws:TagKeys": ["dp:*", "team"]}}, {"aws:TagKeys": "owner"}, False),
        ({"ForAnyValue:StringLike": {"aws:TagKeys": ["dp:*", "team"]}}, {}, False),
        (
            {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-aaaaaaaaaa/*"}},
            {"aws:PrincipalOrgID": "o-zzzzzzzzzz", "aws:PrincipalOrgPaths": "o-zzzzzzzzzz/r-z/"},
            False,
        ),
        ({"StringEqualsIgnoreCase": {"aws:RequestTag/k": "phi"}}, {"aws:RequestTag/K": "PhI"}, True),
        ({"StringEqualsIgnoreCase": {"aws:RequestTag/k": "phi"}}, {"aws:RequestTag/k": "phix"}, False),
    ],
)
def test_qualified_operators(condition: dict[str, Any], context: dict[str, str], denied: bool) -> None:
    assert _rcp_denied(condition, **context) is denied


def _rcp_denied_absent(condition: dict[str, Any], principal: str) -> bool:
    request = Request(
        "s3:GetObject",
        "app",
        "us-east-1",
        principal,
        "arn:aws:s3:::b/k",
        absent=frozenset({"aws:SourceAccount"}),
        resource_account="app",
    )
    return not simulator.evaluate(_rcp_model(condition), request).allowed


def test_a_service_principal_is_judged_by_its_source() -> None:
    deputy = {
        "StringNotEqualsIfExists": {"aws:SourceOrgID": "o-aaaaaaaaaa"},
        "Null": {"aws:SourceAccount": "false"},
        "Bool": {"aws:PrincipalIsAWSService": "true"},
    }
    service = "cloudtrail.amazonaws.com"
    assert not _rcp_denied(deputy, service, **{"aws:SourceAccount": "111111111111"})  # ours: SourceOrgID derived
    # Without source keys (a service assuming its role): not a confused-deputy integration; they must be declared
    # absent, since most service integrations send them.
    with pytest.raises(simulator.InvalidRequest, match="aws:SourceOrgID"):
        _rcp_denied(deputy, service)
    assert not _rcp_denied_absent(deputy, service)
    assert _rcp_denied(deputy, service, **{"aws:SourceAccount": "999999999999", "aws:SourceOrgID": "o-bbbbbbbbbb"})
    with pytest.raises(simulator.InvalidRequest, match="contradicts aws:SourceAccount and the organization"):
        _rcp_denied(deputy, service, **{"aws:SourceAccount": "222222222222", "aws:SourceOrgID": "o-bbbbbbbbbb"})


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"StringEqualsIfExists": {"k": "v"}}, "'StringEqualsIfExists'"),
        ({"ForAllValues:StringLike": {"aws:TagKeys": "a"}}, "'ForAllValues:StringLike'"),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}, "'ForAnyValue:StringEquals'"),
        ({"ForAnyValue:StringLike": {"aws:PrincipalAccount": "1"}}, "not a multivalued key"),
        ({"StringLike": {"aws:PrincipalOrgPaths": "o-1/*"}}, "multivalued key"),
        ({"BoolIfExists": {"aws:SecureTransport": "maybe"}}, "takes true or false"),
    ],
)
def test_operators_the_documents_do_not_use_are_refused(condition: dict[str, Any], message: str) -> None:
    with pytest.raises(simulator.UnsupportedPolicy, match=message):
        _rcp_denied(condition, **{"aws:PrincipalOrgID": "o-aaaaaaaaaa", "k": "v", "aws:SecureTransport": "true"})


def test_an_rcp_that_allows_or_names_a_principal_is_refused() -> None:
    model = _rcp_model({})
    statement = model.rcp_attachments["root"][0].document["Statement"][0]
    for bad in ({**statement, "Principal": {"AWS": "*"}}, {**statement, "Effect": "Allow"}):
        model.rcp_attachments["root"] = [simulator.AttachedPolicy("r", {"Version": "2012-10-17", "Statement": [bad]})]
        with pytest.raises(simulator.UnsupportedPolicy):
            simulator.evaluate(
                model,
                Request(
                    "s3:GetObject",
                    "app",
                    "us-east-1",
                    "arn:aws:iam::222222222222:role/x",
                    "arn:aws:s3:::b/k",
                    resource_account="app",
                ),
            )
