"""GithubCiRoles: who can assume the preview and deploy roles, decided by the trust policies as rendered."""

from __future__ import annotations

import json

import pytest

from components import GithubCiRoles, GithubCiRolesArgs
from components.ci_read_permissions import role_read_actions
from components.github_ci_roles import DATA_READ_ACTIONS, preview_read_only_policy
from docustack.offline import Plan, run_program
from docustack.simulator import web_identity_may_assume

REPO = "docustack/aws-foundation"
BUCKET_ARN = "arn:aws:s3:::docustack-pulumi-state-111122223333"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AUD = "token.actions.githubusercontent.com:aud"
SUB = "token.actions.githubusercontent.com:sub"


def plan_roles(**overrides: object) -> Plan:
    args = GithubCiRolesArgs(
        **{
            "repository": REPO,
            "preview_role_name": "docustack-github-preview",
            "deploy_role_name": "docustack-github-deploy",
            "deploy_environment": "dev",
            "state_bucket_arn": BUCKET_ARN,
            "state_key_arn": KEY_ARN,
            **overrides,
        }
    )
    return run_program(lambda: GithubCiRoles("dev-ci", args), stack="dev")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_roles()


def role(plan: Plan, name: str) -> dict:
    return json.loads(plan.one("aws:iam/role:Role", name).inputs["assumeRolePolicy"])


def provider_arn(plan: Plan) -> str:
    return plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").outputs["arn"]


# (role, audience, subject, may assume)
TRUST_TABLE = [
    ("dev-ci-preview", "sts.amazonaws.com", f"repo:{REPO}:pull_request", True),
    ("dev-ci-preview", "sts.amazonaws.com", f"repo:{REPO}:ref:refs/heads/main", False),
    ("dev-ci-preview", "sts.amazonaws.com", f"repo:{REPO}:environment:dev", False),
    ("dev-ci-preview", "sts.amazonaws.com", "repo:someone-else/aws-foundation:pull_request", False),  # a fork
    ("dev-ci-preview", "sts.amazonaws.com", "repo:docustack/aws-foundation-fork:pull_request", False),
    ("dev-ci-preview", "sts.amazonaws.com", "repo:docustack/aws-foundatio:pull_request", False),
    ("dev-ci-preview", "sts.amazonaws.com", f"repo:{REPO.upper()}:pull_request", False),
    ("dev-ci-preview", "sts.amazonaws.com", f"repo:{REPO}:pull_request:x", False),
    ("dev-ci-preview", "api://AzureADTokenExchange", f"repo:{REPO}:pull_request", False),
    ("dev-ci-preview", None, f"repo:{REPO}:pull_request", False),
    ("dev-ci-preview", "sts.amazonaws.com", None, False),
    ("dev-ci-deploy", "sts.amazonaws.com", f"repo:{REPO}:environment:dev", True),
    ("dev-ci-deploy", "sts.amazonaws.com", f"repo:{REPO}:environment:prod", False),
    ("dev-ci-deploy", "sts.amazonaws.com", f"repo:{REPO}:environment:dev-preview", False),
    ("dev-ci-deploy", "sts.amazonaws.com", f"repo:{REPO}:pull_request", False),
    ("dev-ci-deploy", "sts.amazonaws.com", f"repo:{REPO}:ref:refs/heads/main", False),
    ("dev-ci-deploy", "sts.amazonaws.com", "repo:someone-else/aws-foundation:environment:dev", False),
    ("dev-ci-deploy", "sts.com", f"repo:{REPO}:environment:dev", False),
]


@pytest.mark.parametrize(("role_name", "audience", "subject", "allowed"), TRUST_TABLE)
def test_who_may_assume_each_role(plan: Plan, role_name: str, audience: str, subject: str, allowed: bool) -> None:
    claims = {key: value for key, value in ((AUD, audience), (SUB, subject)) if value is not None}
    assert web_identity_may_assume(role(plan, role_name), provider_arn(plan), claims) is allowed


def test_another_identity_provider_may_not_assume_either_role(plan: Plan) -> None:
    claims = {AUD: "sts.amazonaws.com", SUB: f"repo:{REPO}:pull_request"}
    other = "arn:aws:iam::111122223333:oidc-provider/gitlab.com"
    assert not web_identity_may_assume(role(plan, "dev-ci-preview"), other, claims)


def test_trust_is_string_equals_on_aud_and_sub_without_wildcards(plan: Plan) -> None:
    for name in ("dev-ci-preview", "dev-ci-deploy"):
        [statement] = role(plan, name)["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": provider_arn(plan)}
        assert list(statement["Condition"]) == ["StringEquals"]
        assert set(statement["Condition"]["StringEquals"]) == {AUD, SUB}
        assert "*" not in json.dumps(statement["Condition"]) and "?" not in json.dumps(statement["Condition"])


def test_deploy_role_from_a_branch_and_an_environment() -> None:
    plan = plan_roles(deploy_environment="prod", deploy_branch="main")
    trust, arn = role(plan, "dev-ci-deploy"), provider_arn(plan)
    for subject, allowed in [
        (f"repo:{REPO}:environment:prod", True),
        (f"repo:{REPO}:ref:refs/heads/main", True),
        (f"repo:{REPO}:ref:refs/heads/main-feature", False),
        (f"repo:{REPO}:ref:refs/tags/main", False),
        (f"repo:{REPO}:pull_request", False),
    ]:
        assert web_identity_may_assume(trust, arn, {AUD: "sts.amazonaws.com", SUB: subject}) is allowed, subject


