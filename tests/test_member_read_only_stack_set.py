"""The member read-only role in every member account: the template (rendered from the one source of the trust and
the allow-list, linted by cfn-lint), the second StackSet and its one instance, the account filter that leaves the
Log Archive and Audit accounts to the management stack, and the CI role's step into the role."""

from __future__ import annotations

import copy
import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.ci_read_permissions import VERIFY_ACTIONS, role_read_actions
from components.github_ci_roles import DATA_READ_ACTIONS, assume_member_read_only_policy
from components.member_read_only_role import management_trust_policy
from components.member_read_only_stack_set import (
    TEMPLATE,
    TemplateError,
    baseline_member_read_only_policy,
    template_text,
)
from docustack import offline, project
from docustack.plan import StackPlan
from docustack.settings import CONFIG_KEY, baseline_ou_paths

STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ACCOUNT = "aws:organizations/account:Account"
MANAGEMENT_ID = "348665872333"
ROLE = "docustack-readonly"


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: {f"!{suffix}": loader.construct_scalar(node)})


def rendered_role() -> dict[str, Any]:
    template = yaml.load(template_text(ROLE, MANAGEMENT_ID), Loader=_CfnLoader)
    [(logical_id, resource)] = template["Resources"].items()
    assert resource["Type"] == "AWS::IAM::Role", logical_id
    return resource["Properties"]


# --------------------------------------------------------------------------------------------------------
# The template


def test_the_rendered_template_passes_cfn_lint(tmp_path: Path) -> None:
    path = tmp_path / "member-read-only-role.yaml"
    path.write_text(template_text(ROLE, MANAGEMENT_ID))
    result = cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = template_text(ROLE, MANAGEMENT_ID).replace("MaxSessionDuration: 3600", "MaxSessionDuration: 99999")
    broken = broken.replace("RoleName:", "RoleNam:")
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    result = cfn_lint(path)
    assert result.returncode != 0
    assert "RoleNam" in result.stdout and "99999" in result.stdout


