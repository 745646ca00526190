"""The organization baseline: the template (cfn-lint), the StackSet and its instances, one customer managed
recorder per account and region across every stack, a grown organization, and the SCP exemption the StackSets
execution role needs."""

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

from components.organization_baseline import TEMPLATE
from docustack import offline, project
from docustack.plan import StackPlan
from docustack.settings import CONFIG_KEY, baseline_ou_paths, parse_settings
from docustack.simulator import OrganizationModel, Request, evaluate

STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"
ACCOUNT = "aws:organizations/account:Account"


def baseline_instances(plan: offline.Plan) -> list[Any]:
    """The Config baseline's instances (the member read-only StackSet's are tests/test_member_read_only_stack_set.py's)."""
    return [i for i in plan.by_type(INSTANCE) if i.name.startswith("organization-baseline-")]


def run_management(project_dir: Path, raw: dict[str, Any]) -> offline.Plan:
    config = project.read_stack_config(project_dir, "management")
    config[CONFIG_KEY] = raw
    main = str(project_dir / "__main__.py")
    return offline.run_program(lambda: runpy.run_path(main, run_name="__main__"), stack="management", config=config)


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


# --------------------------------------------------------------------------------------------------------
# The template


def test_the_baseline_template_passes_cfn_lint(project_dir: Path) -> None:
    result = cfn_lint(project_dir / "policies" / TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_would_catch_a_broken_template(project_dir: Path, tmp_path: Path) -> None:
    """The lint above can fail: a recorder with a misspelt property and a channel without its bucket."""
    broken = (project_dir / "policies" / TEMPLATE).read_text()
    broken = broken.replace("AllSupported: true", "AllSupportd: true").replace(
        "      S3BucketName: !Ref ConfigBucketName\n", ""
    )
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    result = cfn_lint(path)
    assert result.returncode != 0
    assert "AllSupportd" in result.stdout and "S3BucketName" in result.stdout


def _template(project_dir: Path) -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        else:
            value = loader.construct_sequence(node, deep=True)  # type: ignore[arg-type]
        return {f"!{suffix}": value}

    Loader.add_multi_constructor("!", tagged)
    return yaml.load((project_dir / "policies" / TEMPLATE).read_text(), Loader=Loader)


def test_the_template_records_everything_and_global_types_only_in_the_home_region(project_dir: Path) -> None:
    template = _template(project_dir)
    resources = template["Resources"]
    assert template["Conditions"]["IsHomeRegion"] == {"!Equals": [{"!Ref": "AWS::Region"}, {"!Ref": "HomeRegion"}]}
    group = resources["Recorder"]["Properties"]["RecordingGroup"]
    assert group["AllSupported"] is True
    assert group["IncludeGlobalResourceTypes"] == {"!If": ["IsHomeRegion", True, False]}
    channel = resources["DeliveryChannel"]["Properties"]
    assert channel["S3BucketName"] == {"!Ref": "ConfigBucketName"}
    assert channel["S3KmsKeyArn"] == {"!Ref": "ConfigKeyArn"}
    assert resources["DeliveryChannel"]["DependsOn"] == "Recorder"
    # Exactly one customer managed recorder and one channel per stack, that is per account and region.
    types = [resource["Type"] for resource in resources.values()]
    assert types.count("AWS::Config::ConfigurationRecorder") == 1
    assert types.count("AWS::Config::DeliveryChannel") == 1
    trust = resources["RecorderRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "config.amazonaws.com"}]


# --------------------------------------------------------------------------------------------------------
# The StackSet in the management stack


def test_the_stack_set_is_service_managed_auto_deployed_and_keeps_stacks_of_accounts_that_leave(
    stack_plans: dict[str, StackPlan], project_dir: Path
) -> None:
    plan = stack_plans["management"].plan
    stack_set = plan.one(STACK_SET, "organization-baseline-stack-set")
    inputs = stack_set.inputs
    assert inputs["permissionModel"] == "SERVICE_MANAGED"
    assert inputs["autoDeployment"] == {"enabled": True, "retainStacksOnAccountRemoval": True}
    assert inputs["capabilities"] == ["CAPABILITY_IAM"]
    assert inputs["templateBody"] == (project_dir / "policies" / TEMPLATE).read_text()
    bucket = plan.one("aws:s3/bucket:Bucket", "log-archive-config-bucket")
    key = plan.one("aws:kms/key:Key", "log-archive-key")
    assert inputs["parameters"] == {
        "HomeRegion": "us-east-1",
        "ConfigBucketName": bucket.outputs["bucket"],
        "ConfigKeyArn": key.outputs["arn"],
        "DeliveryFrequency": "TwentyFour_Hours",
    }
    # The first `up` order: trusted access (the organization's service access), then the Config bucket's and key's
    # policies, before any stack instance records.
    organization = plan.one("aws:organizations/organization:Organization")
    assert "member.org.stacksets.cloudformation.amazonaws.com" in organization.inputs["awsServiceAccessPrincipals"]
    for dependency in (
        organization.urn,
        plan.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-config-bucket-policy").urn,
        plan.one("aws:kms/keyPolicy:KeyPolicy").urn,
    ):
        assert dependency in stack_set.dependencies
    [instance] = baseline_instances(plan)
    assert stack_set.urn in instance.dependencies
    assert instance.inputs["retainStack"] is True
    assert instance.inputs["stackSetInstanceRegion"] == "us-east-1"
    ou_ids = {r.name.removeprefix("ou-"): r.outputs["id"] for r in plan.by_type(OU)}
    assert sorted(instance.inputs["deploymentTargets"]["organizationalUnitIds"]) == sorted(
        ou_ids[name] for name in ("security", "sandbox", "workloads")
    )


def test_one_customer_managed_recorder_per_account_and_region_across_every_stack(
    stack_plans: dict[str, StackPlan],
) -> None:
    """The management account records through the management stack (StackSets never deploy to it); every member
    account through the baseline, and through nothing else: no stack makes a recorder in a member account."""
    management = stack_plans["management"]
    recorders: dict[tuple[str, str], list[str]] = {}
    for stack, stack_plan in stack_plans.items():
        plan = stack_plan.plan
        for recorder in plan.by_type("aws:cfg/recorder:Recorder"):
            provider = plan.by_urn(recorder.provider_urn)
            [account] = json.loads(provider.inputs["allowedAccountIds"])
            recorders.setdefault((account, provider.inputs["region"]), []).append(f"{stack}:{recorder.name}")
    settings = management.settings
    organization = settings.organization
    assert organization is not None
    assert recorders == {(settings.account.id, "us-east-1"): ["management:config-management-us-east-1-recorder"]}
    covered = set(baseline_ou_paths(organization))
    assert all(account.ou in covered for account in organization.accounts)
    regions = {i.inputs["stackSetInstanceRegion"] for i in baseline_instances(management.plan)}
    assert regions == set(settings.allowed_regions)


def test_a_grown_organization_gets_the_baseline_and_a_budget_without_code_changes(
    project_dir: Path, management_raw: dict[str, Any]
) -> None:
    raw = copy.deepcopy(management_raw)
    organization = raw["organization"]
    workloads = next(ou for ou in organization["organizationalUnits"] if ou["name"] == "Workloads")
    workloads["children"] = [{"name": "Regulated", "children": [{"name": "Claims"}]}]
    organization["accounts"] += [
        # a developer sandbox created through the settings
        {"name": "sandbox-alice", "email": "alice-sandbox@example.com", "ou": "Sandbox"},
        # a workload account created before it has a stack of its own, in a nested OU
        {"name": "claims", "email": "claims@example.com", "ou": "Workloads/Regulated/Claims"},
    ]
    plan = run_management(project_dir, raw)
    ou_ids = {r.name: r.outputs["id"] for r in plan.by_type(OU)}
    [instance] = baseline_instances(plan)
    targets = set(instance.inputs["deploymentTargets"]["organizationalUnitIds"])
    assert {ou_ids["ou-workloads-regulated"], ou_ids["ou-workloads-regulated-claims"], ou_ids["ou-sandbox"]} <= targets
    for name in ("sandbox-alice", "claims"):
        account_id = plan.one(ACCOUNT, f"{name}-account").outputs["id"]
        budget = plan.one("aws:budgets/budget:Budget", f"budget-{name}")
        assert budget.inputs["costFilters"] == [{"name": "LinkedAccount", "values": [account_id]}]
    # The sandbox gets the Sandbox OU's small limit, the nested workload account the default.
    assert plan.one("aws:budgets/budget:Budget", "budget-sandbox-alice").inputs["limitAmount"] == "100.00"
    assert plan.one("aws:budgets/budget:Budget", "budget-claims").inputs["limitAmount"] == "1000.00"
    # Still one recorder in the program: the management account's.
    assert [r.name for r in plan.by_type("aws:cfg/recorder:Recorder")] == ["config-management-us-east-1-recorder"]


def test_an_account_outside_the_baseline_is_refused(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["organizationalUnits"].append({"name": "Suspended"})
    raw["organization"]["accounts"].append({"name": "old", "email": "old@example.com", "ou": "Suspended"})
    raw["organization"]["baseline"]["organizationalUnits"].append("Nowhere")
    with pytest.raises(Exception) as caught:
        parse_settings(raw, source="Pulumi.management.yaml")
    problems = {str(p.path).removeprefix(f"{CONFIG_KEY}."): p.message for p in caught.value.problems}  # type: ignore[attr-defined]
    index = len(raw["organization"]["accounts"]) - 1
    assert "would record nothing" in problems[f"organization.accounts[{index}].ou"]
    assert "'Nowhere' is not declared" in problems["organization.baseline.organizationalUnits[3]"]


def test_the_baseline_needs_stacksets_trusted_access(management_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(management_raw)
    raw["organization"]["serviceAccessPrincipals"].remove("member.org.stacksets.cloudformation.amazonaws.com")
    with pytest.raises(Exception) as caught:
        parse_settings(raw)
    [problem] = caught.value.problems  # type: ignore[attr-defined]
    assert problem.path == f"{CONFIG_KEY}.organization.serviceAccessPrincipals"
    assert "member.org.stacksets.cloudformation.amazonaws.com" in problem.message


# --------------------------------------------------------------------------------------------------------
# The SCP exemption for the StackSets execution role


@pytest.fixture(scope="module")
def organization_model(project_dir: Path) -> OrganizationModel:
    settings = project.load_stack_settings(project_dir, "management")
    return OrganizationModel.from_settings(settings, policy_dir=project_dir / "policies")


EXEC_ROLE = "arn:aws:iam::216482851263:role/stacksets-exec-0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize("action", ["config:PutConfigurationRecorder", "config:PutDeliveryChannel"])
def test_the_stacksets_execution_role_may_set_up_the_recorder(
    organization_model: OrganizationModel, action: str
) -> None:
    assert evaluate(organization_model, Request(action, "dev", "us-east-1", EXEC_ROLE, "*")).allowed
    admin = "arn:aws:iam::216482851263:role/admin"
    decision = evaluate(organization_model, Request(action, "dev", "us-east-1", admin, "*"))
    assert not decision.allowed
    assert {(m.policy, m.sid) for m in decision.denied_by} == {("protect-guardrails", "DenyStoppingOrChangingConfig")}


def test_the_execution_role_exemption_is_narrow(organization_model: OrganizationModel) -> None:
    """Only the Config statement exempts it: region deny and the other guardrails still bind it; a role under a
    path does not pass for it; and no member principal can take its name."""
    assert not evaluate(organization_model, Request("ec2:RunInstances", "dev", "us-west-2", EXEC_ROLE, "*")).allowed
    assert not evaluate(
        organization_model, Request("cloudtrail:StopLogging", "dev", "us-east-1", EXEC_ROLE, "*")
    ).allowed
    pathed = "arn:aws:iam::216482851263:role/x/stacksets-exec-evil"
    assert not evaluate(
        organization_model, Request("config:PutConfigurationRecorder", "dev", "us-east-1", pathed, "*")
    ).allowed
    admin = "arn:aws:iam::216482851263:role/admin"
    for resource in (
        "arn:aws:iam::216482851263:role/stacksets-exec-evil",
        "arn:aws:iam::216482851263:role/x/stacksets-exec-evil",
    ):
        for action in ("iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"):
            decision = evaluate(organization_model, Request(action, "dev", "us-east-1", admin, resource))
            assert not decision.allowed, (action, resource)
            assert {m.sid for m in decision.denied_by} == {"DenyClaimingOrChangingExemptRoles"}
