"""docustack verify against moto: the audit services of the management stack and every stack's own baseline (state
backend, account Block Public Access, Config recording, CI roles). The compliant foundation is built from the
same builders and constants the components declare (tests/moto_foundation.py); each tampering is caught by its
check and nothing else drifts; what cannot be read is exit 2.

moto gaps, and what the tests do instead (also named where they matter):
- GuardDuty DescribeOrganizationConfiguration and Security Hub ListOrganizationAdminAccounts do not exist in moto:
  the foundation answers them with the compliant values, and the tests tamper by editing that answer;
- moto cannot undo a GuardDuty admin designation either: that tampering edits ListOrganizationAdminAccounts;
- moto refuses config.amazonaws.com as a delegated-administrator principal: the foundation adds it to moto's list,
  so the deregistration below is a real moto call;
- Security Hub's organization configuration, the trail, buckets, keys, Config and IAM are moto's own state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from conftest import filled_in_config
from moto_foundation import (
    REGION,
    LiveAccount,
    LiveFoundation,
    build_account_stack,
    deny,
    edit_answer,
    finding,
    run_verify,
    session,
    sign_in,
    with_status,
)

from components.github_ci_roles import STS_AUDIENCE, github_oidc_provider_arn, preview_trust_policy
from docustack import verify
from docustack.settings import CONFIG_KEY
from docustack.state_backend_spec import PUBLIC_ACCESS_BLOCK, StateBackendSpec
from docustack.verify.framework import DRIFT, ERROR, OK
from policies import minify

TRAIL = "trail:organization-trail"
DEV_ACCOUNT_ID = "216482851263"
STATE_KEY = "key:alias/docustack-pulumi-state"
PREVIEW_ROLE = "docustack-github-preview"


def _log_bucket(f: LiveFoundation, purpose: str = "") -> str:
    return f.settings.log_archive_bucket_name(f.account_ids["log-archive"], purpose)


def test_compliant_audit_services_and_baseline(live_foundation: LiveFoundation, project_dir: Path) -> None:
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == set()
    assert with_status(report, ERROR) == set()
    checked = with_status(report, OK)
    log_bucket, config_bucket = _log_bucket(live_foundation), _log_bucket(live_foundation, "config")
    for setting in ("IsOrganizationTrail", "IsMultiRegionTrail", "LogFileValidationEnabled", "KmsKeyId"):
        assert ("TRAIL-CONFIGURATION", f"{TRAIL}/{setting}") in checked
    assert ("TRAIL-LOGGING", TRAIL) in checked
    assert ("LOG-BUCKET", f"bucket:{log_bucket}/ObjectLock") in checked
    assert ("LOG-BUCKET", f"bucket:{config_bucket}/Encryption") in checked
    assert ("LOG-BUCKET-POLICY", f"bucket:{log_bucket}/Policy") in checked
    for account in ("management", "log-archive", "audit"):
        assert ("CONFIG-RECORDING", f"config:{account}/us-east-1/Recorder") in checked
        assert ("CONFIG-RECORDING", f"config:{account}/us-east-1/DeliveryChannel") in checked
    assert ("CONFIG-DELEGATED-ADMIN", "service:config.amazonaws.com") in checked
    assert ("CONFIG-AGGREGATOR", "aggregator:docustack-organization") in checked
    assert ("GUARDDUTY-AUTO-ENABLE", "guardduty:us-east-1") in checked
    assert ("SECURITYHUB-ADMIN", "securityhub:us-east-1") in checked
    assert ("STATE-BUCKET", "bucket:docustack-pulumi-state-348665872333/Policy") in checked
    assert ("CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}") in checked
    # the evidence names what was compared
    key = finding(report, "TRAIL-CONFIGURATION", f"{TRAIL}/KmsKeyId")
    assert key.expected == key.actual == live_foundation.log_key_arn
    lock = finding(report, "LOG-BUCKET", f"bucket:{log_bucket}/ObjectLock")
    assert lock.actual == "Enabled, default retention COMPLIANCE 365 days"


# --------------------------------------------------------------------------------------------------------
# Tampering with the audit services


def _stop_logging(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").stop_logging(Name="organization-trail")


def _validation_off(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").update_trail(Name="organization-trail", EnableLogFileValidation=False)


def _trail_not_organization_wide(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").update_trail(Name="organization-trail", IsOrganizationTrail=False)


def _trail_deleted(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").delete_trail(Name="organization-trail")


def _aggregator_deleted(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("audit").client("config").delete_configuration_aggregator(
        ConfigurationAggregatorName="docustack-organization"
    )


def _delegated_admin_removed(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.deregister_delegated_administrator(
        AccountId=f.account_ids["audit"], ServicePrincipal="config-multiaccountsetup.amazonaws.com"
    )


def _log_policy_statement_removed(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    s3 = f.member("log-archive").client("s3")
    document = json.loads(s3.get_bucket_policy(Bucket=_log_bucket(f))["Policy"])
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyDeletingLogObjects"]
    s3.put_bucket_policy(Bucket=_log_bucket(f), Policy=json.dumps(document))


def _log_bucket_public_policy_allowed(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("log-archive").client("s3").put_public_access_block(
        Bucket=_log_bucket(f), PublicAccessBlockConfiguration={**PUBLIC_ACCESS_BLOCK, "BlockPublicPolicy": False}
    )


def _config_bucket_versioning_suspended(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("log-archive").client("s3").put_bucket_versioning(
        Bucket=_log_bucket(f, "config"), VersioningConfiguration={"Status": "Suspended"}
    )


def _audit_recorder_stopped(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("audit").client("config").stop_configuration_recorder(ConfigurationRecorderName="default")


def _guardduty_new_members_only(_: LiveFoundation, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto has no GuardDuty DescribeOrganizationConfiguration (nor an update): the answer is edited.
    edit_answer(
        monkeypatch,
        "DescribeOrganizationConfiguration",
        lambda r: r.update(AutoEnableOrganizationMembers="NEW"),
        service="guardduty",
    )


def _guardduty_admin_disabled(_: LiveFoundation, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto cannot disable a GuardDuty admin designation: the answer is edited.
    edit_answer(
        monkeypatch,
        "ListOrganizationAdminAccounts",
        lambda r: r["AdminAccounts"][0].update(AdminStatus="DISABLE_IN_PROGRESS"),
        service="guardduty",
    )


def _security_hub_auto_enable_off(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("audit").client("securityhub").update_organization_configuration(AutoEnable=False)


def _security_hub_no_admin(_: LiveFoundation, monkeypatch: pytest.MonkeyPatch) -> None:
    # moto has no Security Hub ListOrganizationAdminAccounts: the foundation's answer is edited.
    edit_answer(monkeypatch, "ListOrganizationAdminAccounts", lambda r: r.update(AdminAccounts=[]), "securityhub")


def _management_state_key_rotation_off(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("kms").disable_key_rotation(KeyId=f.settings.state_backend.key_id)


Tamper = Callable[[LiveFoundation, pytest.MonkeyPatch], None]
AUDIT_TAMPERING: dict[str, tuple[Tamper, set[tuple[str, str]]]] = {
    "trail stopped logging": (_stop_logging, {("TRAIL-LOGGING", TRAIL)}),
    "log file validation off": (
        _validation_off,
        {("TRAIL-CONFIGURATION", f"{TRAIL}/LogFileValidationEnabled")},
    ),
    "trail no longer organization-wide": (
        _trail_not_organization_wide,
        {("TRAIL-CONFIGURATION", f"{TRAIL}/IsOrganizationTrail")},
    ),
    "trail deleted": (_trail_deleted, {("TRAIL-CONFIGURATION", TRAIL), ("TRAIL-LOGGING", TRAIL)}),
    "aggregator deleted": (_aggregator_deleted, {("CONFIG-AGGREGATOR", "aggregator:docustack-organization")}),
    "delegated admin removed": (
        _delegated_admin_removed,
        {("CONFIG-DELEGATED-ADMIN", "service:config-multiaccountsetup.amazonaws.com")},
    ),
    "log bucket policy statement removed": (
        _log_policy_statement_removed,
        {("LOG-BUCKET-POLICY", "bucket:{log}/Policy")},
    ),
    "log bucket public access flag off": (
        _log_bucket_public_policy_allowed,
        {("LOG-BUCKET", "bucket:{log}/PublicAccessBlock")},
    ),
    "config bucket versioning suspended": (
        _config_bucket_versioning_suspended,
        {("LOG-BUCKET", "bucket:{config}/Versioning")},
    ),
    "audit recorder stopped": (_audit_recorder_stopped, {("CONFIG-RECORDING", "config:audit/us-east-1/Recorder")}),
    "guardduty auto-enable NEW only": (_guardduty_new_members_only, {("GUARDDUTY-AUTO-ENABLE", "guardduty:us-east-1")}),
    "guardduty admin disabled": (_guardduty_admin_disabled, {("GUARDDUTY-ADMIN", "guardduty:us-east-1")}),
    "security hub auto-enable off": (
        _security_hub_auto_enable_off,
        {("SECURITYHUB-AUTO-ENABLE", "securityhub:us-east-1")},
    ),
    "security hub admin gone": (_security_hub_no_admin, {("SECURITYHUB-ADMIN", "securityhub:us-east-1")}),
    "management state key rotation off": (
        _management_state_key_rotation_off,
        {("STATE-KEY", f"{STATE_KEY}/Rotation")},
    ),
}


@pytest.mark.parametrize("scenario", list(AUDIT_TAMPERING))
def test_audit_tampering_is_caught_by_its_check(
    scenario: str, live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper, expected = AUDIT_TAMPERING[scenario]
    tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)
    names = {"log": _log_bucket(live_foundation), "config": _log_bucket(live_foundation, "config")}
    assert with_status(report, DRIFT) == {(check, resource.format(**names)) for check, resource in expected}
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 1


def test_audit_drift_details(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for tamper in (_log_policy_statement_removed, _validation_off, _delegated_admin_removed):
        tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)
    policy = finding(report, "LOG-BUCKET-POLICY", f"bucket:{_log_bucket(live_foundation)}/Policy")
    assert policy.detail == "statement DenyDeletingLogObjects is missing"
    assert "DenyDeletingLogObjects" in policy.expected
    validation = finding(report, "TRAIL-CONFIGURATION", f"{TRAIL}/LogFileValidationEnabled")
    assert (validation.expected, validation.actual) == ("True", "False")
    admin = finding(report, "CONFIG-DELEGATED-ADMIN", "service:config-multiaccountsetup.amazonaws.com")
    assert (admin.expected, admin.actual, admin.severity) == ("account:audit", "none", "medium")


@pytest.mark.parametrize(
    ("service", "operation", "checks"),
    [
        ("cloudtrail", "GetTrailStatus", {"TRAIL-LOGGING"}),
        ("guardduty", "DescribeOrganizationConfiguration", {"GUARDDUTY-AUTO-ENABLE"}),
        ("securityhub", "ListOrganizationAdminAccounts", {"SECURITYHUB-ADMIN"}),
        ("s3", "GetBucketPolicy", {"LOG-BUCKET", "LOG-BUCKET-POLICY", "STATE-BUCKET"}),
        ("organizations", "ListDelegatedAdministrators", {"CONFIG-DELEGATED-ADMIN"}),
        # no read-only session in the member accounts: nothing there can be seen
        (
            "sts",
            "AssumeRole",
            {
                "TRAIL-CONFIGURATION",
                "LOG-BUCKET",
                "LOG-BUCKET-POLICY",
                "LOG-ARCHIVE-KEY",
                "ORG-MEMBER-ACCESS-ROLE",
                "CONFIG-AGGREGATOR",
                "CONFIG-RECORDING",
                "BASELINE-STACKSET",  # its ConfigKeyArn parameter is the Log Archive key, read in that account
                "BASELINE-RECORDERS",
                "BASELINE-READONLY-ROLE",
                "GUARDDUTY-AUTO-ENABLE",
                "GUARDDUTY-DETECTORS",
                "SECURITYHUB-ACCOUNT",
                "SECURITYHUB-AUTO-ENABLE",
                "MEMBER-READ-ONLY-ROLE",
            },
        ),
    ],
)
def test_what_cannot_be_read_is_exit_2(
    service: str,
    operation: str,
    checks: set[str],
    live_foundation: LiveFoundation,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deny(monkeypatch, operation, service=service)
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    assert {f.check_id for f in report.findings if f.status == ERROR} == checks
    assert with_status(report, DRIFT) == set()


# --------------------------------------------------------------------------------------------------------
# An account stack (dev): its own account only


@pytest.fixture
def live_account(aws: None, monkeypatch: pytest.MonkeyPatch) -> LiveAccount:
    """The dev account as its first deployment leaves it, the operator signed in to it."""
    sign_in(monkeypatch, DEV_ACCOUNT_ID)
    return build_account_stack(filled_in_config("dev")[CONFIG_KEY], "dev")


# Config recording is the organization baseline's and is checked from the management stack.
ACCOUNT_CHECKS = [
    "ACCOUNT-IDENTITY",
    "STATE-BUCKET",
    "STATE-KEY",
    "ACCOUNT-PUBLIC-ACCESS-BLOCK",
    "CI-OIDC-PROVIDER",
    "CI-ROLE-TRUST",
    "CI-ROLE-READ-ONLY",
]


def test_compliant_account_stack(live_account: LiveAccount, project_dir: Path) -> None:
    report = run_verify(live_account, project_dir, "dev")
    assert [check.id for check in report.checks] == ACCOUNT_CHECKS
    assert with_status(report, DRIFT) == set()
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 0
    # The account's Config recorder is the organization baseline's, checked from the management stack.
    assert not [f for f in report.findings if f.check_id == "CONFIG-RECORDING"]
    trust = finding(report, "CI-ROLE-TRUST", "role:docustack-github-deploy")
    assert trust.expected == (
        "web identity from token.actions.githubusercontent.com: "
        "StringEquals repo:docustack/aws-foundation:environment:dev"
    )


def _spec(a: LiveAccount) -> StateBackendSpec:
    return StateBackendSpec.from_settings(a.settings, "dev")


def _versioning_suspended(a: LiveAccount) -> None:
    session().client("s3").put_bucket_versioning(
        Bucket=_spec(a).bucket_name, VersioningConfiguration={"Status": "Suspended"}
    )


def _bucket_public_acls_allowed(a: LiveAccount) -> None:
    session().client("s3").put_public_access_block(
        Bucket=_spec(a).bucket_name, PublicAccessBlockConfiguration={**PUBLIC_ACCESS_BLOCK, "IgnorePublicAcls": False}
    )


def _account_public_access_flag_off(a: LiveAccount) -> None:
    session().client("s3control").put_public_access_block(
        AccountId=DEV_ACCOUNT_ID,
        PublicAccessBlockConfiguration={**PUBLIC_ACCESS_BLOCK, "RestrictPublicBuckets": False},
    )


def _preview_trusts_another_repository(a: LiveAccount) -> None:
    document = preview_trust_policy(github_oidc_provider_arn(DEV_ACCOUNT_ID), "repo:someone-else/fork")
    session().client("iam").update_assume_role_policy(RoleName=PREVIEW_ROLE, PolicyDocument=minify(document))


def _key_policy_opened_to_another_account(a: LiveAccount) -> None:
    kms = session().client("kms")
    key_id = a.settings.state_backend.key_id
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    policy["Statement"].append(
        {
            "Sid": "Outsider",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


def _key_rotation_off(a: LiveAccount) -> None:
    session().client("kms").disable_key_rotation(KeyId=a.settings.state_backend.key_id)


def _key_disabled(a: LiveAccount) -> None:
    session().client("kms").disable_key(KeyId=a.settings.state_backend.key_id)


def _tls_policy_removed(a: LiveAccount) -> None:
    session().client("s3").delete_bucket_policy(Bucket=_spec(a).bucket_name)


def _lifecycle_removed(a: LiveAccount) -> None:
    session().client("s3").delete_bucket_lifecycle(Bucket=_spec(a).bucket_name)


def _oidc_provider_deleted(a: LiveAccount) -> None:
    # moto has no RemoveClientIDFromOpenIDConnectProvider; the client ID comparison is tested on its answer below.
    session().client("iam").delete_open_id_connect_provider(
        OpenIDConnectProviderArn=github_oidc_provider_arn(DEV_ACCOUNT_ID)
    )


ACCOUNT_TAMPERING: dict[str, tuple[Callable[[LiveAccount], None], set[tuple[str, str]]]] = {
    "state bucket versioning suspended": (
        _versioning_suspended,
        {("STATE-BUCKET", "bucket:docustack-pulumi-state-216482851263/Versioning")},
    ),
    "state bucket public access flag off": (
        _bucket_public_acls_allowed,
        {("STATE-BUCKET", "bucket:docustack-pulumi-state-216482851263/PublicAccessBlock")},
    ),
    "account public access flag off": (
        _account_public_access_flag_off,
        {("ACCOUNT-PUBLIC-ACCESS-BLOCK", "account:dev")},
    ),
    "CI role trusts another repository": (
        _preview_trusts_another_repository,
        {("CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}")},
    ),
    "state key rotation off": (_key_rotation_off, {("STATE-KEY", f"{STATE_KEY}/Rotation")}),
    "state key disabled": (_key_disabled, {("STATE-KEY", f"{STATE_KEY}/State")}),
    "state key policy opened to another account": (
        _key_policy_opened_to_another_account,
        {("STATE-KEY", f"{STATE_KEY}/Policy")},
    ),
    "TLS-only policy removed": (
        _tls_policy_removed,
        {("STATE-BUCKET", "bucket:docustack-pulumi-state-216482851263/Policy")},
    ),
    "lifecycle removed": (
        _lifecycle_removed,
        {("STATE-BUCKET", "bucket:docustack-pulumi-state-216482851263/Lifecycle")},
    ),
    "OIDC provider deleted": (
        _oidc_provider_deleted,
        {("CI-OIDC-PROVIDER", "oidc-provider:token.actions.githubusercontent.com")},
    ),
}


@pytest.mark.parametrize("scenario", list(ACCOUNT_TAMPERING))
def test_account_tampering_is_caught_by_its_check(scenario: str, live_account: LiveAccount, project_dir: Path) -> None:
    tamper, expected = ACCOUNT_TAMPERING[scenario]
    tamper(live_account)
    report = run_verify(live_account, project_dir, "dev")
    assert with_status(report, DRIFT) == expected
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 1


def test_oidc_provider_without_the_sts_audience(
    live_account: LiveAccount, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto cannot remove a client ID: the GetOpenIDConnectProvider answer is edited.
    edit_answer(monkeypatch, "GetOpenIDConnectProvider", lambda r: r.update(ClientIDList=["sigstore"]), "iam")
    report = run_verify(live_account, project_dir, "dev")
    audience = finding(report, "CI-OIDC-PROVIDER", "oidc-provider:token.actions.githubusercontent.com")
    assert (audience.status, audience.expected, audience.actual) == (
        DRIFT,
        f"client ID {STS_AUDIENCE}",
        "client ID sigstore",
    )


def test_a_trust_of_another_repository_names_the_subject(live_account: LiveAccount, project_dir: Path) -> None:
    _preview_trusts_another_repository(live_account)
    trust = finding(run_verify(live_account, project_dir, "dev"), "CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}")
    assert trust.expected.endswith(
        "StringEquals repo:docustack/aws-foundation:pull_request, "
        "StringEquals repo:docustack/aws-foundation:ref:refs/heads/main"
    )
    assert "statement GitHubReadOnly differs in Condition" in trust.detail
    assert "live sub: StringEquals repo:someone-else/fork:pull_request" in trust.detail


def test_account_checks_only_read_their_own_account(live_account: LiveAccount, project_dir: Path) -> None:
    operations: list[str] = []
    checked = boto3.Session(region_name=REGION)
    checked.events.register("before-call", lambda model, **_: operations.append(model.name))
    verify.run(live_account.settings, "dev", checked, project_dir=project_dir)
    assert operations
    assert [name for name in operations if not name.startswith(("Describe", "Get", "List"))] == []


@pytest.mark.parametrize(
    ("service", "operation", "checks"),
    [
        ("s3control", "GetPublicAccessBlock", {"ACCOUNT-PUBLIC-ACCESS-BLOCK"}),
        ("kms", "GetKeyRotationStatus", {"STATE-KEY"}),
        ("iam", "GetRole", {"CI-ROLE-TRUST"}),
    ],
)
def test_account_stack_cannot_see_is_exit_2(
    service: str,
    operation: str,
    checks: set[str],
    live_account: LiveAccount,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deny(monkeypatch, operation, service=service)
    report = run_verify(live_account, project_dir, "dev")
    assert report.exit_code == 2
    assert {f.check_id for f in report.findings if f.status == ERROR} == checks
