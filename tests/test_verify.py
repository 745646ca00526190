"""docustack verify against a live organization in moto: compliant passes, each tampering is caught by its check,
and what cannot be seen is reported as exit 2, never as compliant.

moto gaps, and how the tests work around them (each named again where it matters):
- disabling the SCP policy type on the root detaches every SCP in AWS; moto keeps the attachments;
- an organization cannot go back from ALL features, and its management account cannot change, through any
  API (AWS's or moto's): those tests edit the DescribeOrganization answer instead;
- moto lets an OU with children be deleted; the tests delete the empty Sandbox OU, as AWS would require.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from conftest import filled_in_settings
from moto_foundation import (
    MANAGEMENT_ACCOUNT_ID,
    REGION,
    LiveFoundation,
    deny,
    edit_answer,
    finding,
    run_verify,
    with_status,
    write_project,
)

from docustack import cli, verify
from docustack.settings import FULL_AWS_ACCESS
from docustack.verify import aws as verify_aws
from docustack.verify import framework, policy_compare
from docustack.verify.framework import DRIFT, ERROR, LOW, OK, Finding

ORGANIZATION_CHECKS = {
    "ORG-FEATURES",
    "ORG-MANAGEMENT-ACCOUNT",
    "ORG-ID",
    "ORG-POLICY-TYPES",
    "ORG-SERVICE-ACCESS",
    "ORG-OU-TREE",
    "ORG-ACCOUNT",
    "ORG-ACCOUNT-OU",
    "ORG-SCP-CONTENT",
    "ORG-SCP-ATTACHMENTS",
    "ORG-POLICY-CONTENT",
    "ORG-POLICY-ATTACHMENTS",
    "ORG-POLICY-UNDECLARED",
    "ORG-FULLAWSACCESS",
}
# The audit services' checks that find the Log Archive or Audit account through ListAccounts.
AUDIT_CHECKS = {
    "TRAIL-CONFIGURATION",
    "LOG-BUCKET",
    "LOG-BUCKET-POLICY",
    "LOG-ARCHIVE-KEY",
    "CONFIG-DELEGATED-ADMIN",
    "CONFIG-AGGREGATOR",
    "CONFIG-RECORDING",
    "GUARDDUTY-ADMIN",
    "GUARDDUTY-AUTO-ENABLE",
    "GUARDDUTY-DETECTORS",
    "SECURITYHUB-ADMIN",
    "SECURITYHUB-ACCOUNT",
    "SECURITYHUB-AUTO-ENABLE",
}
# Every stack's own account (components/account_baseline.py).
BASELINE_CHECKS = {
    "STATE-BUCKET",
    "STATE-KEY",
    "ACCOUNT-PUBLIC-ACCESS-BLOCK",
    "CI-OIDC-PROVIDER",
    "CI-ROLE-TRUST",
    "CI-ROLE-READ-ONLY",
}
# What the management stack needs in every member account.
MEMBER_CHECKS = {"ORG-MEMBER-ACCESS-ROLE", "MEMBER-READ-ONLY-ROLE"}
ACCESS_CHECKS = {"ACCESS-INSTANCE", "ACCESS-GROUPS", "ACCESS-PERMISSION-SETS", "ACCESS-ASSIGNMENTS"}
# The organization baseline and cost attribution (docustack/verify/baseline_org_checks.py).
ORGANIZATION_BASELINE_CHECKS = {
    "BASELINE-STACKSET",
    "BASELINE-INSTANCES",
    "BASELINE-RECORDERS",
    "BASELINE-READONLY-STACKSET",
    "BASELINE-READONLY-INSTANCES",
    "BASELINE-READONLY-ROLE",
    "BUDGETS",
    "COST-ALLOCATION-TAGS",
}
MANAGEMENT_CHECKS = {
    "ACCOUNT-IDENTITY",
    *ACCESS_CHECKS,
    *ORGANIZATION_CHECKS,
    "TRAIL-LOGGING",
    *AUDIT_CHECKS,
    *BASELINE_CHECKS,
    *MEMBER_CHECKS,
    *ORGANIZATION_BASELINE_CHECKS,
}


# --------------------------------------------------------------------------------------------------------
# Compliant


def test_compliant_organization_passes(live_foundation: LiveFoundation, project_dir: Path) -> None:
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == set()
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 0
    assert report.result == "compliant"
    assert {check.id for check in report.checks} == MANAGEMENT_CHECKS
    checked = with_status(report, OK)
    # every declared thing got its own finding: evidence of what was compared, not only of what differed
    for scp in ("region-deny", "protect-cloudtrail", "protect-log-archive", "require-s3-encryption", "deny-public-s3"):
        assert ("ORG-SCP-CONTENT", f"scp:{scp}") in checked
        assert ("ORG-SCP-ATTACHMENTS", f"scp:{scp}") in checked
    for account in ("log-archive", "audit", "dev", "staging", "prod"):
        assert ("ORG-ACCOUNT-OU", f"account:{account}") in checked
        assert ("ORG-FULLAWSACCESS", f"account:{account}") in checked
    assert ("ORG-OU-TREE", "ou:Workloads") in checked
    assert ("ORG-SERVICE-ACCESS", "service:config-multiaccountsetup.amazonaws.com") in checked
    assert ("ORG-POLICY-TYPES", "root:SERVICE_CONTROL_POLICY") in checked
    assert report.caller_arn == f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:user/operator"


def test_a_run_only_reads(live_foundation: LiveFoundation, project_dir: Path) -> None:
    session = boto3.Session(region_name=REGION)
    operations: list[str] = []
    session.events.register("before-call", lambda model, **_: operations.append(model.name))
    verify.run(live_foundation.settings, "management", session, project_dir=project_dir)
    assert operations
    # AssumeRole: the read-only sessions in the Log Archive and Audit accounts
    assert {name for name in operations if not name.startswith(("Describe", "Get", "List"))} == {"AssumeRole"}


# --------------------------------------------------------------------------------------------------------
# Tampering: each caught by the right check, and nothing else drifts


def _detach_region_deny(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.detach_policy(PolicyId=f.policy_ids["region-deny"], TargetId=f.root_id)


def _edit_region_deny(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    policy_id = f.policy_ids["region-deny"]
    document = json.loads(f.organizations.describe_policy(PolicyId=policy_id)["Policy"]["Content"])
    condition = document["Statement"][0]["Condition"]["StringNotEquals"]
    condition["aws:RequestedRegion"] = [*condition["aws:RequestedRegion"], "eu-west-1"]
    f.organizations.update_policy(PolicyId=policy_id, Content=json.dumps(document))


def _attach_to_extra_target(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.attach_policy(PolicyId=f.policy_ids["deny-public-s3"], TargetId=f.ou_ids["Sandbox"])


def _delete_scp(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.detach_policy(PolicyId=f.policy_ids["protect-cloudtrail"], TargetId=f.root_id)
    f.organizations.delete_policy(PolicyId=f.policy_ids["protect-cloudtrail"])


def _move_dev_to_sandbox(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.move_account(
        AccountId=f.account_ids["dev"], SourceParentId=f.ou_ids["Workloads"], DestinationParentId=f.ou_ids["Sandbox"]
    )


def _delete_sandbox(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.delete_organizational_unit(OrganizationalUnitId=f.ou_ids["Sandbox"])


def _rename_sandbox(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.update_organizational_unit(OrganizationalUnitId=f.ou_ids["Sandbox"], Name="Sandpit")


def _add_undeclared_ou(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.create_organizational_unit(ParentId=f.ou_ids["Workloads"], Name="Experiments")


def _disable_guardduty_access(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.disable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")


def _disable_scp_type(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    # AWS would also detach every SCP; moto keeps them, so only the policy type check drifts here.
    f.organizations.disable_policy_type(RootId=f.root_id, PolicyType="SERVICE_CONTROL_POLICY")


def _detach_full_aws_access(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.detach_policy(PolicyId="p-FullAWSAccess", TargetId=f.ou_ids["Workloads"])


def _remove_log_archive(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.remove_account_from_organization(AccountId=f.account_ids["log-archive"])


def _close_staging(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.close_account(AccountId=f.account_ids["staging"])


def _enable_undeclared_service(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")


def _consolidated_billing_only(_: LiveFoundation, monkeypatch: pytest.MonkeyPatch) -> None:
    # No API (AWS's or moto's) goes back from ALL features: the answer is edited instead.
    edit_answer(
        monkeypatch, "DescribeOrganization", lambda r: r["Organization"].update(FeatureSet="CONSOLIDATED_BILLING")
    )


def _other_management_account(_: LiveFoundation, monkeypatch: pytest.MonkeyPatch) -> None:
    edit_answer(monkeypatch, "DescribeOrganization", lambda r: r["Organization"].update(MasterAccountId="111122223333"))


LOG_BUCKETS_WITHOUT_ACCOUNT = ("docustack-log-archive-<log-archive account not found>",)
LOG_BUCKETS_WITHOUT_ACCOUNT += ("docustack-log-archive-config-<log-archive account not found>",)
ACCOUNTS_RECORDING = ("management", "log-archive", "audit")

TAMPERING: dict[str, tuple[Callable[[LiveFoundation, pytest.MonkeyPatch], None], set[tuple[str, str]]]] = {
    "scp detached": (_detach_region_deny, {("ORG-SCP-ATTACHMENTS", "scp:region-deny")}),
    "scp content edited": (_edit_region_deny, {("ORG-SCP-CONTENT", "scp:region-deny")}),
    "scp attached to an extra target": (
        _attach_to_extra_target,
        {
            ("ORG-SCP-ATTACHMENTS", "scp:deny-public-s3"),
            ("ORG-POLICY-UNDECLARED", "ou:Sandbox/SERVICE_CONTROL_POLICY"),
        },
    ),
    "scp deleted": (
        _delete_scp,
        {("ORG-SCP-CONTENT", "scp:protect-cloudtrail"), ("ORG-SCP-ATTACHMENTS", "scp:protect-cloudtrail")},
    ),
    "account moved to another OU": (_move_dev_to_sandbox, {("ORG-ACCOUNT-OU", "account:dev")}),
    # The Sandbox OU carries the sandbox-no-phi SCP: with the OU gone, so is that attachment; and the RCP that
    # keeps Sandbox principals out of Workloads, and the SCP that keeps Workloads out of Sandbox, name the OU's
    # path, which no live OU gives any more.
    "OU deleted": (
        _delete_sandbox,
        {
            ("ORG-OU-TREE", "ou:Sandbox"),
            ("ORG-FULLAWSACCESS", "ou:Sandbox"),
            ("ORG-SCP-ATTACHMENTS", "scp:sandbox-no-phi"),
            ("ORG-POLICY-CONTENT", "rcp:rcp-deny-sandbox-principals"),
            ("ORG-SCP-CONTENT", "scp:workloads-no-reach-into-sandbox"),
        },
    ),
    "OU renamed": (
        _rename_sandbox,
        {
            ("ORG-OU-TREE", "ou:Sandbox"),
            ("ORG-OU-TREE", "ou:Sandpit"),
            ("ORG-FULLAWSACCESS", "ou:Sandbox"),
            ("ORG-SCP-ATTACHMENTS", "scp:sandbox-no-phi"),
            ("ORG-POLICY-CONTENT", "rcp:rcp-deny-sandbox-principals"),
            ("ORG-SCP-CONTENT", "scp:workloads-no-reach-into-sandbox"),
        },
    ),
    "undeclared OU": (_add_undeclared_ou, {("ORG-OU-TREE", "ou:Workloads/Experiments")}),
    "service access disabled": (
        _disable_guardduty_access,
        {("ORG-SERVICE-ACCESS", "service:guardduty.amazonaws.com")},
    ),
    "undeclared service access": (_enable_undeclared_service, {("ORG-SERVICE-ACCESS", "service:ram.amazonaws.com")}),
    "SCP policy type disabled": (_disable_scp_type, {("ORG-POLICY-TYPES", "root:SERVICE_CONTROL_POLICY")}),
    "FullAWSAccess detached": (_detach_full_aws_access, {("ORG-FULLAWSACCESS", "ou:Workloads")}),
    "account missing": (
        _remove_log_archive,
        {
            ("ORG-ACCOUNT", "account:log-archive"),
            ("ORG-ACCOUNT-OU", "account:log-archive"),
            ("ORG-SCP-ATTACHMENTS", "scp:protect-log-archive"),
            ("ORG-FULLAWSACCESS", "account:log-archive"),
            # every check that needs the Log Archive account says so on its own
            *{("LOG-BUCKET", f"bucket:{bucket}") for bucket in LOG_BUCKETS_WITHOUT_ACCOUNT},
            *{("LOG-BUCKET-POLICY", f"bucket:{bucket}/Policy") for bucket in LOG_BUCKETS_WITHOUT_ACCOUNT},
            ("TRAIL-CONFIGURATION", "trail:organization-trail/S3BucketName"),
            ("TRAIL-CONFIGURATION", "trail:organization-trail/KmsKeyId"),
            ("CONFIG-RECORDING", "config:log-archive/us-east-1/Recorder"),
            *{("CONFIG-RECORDING", f"config:{name}/us-east-1/DeliveryChannel") for name in ACCOUNTS_RECORDING},
            ("LOG-ARCHIVE-KEY", "key:alias/log-archive"),
            ("ORG-MEMBER-ACCESS-ROLE", "account:log-archive/role:OrganizationAccountAccessRole"),
            ("MEMBER-READ-ONLY-ROLE", "account:log-archive/role:docustack-readonly"),
            ("ACCESS-ASSIGNMENTS", "account:log-archive"),
            # the baseline delivers to the Log Archive's Config bucket, and the budget is filtered on the account
            ("BASELINE-STACKSET", "stackset:docustack-organization-baseline"),
            ("BUDGETS", "budget:docustack-log-archive-monthly"),
        },
    ),
    "account closed": (
        _close_staging,
        {
            ("ORG-ACCOUNT", "account:staging"),
            ("ORG-MEMBER-ACCESS-ROLE", "account:staging/role:OrganizationAccountAccessRole"),
        },
    ),
    "feature set not ALL": (_consolidated_billing_only, {("ORG-FEATURES", "organization")}),
    "another management account": (_other_management_account, {("ORG-MANAGEMENT-ACCOUNT", "organization")}),
}


@pytest.mark.parametrize("scenario", list(TAMPERING))
def test_tampering_is_caught_by_its_check(
    scenario: str, live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper, expected = TAMPERING[scenario]
    tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == expected
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 1
    assert report.result == "drift"


def test_drift_details_say_what_differs(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for tamper in (_edit_region_deny, _attach_to_extra_target, _move_dev_to_sandbox, _rename_sandbox):
        tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)

    content = finding(report, "ORG-SCP-CONTENT", "scp:region-deny")
    assert "statement DenyOutsideAllowedRegions differs in Condition" in content.detail
    assert content.severity == "high"
    attachments = finding(report, "ORG-SCP-ATTACHMENTS", "scp:deny-public-s3")
    assert attachments.detail == "extra ou:Sandpit"
    placement = finding(report, "ORG-ACCOUNT-OU", "account:dev")
    assert (placement.expected, placement.actual) == ("ou:Workloads", "ou:Sandpit")
    assert finding(report, "ORG-OU-TREE", "ou:Sandpit").severity == LOW  # undeclared: low
    assert finding(report, "ORG-OU-TREE", "ou:Sandbox").severity == "high"  # declared and missing: high


def test_moved_ou_is_found_elsewhere(live_foundation: LiveFoundation, project_dir: Path) -> None:
    organizations = live_foundation.organizations
    organizations.delete_organizational_unit(OrganizationalUnitId=live_foundation.ou_ids["Sandbox"])
    organizations.create_organizational_unit(ParentId=live_foundation.ou_ids["Workloads"], Name="Sandbox")
    report = run_verify(live_foundation, project_dir)
    assert "an OU named 'Sandbox' is at Workloads/Sandbox" in finding(report, "ORG-OU-TREE", "ou:Sandbox").detail


# --------------------------------------------------------------------------------------------------------
# What cannot be seen is exit 2, never compliant


@pytest.mark.parametrize(
    ("operation", "checks"),
    [
        ("ListTargetsForPolicy", {"ORG-SCP-ATTACHMENTS", "ORG-POLICY-ATTACHMENTS"}),
        ("DescribePolicy", {"ORG-SCP-CONTENT", "ORG-POLICY-CONTENT"}),
        ("ListPoliciesForTarget", {"ORG-FULLAWSACCESS", "ORG-POLICY-UNDECLARED"}),
        ("ListAWSServiceAccessForOrganization", {"ORG-SERVICE-ACCESS"}),
        ("ListParents", {"ORG-ACCOUNT-OU"}),
        # the CloudTrail bucket policy names the organization (the key policy names accounts only), and so do the
        # perimeter's SCPs and RCPs (sandbox-no-phi names the Workloads OU's organization path)
        (
            "DescribeOrganization",
            {
                "ORG-FEATURES",
                "ORG-MANAGEMENT-ACCOUNT",
                "ORG-ID",
                "LOG-BUCKET-POLICY",
                "ORG-SCP-CONTENT",
                "ORG-POLICY-CONTENT",
            },
        ),
        (
            "ListAccounts",
            {
                "ORG-ACCOUNT",
                "ORG-ACCOUNT-OU",
                "ORG-SCP-ATTACHMENTS",
                "ORG-POLICY-UNDECLARED",
                "ORG-FULLAWSACCESS",
                "ACCESS-ASSIGNMENTS",
                *AUDIT_CHECKS,
                *MEMBER_CHECKS,
                # the read-only StackSet's template names the management account alone, not the organization's
                *(ORGANIZATION_BASELINE_CHECKS - {"COST-ALLOCATION-TAGS", "BASELINE-READONLY-STACKSET"}),
            },
        ),
    ],
)
def test_access_denied_is_exit_2_never_compliant(
    operation: str,
    checks: set[str],
    live_foundation: LiveFoundation,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deny(monkeypatch, operation)
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    assert report.result == "not verified"
    errors = [f for f in report.findings if f.status == ERROR]
    assert {f.check_id for f in errors} == checks
    assert all(f"AccessDeniedException on {operation}" in f.detail for f in errors)
    for registered in report.checks:
        assert (report.check_status(registered) == ERROR) == (registered.id in checks)


def test_an_error_wins_over_drift(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _detach_region_deny(live_foundation, monkeypatch)
    deny(monkeypatch, "ListAWSServiceAccessForOrganization")
    report = run_verify(live_foundation, project_dir)
    assert ("ORG-SCP-ATTACHMENTS", "scp:region-deny") in with_status(report, DRIFT)
    assert report.exit_code == 2


def test_a_network_error_is_an_error_finding(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://organizations.us-east-1.amazonaws.com")

    monkeypatch.setattr(verify.organization_checks.LiveOrganization, "root", property(unreachable))
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    policy_types = [f for f in report.findings if f.check_id == "ORG-POLICY-TYPES"]
    assert [f.status for f in policy_types] == [ERROR]
    assert policy_types[0].detail.startswith("EndpointConnectionError: Could not connect")


# --------------------------------------------------------------------------------------------------------
# Refusals


def test_refuses_settings_with_placeholders(aws: None, project_dir: Path) -> None:
    settings = filled_in_settings("management")
    with pytest.raises(verify.VerifyRefused, match=r"still has placeholders \(organization.importId, "):
        verify.run(settings, "management", boto3.Session(region_name=REGION), project_dir=project_dir)


def test_refuses_credentials_for_another_account(live_foundation: LiveFoundation, project_dir: Path) -> None:
    settings = filled_in_settings("dev")
    with pytest.raises(verify.VerifyRefused, match=r"stack 'dev' is account 216482851263 \(dev\), but .* 348665872333"):
        verify.run(settings, "dev", boto3.Session(region_name=REGION), project_dir=project_dir)


def test_refuses_without_credentials(aws: None, project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = filled_in_settings("dev")
    with pytest.raises(verify.VerifyRefused, match=r"cannot tell who the caller is \(NoCredentialsError"):
        verify.run(settings, "dev", boto3.Session(region_name=REGION), project_dir=project_dir)


# --------------------------------------------------------------------------------------------------------
# Account stacks


# --------------------------------------------------------------------------------------------------------
# Read-only sessions


def test_the_guard_refuses_writes_before_they_are_sent(live_foundation: LiveFoundation) -> None:
    guarded = verify_aws.guard_read_only(boto3.Session(region_name=REGION))
    with pytest.raises(verify.WriteRefused, match="refused organizations:CreateOrganizationalUnit"):
        guarded.client("organizations").create_organizational_unit(ParentId=live_foundation.root_id, Name="Nope")
    names = [
        ou["Name"]
        for ou in live_foundation.organizations.list_organizational_units_for_parent(ParentId=live_foundation.root_id)[
            "OrganizationalUnits"
        ]
    ]
    assert "Nope" not in names


def test_member_sessions_are_read_only_assumed_roles(live_foundation: LiveFoundation) -> None:
    session = verify_aws.guard_read_only(boto3.Session(region_name=REGION))
    requests: list[dict[str, Any]] = []
    session.events.register("before-call.sts.AssumeRole", lambda params, **_: requests.append(params))
    caller = verify_aws.caller_identity(session, REGION)
    log_archive = live_foundation.account_ids["log-archive"]

    member = verify_aws.read_only_session(session, caller, log_archive, "OrganizationAccountAccessRole", region=REGION)

    identity = member.client("sts").get_caller_identity()
    assert identity["Account"] == log_archive
    assert identity["Arn"] == f"arn:aws:sts::{log_archive}:assumed-role/OrganizationAccountAccessRole/docustack-verify"
    body = requests[0]["body"]
    assert body["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert body["RoleArn"] == f"arn:aws:iam::{log_archive}:role/OrganizationAccountAccessRole"
    with pytest.raises(verify.WriteRefused):
        member.client("s3").create_bucket(Bucket="not-from-verify")


def test_context_caches_member_sessions_and_readers(live_foundation: LiveFoundation, project_dir: Path) -> None:
    session = verify_aws.guard_read_only(boto3.Session(region_name=REGION))
    caller = verify_aws.caller_identity(session, REGION)
    context = framework.CheckContext(
        live_foundation.settings, session, caller, member_role="OrganizationAccountAccessRole"
    )
    audit = live_foundation.account_ids["audit"]
    assert context.member_session(audit) is context.member_session(audit)
    organization = context.reader(verify.organization_checks.LiveOrganization)
    assert context.reader(verify.organization_checks.LiveOrganization) is organization
    assert organization.target_id("account:audit") == audit
    assert organization.label(live_foundation.ou_ids["Security"]) == "ou:Security"


# --------------------------------------------------------------------------------------------------------
# The command and its evidence


def _git(folder: Path, *args: str) -> str:
    command = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def checked_out_project(live_foundation: LiveFoundation, project_dir: Path, tmp_path: Path) -> Path:
    """The project with the filled-in management settings, committed to a git repository of its own."""
    folder = tmp_path / "project"
    folder.mkdir()
    write_project(project_dir, folder, "management", live_foundation.raw)
    _git(folder, "init", "--quiet")
    _git(folder, "add", ".")
    _git(folder, "commit", "--quiet", "-m", "config")
    return folder


def test_cli_json_evidence(checked_out_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "evidence.json"
    args = ["--project-dir", str(checked_out_project), "verify", "--stack", "management", "--format", "json"]
    assert cli.main([*args, "--output", str(output)]) == 0
    assert "compliant: report written to" in capsys.readouterr().err
    evidence = json.loads(output.read_text())
    assert evidence["schemaVersion"] == 1
    assert evidence["generatedAt"].endswith("Z")
    assert evidence["stack"] == "management"
    assert evidence["account"] == {"id": MANAGEMENT_ACCOUNT_ID, "name": "management"}
    assert evidence["region"] == REGION
    assert evidence["callerArn"] == f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:user/operator"
    assert evidence["config"] == {"revision": _git(checked_out_project, "rev-parse", "HEAD"), "dirty": False}
    assert evidence["summary"]["result"] == "compliant"
    assert evidence["summary"]["exitCode"] == 0
    assert {check["id"] for check in evidence["checks"]} == MANAGEMENT_CHECKS
    assert set(evidence["findings"][0]) == {"checkId", "resource", "expected", "actual", "status", "severity", "detail"}


def test_cli_summary_is_the_same_report_as_markdown(checked_out_project: Path, tmp_path: Path) -> None:
    output, summary = tmp_path / "evidence.json", tmp_path / "summary.md"
    summary.write_text("earlier job output\n")
    args = ["--project-dir", str(checked_out_project), "verify", "--stack", "management", "--format", "json"]
    assert cli.main([*args, "--output", str(output), "--summary", str(summary)]) == 0
    evidence = json.loads(output.read_text())
    text = summary.read_text()
    assert text.startswith("earlier job output\n# docustack verify: stack `management`")  # appended, not replaced
    assert evidence["generatedAt"] in text


def test_cli_reports_drift_as_text_and_a_dirty_config(
    checked_out_project: Path, live_foundation: LiveFoundation, capsys: pytest.CaptureFixture[str]
) -> None:
    live_foundation.organizations.detach_policy(PolicyId="p-FullAWSAccess", TargetId=live_foundation.root_id)
    (checked_out_project / "policies" / "region-deny.json").write_text(
        (checked_out_project / "policies" / "region-deny.json").read_text() + "\n"
    )
    assert cli.main(["--project-dir", str(checked_out_project), "verify", "--stack", "management"]) == 1
    out = capsys.readouterr().out
    assert "(uncommitted changes to the config)" in out
    assert "DRIFT [high] ORG-FULLAWSACCESS root\n      expected: attached\n      actual:   detached" in out
    assert "DRIFT  ORG-FULLAWSACCESS" in out
    assert "  OK     ACCOUNT-PUBLIC-ACCESS-BLOCK Account-level S3 Block Public Access" in out
    assert f"DRIFT: {len(MANAGEMENT_CHECKS)} checks, " in out
    assert out.rstrip().endswith(" ok, 1 drift, 0 could not be checked (exit 1)")


def test_cli_markdown_evidence(
    checked_out_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deny(monkeypatch, "ListParents")
    assert (
        cli.main(["--project-dir", str(checked_out_project), "verify", "--stack", "management", "--format", "markdown"])
        == 2
    )
    out = capsys.readouterr().out
    assert out.startswith("# docustack verify: stack `management`")
    assert "| Caller | `arn:aws:iam::348665872333:user/operator` |" in out
    assert "| ORG-ACCOUNT-OU | error | Each declared account sits in its declared OU |" in out
    assert "## Drift and errors" in out
    assert "| error | high | ORG-ACCOUNT-OU | * |" in out


def test_cli_refusals_exit_2(aws: None, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project-dir", str(project_dir), "verify", "--stack", "management"]) == 2
    assert (
        "error: not verified: docustack:settings of stack 'management' still has placeholders"
        in capsys.readouterr().err
    )
    assert cli.main(["--project-dir", str(project_dir), "verify", "--stack", "qa"]) == 2
    assert "no stack 'qa'" in capsys.readouterr().err
    args = ["--project-dir", str(project_dir), "verify", "--stack", "management"]
    assert cli.main([*args, "--output", str(tmp_path / "missing" / "report.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_unknown_profile_exits_2(checked_out_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--project-dir", str(checked_out_project), "verify", "--stack", "management", "--profile", "no-such"]
    assert cli.main(args) == 2
    assert "The config profile (no-such) could not be found" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------
# Pieces


def test_policy_comparison_ignores_form_but_not_meaning() -> None:
    expected = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "A", "Effect": "Deny", "Action": ["s3:B", "s3:A"], "Resource": "*"},
            {"Sid": "B", "Effect": "Deny", "Action": "x:Y", "Resource": "*", "Condition": {"Null": {"k": "true"}}},
        ],
    }
    reordered = {
        "Statement": [
            {
                "Resource": ["*"],
                "Condition": {"Null": {"k": ["true"]}},
                "Sid": "B",
                "Action": ["x:Y"],
                "Effect": "Deny",
            },
            {"Sid": "A", "Effect": "Deny", "Action": ["s3:A", "s3:B"], "Resource": "*"},
        ],
        "Version": "2012-10-17",
    }
    assert policy_compare.differences(expected, reordered) == []
    weakened = json.loads(json.dumps(expected))
    weakened["Statement"][0]["Effect"] = "Allow"
    weakened["Statement"][1]["Sid"] = "C"
    assert policy_compare.differences(expected, weakened) == [
        "statement A differs in Effect",
        "statement B is missing",
        "statement C is not declared",
    ]


def test_exit_code_puts_errors_before_drift() -> None:
    def of(*statuses: str) -> int:
        return framework.exit_code(Finding("r", "e", "a", status) for status in statuses)

    assert of() == 0
    assert of(OK, OK) == 0
    assert of(OK, DRIFT) == 1
    assert of(DRIFT, ERROR) == 2


def test_a_check_id_is_registered_once() -> None:
    with pytest.raises(ValueError, match="ORG-FEATURES is registered twice"):
        framework.check("ORG-FEATURES", "again")(lambda context: [])
    assert FULL_AWS_ACCESS in framework.REGISTRY["ORG-FULLAWSACCESS"].title