def test_the_role_trusts_the_management_account_for_an_hour_and_reads_only_what_verify_reads() -> None:
    role = rendered_role()
    assert role["RoleName"] == ROLE
    assert role["AssumeRolePolicyDocument"] == management_trust_policy(MANAGEMENT_ID)
    assert role["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in role
    [policy] = role["Policies"]
    assert policy["PolicyName"] == "read-only"
    assert policy["PolicyDocument"] == baseline_member_read_only_policy()
    [allow] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # Exactly the calls verify makes in such an account (tests/test_ci_read_permissions.py records them).
    assert sorted(allow["Action"]) == sorted(VERIFY_ACTIONS["baseline-member"]) == role_read_actions("baseline-member")
    assert all(action.split(":")[1].startswith(("Describe", "Get", "List")) for action in allow["Action"])
    assert not {"s3:ListBucket", "kms:Decrypt", "s3:GetObject"} & set(allow["Action"])
    denied = {a for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny" for a in s["Action"]}
    assert set(DATA_READ_ACTIONS) <= denied


def test_a_slot_the_program_does_not_fill_is_refused_with_the_file_named(tmp_path: Path, project_dir: Path) -> None:
    base = tmp_path / "policies"
    (base / "baseline").mkdir(parents=True)
    text = (project_dir / "policies" / TEMPLATE).read_text()
    (base / TEMPLATE).write_text(text.replace("{{policy_name}}", "{{policy_nam}}"))
    with pytest.raises(TemplateError) as caught:
        template_text(ROLE, MANAGEMENT_ID, base)
    assert str(base / TEMPLATE) in str(caught.value)
    assert "policy_nam" in str(caught.value) and "policy_name" in str(caught.value)


# --------------------------------------------------------------------------------------------------------
# The StackSet in the management stack


def _read_only_resources(plan: offline.Plan) -> tuple[Any, Any]:
    stack_set = plan.one(STACK_SET, "member-read-only-stack-set")
    [instance] = [i for i in plan.by_type(INSTANCE) if i.name.startswith("member-read-only-")]
    return stack_set, instance


def test_the_stack_set_deploys_the_role_once_per_account_in_the_home_region(
    stack_plans: dict[str, StackPlan], project_dir: Path
) -> None:
    management = stack_plans["management"]
    plan, settings = management.plan, management.settings
    stack_set, instance = _read_only_resources(plan)
    inputs = stack_set.inputs
    assert inputs["name"] == "docustack-member-read-only"
    assert inputs["permissionModel"] == "SERVICE_MANAGED"
    assert inputs["autoDeployment"] == {"enabled": True, "retainStacksOnAccountRemoval": False}
    assert inputs["capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert inputs["templateBody"] == template_text(ROLE, settings.account.id, project_dir / "policies")
    assert "parameters" not in inputs or not inputs["parameters"]
    # It waits for trusted access; it needs nothing of the Log Archive.
    organization = plan.one("aws:organizations/organization:Organization")
    assert organization.urn in stack_set.dependencies
    assert stack_set.urn in instance.dependencies
    # IAM is global: one instance, in the home region.
    assert instance.inputs["stackSetInstanceRegion"] == settings.account.region == "us-east-1"
    assert instance.inputs["retainStack"] is False


def test_the_filter_excludes_exactly_the_log_archive_and_audit_accounts(stack_plans: dict[str, StackPlan]) -> None:
    """The management stack makes <prefix>-readonly in the Log Archive and Audit accounts: a second creator of the
    same name would make those stack instances fail."""
    management = stack_plans["management"]
    plan, settings = management.plan, management.settings
    organization = settings.organization
    assert organization is not None and organization.audit_services is not None
    _, instance = _read_only_resources(plan)
    targets = instance.inputs["deploymentTargets"]
    account_ids = {r.name.removesuffix("-account"): r.outputs["id"] for r in plan.by_type(ACCOUNT)}
    assert targets["accountFilterType"] == "DIFFERENCE"
    assert sorted(targets["accounts"]) == sorted(
        [account_ids[organization.log_archive_account], account_ids[organization.audit_services.audit_account]]
    )
    assert not {account_ids[name] for name in ("dev", "staging", "prod")} & set(targets["accounts"])
    ou_ids = {r.name.removeprefix("ou-"): r.outputs["id"] for r in plan.by_type(OU)}
    assert sorted(targets["organizationalUnitIds"]) == sorted(
        ou_ids[path.lower().replace("/", "-")] for path in baseline_ou_paths(organization)
    )
    # The management stack's own role in the two excluded accounts is still there, through their providers.
    made = {r.name for r in plan.by_type("aws:iam/role:Role") if r.inputs.get("name") == ROLE}
    assert made == {"log-archive-readonly-role", "audit-readonly-role"}


def _run_management(project_dir: Path, raw: dict[str, Any]) -> offline.Plan:
    config = project.read_stack_config(project_dir, "management")
    config[CONFIG_KEY] = raw
    main = str(project_dir / "__main__.py")
    return offline.run_program(lambda: runpy.run_path(main, run_name="__main__"), stack="management", config=config)


def test_a_grown_organization_gets_the_role_without_code_changes(
    project_dir: Path, management_raw: dict[str, Any]
) -> None:
    raw = copy.deepcopy(management_raw)
    organization = raw["organization"]
    workloads = next(ou for ou in organization["organizationalUnits"] if ou["name"] == "Workloads")
    workloads["children"] = [{"name": "Regulated"}]
    organization["accounts"] += [
        {"name": "sandbox-bob", "email": "bob-sandbox@example.com", "ou": "Sandbox"},
        {"name": "claims", "email": "claims@example.com", "ou": "Workloads/Regulated"},
    ]
    plan = _run_management(project_dir, raw)
    _, instance = _read_only_resources(plan)
    targets = instance.inputs["deploymentTargets"]
    ou_ids = {r.name: r.outputs["id"] for r in plan.by_type(OU)}
    assert {ou_ids["ou-workloads-regulated"], ou_ids["ou-sandbox"]} <= set(targets["organizationalUnitIds"])
    account_ids = {r.name.removesuffix("-account"): r.outputs["id"] for r in plan.by_type(ACCOUNT)}
    assert sorted(targets["accounts"]) == sorted([account_ids["log-archive"], account_ids["audit"]])


def test_without_the_baseline_there_is_no_read_only_stack_set(
    project_dir: Path, management_raw: dict[str, Any]
) -> None:
    raw = copy.deepcopy(management_raw)
    del raw["organization"]["baseline"]
    raw["organization"]["serviceAccessPrincipals"].remove("member.org.stacksets.cloudformation.amazonaws.com")
    plan = _run_management(project_dir, raw)
    assert plan.by_type(STACK_SET) == []


# --------------------------------------------------------------------------------------------------------
# The CI role's step into the role


# iam-simulate (npm, as tests/iam_reference.py), not this project's code, decides the step: the CI role's identity
# policy and the role's trust policy, for a role of the organization, one of another organization, the access role,
# and a request whose context lacks aws:ResourceOrgID (the policy must fail closed).
ASSUME_SIMULATION = """
const { runSimulation } = require("@cloud-copilot/iam-simulate");
(async () => {
  const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const decisions = [];
  for (const r of input.requests) {
    const response = await runSimulation({
      request: { principal: input.principal, action: "sts:AssumeRole",
                 resource: { resource: r.resource, accountId: r.resource.split(":")[4] }, contextVariables: r.context },
      identityPolicies: [{ name: "assume-member-read-only", policy: input.identity }],
      serviceControlPolicies: [], resourceControlPolicies: [], resourcePolicy: input.trust,
    }, { simulationMode: "Strict" });
    decisions.push(response.resultType === "error" ? "Error" : response.result.analysis.result);
  }
  process.stdout.write(JSON.stringify(decisions));
})();
"""


def test_the_ci_role_may_assume_the_read_only_role_of_its_own_organization_only(project_dir: Path) -> None:
    assert (project_dir / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir(), "run `make test` (npm ci)"
    document = assume_member_read_only_policy(f"arn:aws:iam::*:role/{ROLE}")
    [statement] = document["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("sts:AssumeRole", f"arn:aws:iam::*:role/{ROLE}")
    ours, theirs = "o-docustack01", "o-elsewhere99"
    requests = [
        (f"arn:aws:iam::216482851263:role/{ROLE}", {"aws:PrincipalOrgID": ours, "aws:ResourceOrgID": ours}),
        (f"arn:aws:iam::999999999999:role/{ROLE}", {"aws:PrincipalOrgID": ours, "aws:ResourceOrgID": theirs}),
        (f"arn:aws:iam::999999999999:role/{ROLE}", {"aws:PrincipalOrgID": ours}),
        (
            "arn:aws:iam::216482851263:role/OrganizationAccountAccessRole",
            {"aws:PrincipalOrgID": ours, "aws:ResourceOrgID": ours},
        ),
    ]
    batch = {
        "principal": f"arn:aws:iam::{MANAGEMENT_ID}:role/docustack-github-preview",
        "identity": document,
        "trust": management_trust_policy(MANAGEMENT_ID),
        "requests": [{"resource": resource, "context": context} for resource, context in requests],
    }
    result = subprocess.run(
        ["node", "-e", ASSUME_SIMULATION],
        input=json.dumps(batch),
        capture_output=True,
        text=True,
        check=True,
        cwd=project_dir,
    )
    assert json.loads(result.stdout) == ["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"]


# --------------------------------------------------------------------------------------------------------
# The guardrails and the role


@pytest.fixture(scope="module")
def organization_model(project_dir: Path) -> Any:
    from docustack.simulator import OrganizationModel

    settings = project.load_stack_settings(project_dir, "management")
    return OrganizationModel.from_settings(settings, policy_dir=project_dir / "policies")


EXEC_ROLE = "arn:aws:iam::216482851263:role/stacksets-exec-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DEV_ROLE = f"arn:aws:iam::216482851263:role/{ROLE}"


@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"])
def test_the_stacksets_execution_role_needs_no_scp_exemption_to_make_the_role(
    organization_model: Any, action: str
) -> None:
    """IAM is global and on region-deny's list of exempted services, the home region is allowed, and
    protect-guardrails reserves the exempt roles' names only: the execution role makes <prefix>-readonly under
    the SCPs as they are, with no new exemption."""
    from docustack.simulator import Request, evaluate

    decision = evaluate(organization_model, Request(action, "dev", "us-east-1", EXEC_ROLE, DEV_ROLE))
    assert decision.allowed, decision.denied_by


def test_the_role_name_is_no_exempt_role_name(organization_model: Any, project_dir: Path) -> None:
    """<prefix>-readonly escapes no guardrail: the SCPs bind a session of it like any other member principal (it
    may not assume an exempt role), and what it may do is only ever narrowed by them."""
    from docustack.simulator import Request, evaluate

    settings = project.load_stack_settings(project_dir, "management")
    organization = settings.organization
    assert organization is not None
    assert ROLE not in {r.lower() for r in organization.guardrail_exempt_roles}
    session = DEV_ROLE
    for exempt in organization.guardrail_exempt_roles:
        target = f"arn:aws:iam::216482851263:role/{exempt}"
        assert not evaluate(organization_model, Request("sts:AssumeRole", "dev", "us-east-1", session, target)).allowed
