"""The whole program, run for each stack with that stack's own Pulumi.<stack>.yaml, under the project's mocks."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import filled_in_config

import policies
from docustack import offline, project
from docustack.plan import StackPlan
from docustack.settings import CONFIG_KEY
from policies import perimeter

ACCOUNT = "aws:organizations/account:Account"
ATTACHMENT = "aws:organizations/policyAttachment:PolicyAttachment"
POLICY = "aws:organizations/policy:Policy"
ORGANIZATION = "aws:organizations/organization:Organization"
OU = "aws:organizations/organizationalUnit:OrganizationalUnit"


def run_main(project_dir: Path, stack: str, config: dict[str, Any], *, preview: bool = True) -> offline.Plan:
    main = str(project_dir / "__main__.py")
    return offline.run_program(
        lambda: runpy.run_path(main, run_name="__main__"), stack=stack, config=config, preview=preview
    )


@pytest.mark.parametrize("stack", ["management", "dev", "staging", "prod"])
def test_every_resource_uses_a_provider_pinned_to_the_stack_account(
    stack_plans: dict[str, StackPlan], stack: str
) -> None:
    stack_plan = stack_plans[stack]
    providers = {r.urn: r for r in stack_plan.plan.resources if r.type == "pulumi:providers:aws"}
    assert providers, "no explicit provider"
    own = [
        p for p in providers.values() if json.loads(p.inputs["allowedAccountIds"]) == [stack_plan.settings.account.id]
    ]
    assert len(own) == 1
    assert own[0].inputs["region"] == stack_plan.settings.account.region
    for resource in stack_plan.plan.resources:
        if resource.custom and not resource.type.startswith("pulumi:providers:"):
            assert resource.provider_urn in providers, f"{resource.name} uses a default provider"


def test_stack_files_disable_default_providers(project_dir: Path) -> None:
    for stack in project.stack_names(project_dir):
        assert project.read_stack_config(project_dir, stack)["pulumi:disable-default-providers"] == ["*"]


def test_management_adopts_the_organization_and_protects_it(stack_plans: dict[str, StackPlan]) -> None:
    organization = stack_plans["management"].plan.one(ORGANIZATION)
    assert organization.protect
    assert organization.import_id == "<organization-id>"
    assert organization.inputs["featureSet"] == "ALL"
    assert "SERVICE_CONTROL_POLICY" in organization.inputs["enabledPolicyTypes"]


def test_management_builds_the_strategy_documents_tree(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    assert sorted(r.inputs["name"] for r in plan.by_type(OU)) == ["Sandbox", "Security", "Workloads"]
    ou_ids = {r.inputs["name"]: r.outputs["id"] for r in plan.by_type(OU)}
    parents = {r.name: r.inputs["parentId"] for r in plan.by_type(ACCOUNT)}
    assert parents == {
        "log-archive-account": ou_ids["Security"],
        "audit-account": ou_ids["Security"],
        "dev-account": ou_ids["Workloads"],
        "staging-account": ou_ids["Workloads"],
        "prod-account": ou_ids["Workloads"],
    }


def test_accounts_are_protected_retained_and_never_closed(stack_plans: dict[str, StackPlan]) -> None:
    for account in stack_plans["management"].plan.by_type(ACCOUNT):
        assert account.protect and account.retain_on_delete, account.name
        assert account.inputs.get("closeOnDeletion") is False, account.name


def test_created_accounts_get_the_access_role_and_adopted_ones_are_imported(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    log_archive = plan.one(ACCOUNT, "log-archive-account")
    assert log_archive.import_id == ""
    assert log_archive.inputs["roleName"] == "OrganizationAccountAccessRole"
    dev = plan.one(ACCOUNT, "dev-account")
    assert dev.import_id == "216482851263"
    assert "roleName" not in dev.inputs
    assert set(dev.ignore_changes) == {"roleName", "iamUserAccessToBilling"}


def test_scps_are_attached_where_the_strategy_document_says(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    root_id = plan.one(ORGANIZATION).outputs["roots"][0]["id"]
    workloads = next(r.outputs["id"] for r in plan.by_type(OU) if r.inputs["name"] == "Workloads")
    sandbox = next(r.outputs["id"] for r in plan.by_type(OU) if r.inputs["name"] == "Sandbox")
    security = next(r.outputs["id"] for r in plan.by_type(OU) if r.inputs["name"] == "Security")
    log_archive = plan.one(ACCOUNT, "log-archive-account").outputs["id"]
    policy_names = {r.outputs["id"]: r.inputs["name"] for r in plan.by_type(POLICY)}
    attachments = sorted((policy_names[a.inputs["policyId"]], a.inputs["targetId"]) for a in plan.by_type(ATTACHMENT))
    assert attachments == sorted(
        [
            ("region-deny", root_id),
            ("protect-cloudtrail", root_id),
            ("protect-guardrails", root_id),
            ("protect-log-archive", log_archive),
            ("require-s3-encryption", workloads),
            ("deny-public-s3", workloads),
            ("tag-policy", root_id),
            ("ai-opt-out", root_id),
            ("ec2-declarative", root_id),
            ("s3-block-public-access", root_id),  # the S3 policy: account-level Block Public Access everywhere
            ("sandbox-no-phi", sandbox),
            ("workloads-no-reach-into-sandbox", workloads),
            ("rcp-identity-perimeter", workloads),
            ("rcp-identity-perimeter", security),
            ("rcp-deny-sandbox-principals", workloads),
        ]
    )


def test_attachments_wait_for_the_organization(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    # Depending on the component waits for its children: the SDK expands it to the organization resource.
    organization = plan.one(ORGANIZATION)
    for attachment in plan.by_type(ATTACHMENT):
        assert organization.urn in attachment.dependencies, attachment.name


def test_scp_content_is_the_minified_rendered_file(stack_plans: dict[str, StackPlan]) -> None:
    stack_plan = stack_plans["management"]
    assert stack_plan.settings.organization is not None
    entries = {entry.name: entry for entry in stack_plan.settings.organization.policies}
    plan = stack_plan.plan
    organization = plan.one(ORGANIZATION).outputs
    # The perimeter's documents name the organization, root and OUs by the IDs Organizations gave them (here the
    # mocks'), not by the stand-ins the settings were checked with (every OU here is a top-level one).
    real = perimeter.organization_variables(
        organization["id"],
        organization["roots"][0]["id"],
        {r.inputs["name"]: r.outputs["id"] for r in plan.by_type(OU)},
    )
    stand_ins = stack_plan.settings.policy_variables()
    for policy in plan.by_type(POLICY):
        entry = entries[policy.inputs["name"]]
        expected = policies.render_file(entry.file, {**stand_ins, **real}, policy_type=entry.type)
        assert policy.inputs["content"] == expected
        assert policy.inputs["type"] == entry.type
        assert "x" * 32 not in policy.inputs["content"], f"{entry.name} was deployed with a stand-in ID"
    assert {entry.type for entry in entries.values()} >= {"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"}
    assert any(organization["id"] in p.inputs["content"] for p in plan.by_type(POLICY))
    assert {policy.inputs["name"] for policy in plan.by_type(POLICY)} == set(entries)


def test_placeholders_warn_in_preview(project_dir: Path, stack_plans: dict[str, StackPlan]) -> None:
    assert any("account.id" in w and "placeholders" in w for w in stack_plans["staging"].plan.warnings)
    assert run_main(project_dir, "dev", filled_in_config("dev")).warnings == []


@pytest.mark.parametrize("stack", ["management", "staging", "prod"])
def test_update_refuses_placeholders_before_registering_anything(project_dir: Path, stack: str) -> None:
    config = project.read_stack_config(project_dir, stack)
    with pytest.raises(pulumi.RunError, match="refusing to deploy: docustack:settings still has placeholders"):
        run_main(project_dir, stack, config, preview=False)


def test_update_without_placeholders_deploys(project_dir: Path) -> None:
    plan = run_main(project_dir, "dev", filled_in_config("dev"), preview=False)
    assert plan.resources


def test_bad_config_stops_the_program_with_a_message_not_a_traceback(project_dir: Path) -> None:
    config = project.read_stack_config(project_dir, "dev")
    config[CONFIG_KEY] = {**config[CONFIG_KEY], "account": {"id": "123", "name": "dev", "region": "us-east-1"}}
    with pytest.raises(pulumi.RunError) as caught:
        run_main(project_dir, "dev", config)
    assert "Pulumi.dev.yaml: 1 problem(s) in docustack:settings" in str(caught.value)
    assert "docustack:settings.account.id: '123' is not a 12-digit AWS account ID" in str(caught.value)


def test_resource_graph_snapshot(stack_plans: dict[str, StackPlan], snapshot: Any) -> None:
    """What each stack would create, for reviewers: a change to this snapshot is a change to the infrastructure."""
    graphs = {}
    for stack, stack_plan in stack_plans.items():
        names = {r.urn: f"{r.type}::{r.name}" for r in stack_plan.plan.resources}
        graphs[stack] = sorted(
            {
                "resource": names[r.urn],
                "parent": names.get(r.parent, ""),
                "provider": names.get(r.provider_urn, ""),
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "import": r.import_id,
                "dependsOn": sorted(names.get(d, d) for d in r.dependencies),
            }.__repr__()
            for r in stack_plan.plan.resources
        )
    assert graphs == snapshot


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_account_stacks_leave_config_recording_to_the_organization_baseline(
    stack_plans: dict[str, StackPlan], stack: str
) -> None:
    """The management stack's StackSet records Config in every member account; an account stack making its own
    recorder would be a second customer managed recorder in the region, which Config refuses."""
    plan = stack_plans[stack].plan
    config_types = {r.type for r in plan.resources if r.type.startswith("aws:cfg/")}
    assert config_types == set()
    assert not plan.by_type("docustack:audit:ConfigRecorder")


def test_member_providers_use_the_read_only_role_in_previews_and_the_access_role_in_updates(
    project_dir: Path, stack_plans: dict[str, StackPlan]
) -> None:
    def member_roles(plan: offline.Plan) -> dict[str, str]:
        return {
            p.name: json.loads(p.inputs["assumeRoles"])[0]["roleArn"].rsplit("/", 1)[-1]
            for p in plan.by_type("pulumi:providers:aws")
            if "assumeRoles" in p.inputs
        }

    assert set(member_roles(stack_plans["management"].plan).values()) == {"docustack-readonly"}
    config = project.read_stack_config(project_dir, "management")
    update = run_main(project_dir, "management", fill_management_placeholders(config), preview=False)
    assert set(member_roles(update).values()) == {"OrganizationAccountAccessRole"}
    readonly = [r for r in update.by_type("aws:iam/role:Role") if r.inputs.get("name") == "docustack-readonly"]
    assert {provider_name(update, r) for r in readonly} == {"log-archive-us-east-1", "audit-us-east-1"}
    for role in readonly:
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert trust == [
            {
                "Sid": "ManagementAccount",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::348665872333:root"},
                "Action": "sts:AssumeRole",
            }
        ]


def test_management_read_only_ci_role_may_assume_only_member_read_only_roles(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    policy = plan.one("aws:iam/rolePolicy:RolePolicy", "management-ci-preview-member-read-only")
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {
            "Sid": "AssumeMemberReadOnly",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/docustack-readonly",
            # in accounts of the caller's organization only
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
        }
    ]
    assert plan.by_type("aws:iam/rolePolicy:RolePolicy") and not any(
        r.name == "dev-ci-preview-member-read-only" for r in plan.resources
    )


def provider_name(plan: offline.Plan, resource: offline.PlannedResource) -> str:
    return plan.by_urn(resource.provider_urn).name


def fill_management_placeholders(config: dict[str, Any]) -> dict[str, Any]:
    """Every placeholder of the management stack filled in, so an update can run."""
    settings = config[CONFIG_KEY]
    settings["stateBackend"]["keyId"] = "1234abcd-12ab-34cd-56ef-1234567890ab"
    settings["ci"]["repository"] = "docustack/aws-foundation"
    organization = settings["organization"]
    organization["importId"] = "o-abcdef1234"
    for index, account in enumerate(organization["accounts"]):
        account["email"] = f"{account['name']}@example.com"
        if str(account.get("accountName", "")).startswith("<"):
            account["accountName"] = account["name"]
        if str(account.get("id", "")).startswith("<"):
            account["id"] = f"{100000000000 + index}"
    if "identityCenter" in organization:
        organization["identityCenter"]["instanceArn"] = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
        organization["identityCenter"]["identityStoreId"] = "d-1234567890"
    for notification in organization.get("budgets", {}).get("default", {}).get("notifications", []):
        notification["emails"] = ["cloud-costs@example.com"]
    return config


def test_log_bucket_policies_exempt_only_the_log_archive_accounts_own_roles(stack_plans: dict[str, StackPlan]) -> None:
    """A role of the same name in another account must not pass the buckets' deny statements."""
    plan = stack_plans["management"].plan
    log_archive_id = plan.one(ACCOUNT, "log-archive-account").outputs["id"]
    for name in ("log-archive-bucket-policy", "log-archive-config-bucket-policy"):
        statements = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy", name).inputs["policy"])["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny" and "ArnNotLike" in s.get("Condition", {})]
        assert denies, name
        for statement in denies:
            assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
                f"arn:aws:iam::{log_archive_id}:role/OrganizationAccountAccessRole",
                f"arn:aws:iam::{log_archive_id}:role/docustack-break-glass",
            ]