def test_oidc_provider_is_githubs_with_the_sts_audience(plan: Plan) -> None:
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider.import_id == ""
    adopted = plan_roles(
        adopt_oidc_provider_arn="arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    )
    assert adopted.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").import_id.endswith(
        ":oidc-provider/token.actions.githubusercontent.com"
    )


def test_preview_role_has_no_managed_policy_only_its_allow_list(plan: Plan) -> None:
    attachments = {
        r.name: r.inputs["policyArn"] for r in plan.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    # ReadOnlyAccess, ViewOnlyAccess and SecurityAudit all read data: the preview role has no managed policy.
    assert attachments == {"dev-ci-deploy-administratoraccess": "arn:aws:iam::aws:policy/AdministratorAccess"}
    inline = plan.one("aws:iam/rolePolicy:RolePolicy")
    assert inline.inputs["role"] == plan.one("aws:iam/role:Role", "dev-ci-preview").outputs["name"]
    assert json.loads(inline.inputs["policy"])["Statement"] == [
        {"Sid": "ReadConfiguration", "Effect": "Allow", "Action": role_read_actions("account"), "Resource": "*"},
        {"Sid": "ListOwnBuckets", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": [BUCKET_ARN]},
        {"Sid": "ReadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/.pulumi/*"},
        {"Sid": "DecryptStateAndSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY_ARN},
        {
            "Sid": "DenyReadingOtherObjects",
            "Effect": "Deny",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "NotResource": f"{BUCKET_ARN}/.pulumi/*",
        },
        {"Sid": "DenyReadingData", "Effect": "Deny", "Action": list(DATA_READ_ACTIONS), "Resource": "*"},
    ]
    # A pull request's code runs with this role: table items, parameters, queue messages and logs stay closed.
    assert {"dynamodb:GetItem", "ssm:GetParameter", "logs:GetLogEvents", "sqs:ReceiveMessage"} <= set(DATA_READ_ACTIONS)


def test_the_management_preview_role_gets_the_management_allow_list() -> None:
    plan = plan_roles(stack_kind="management")
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    [read] = [s for s in policy["Statement"] if s["Sid"] == "ReadConfiguration"]
    assert read["Action"] == role_read_actions("management")
    assert "organizations:DescribeOrganization" in read["Action"]
    assert "organizations:DescribeOrganization" not in role_read_actions("account")


def test_a_deploy_role_needs_an_environment_or_branch() -> None:
    with pytest.raises(Exception, match="deploy environment or branch"):
        plan_roles(deploy_environment=None)


def test_read_only_role_also_serves_the_verify_branch() -> None:
    """Scheduled `docustack verify` runs on the verify branch and uses the read-only role, never the deploy role."""
    roles = plan_roles(verify_branch="main")
    cases = [
        ("dev-ci-preview", f"repo:{REPO}:ref:refs/heads/main", True),
        ("dev-ci-preview", f"repo:{REPO}:pull_request", True),
        ("dev-ci-preview", f"repo:{REPO}:ref:refs/heads/main2", False),
        ("dev-ci-preview", f"repo:{REPO}:ref:refs/tags/main", False),
        ("dev-ci-deploy", f"repo:{REPO}:ref:refs/heads/main", False),
    ]
    for role_name, subject, allowed in cases:
        claims = {AUD: "sts.amazonaws.com", SUB: subject}
        assert web_identity_may_assume(role(roles, role_name), provider_arn(roles), claims) is allowed, subject


def test_the_read_only_policy_names_only_real_actions() -> None:
    import parliament

    for kind in ("account", "management"):
        document = preview_read_only_policy(kind, BUCKET_ARN, KEY_ARN)
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert [f"{f.issue}: {f.detail}" for f in findings if f.issue != "RESOURCE_STAR"] == []


# GitHub's immutable subject claims: the repository's sub begins with the prefix its API reports.
ID_PREFIX = "repo:docustack@1234567/aws-foundation@89012345"


@pytest.mark.parametrize(
    ("role_name", "subject", "allowed"),
    [
        ("dev-ci-preview", f"{ID_PREFIX}:pull_request", True),
        ("dev-ci-preview", f"{ID_PREFIX}:ref:refs/heads/main", True),
        ("dev-ci-preview", f"repo:{REPO}:pull_request", False),  # the name form no longer matches
        ("dev-ci-preview", "repo:docustack@1234567/aws-foundation@89012346:pull_request", False),  # another repo ID
        ("dev-ci-preview", "repo:docustack@7654321/aws-foundation@89012345:pull_request", False),  # another owner ID
        ("dev-ci-preview", "repo:docustack-1234567/aws-foundation-89012345:pull_request", False),  # other delimiter
        ("dev-ci-deploy", f"{ID_PREFIX}:environment:dev", True),
        ("dev-ci-deploy", f"repo:{REPO}:environment:dev", False),
        ("dev-ci-deploy", f"{ID_PREFIX}:pull_request", False),
    ],
)
def test_trust_in_the_immutable_id_form(role_name: str, subject: str, allowed: bool) -> None:
    roles = plan_roles(subject_prefix=ID_PREFIX, verify_branch="main")
    claims = {AUD: "sts.amazonaws.com", SUB: subject}
    assert web_identity_may_assume(role(roles, role_name), provider_arn(roles), claims) is allowed, subject
