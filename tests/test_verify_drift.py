"""docustack verify never calls drift "compliant": the classes of drift an earlier version reported as compliant.

Each tampering below was reported compliant (exit 0) before the check it names compared what decides its
property: a trail that records no (or only some) management events, a policy whose duplicate Sid hid a
statement, a Log Archive lifecycle that expires the history, the Log Archive key (rotation, state, policy), Config
delivery settings, and the member accounts' access role. Each is caught by its check, and nothing else drifts.
The compliant foundation is the shared one (tests/moto_foundation.py).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto_foundation import LiveFoundation, finding, patch_api, run_verify, session, with_status, write_project

import policies
from docustack import cli
from docustack.verify import framework, policy_compare
from docustack.verify.audit_checks import MANAGEMENT_EVENTS_DECLARED, management_events
from docustack.verify.framework import DRIFT, ERROR, OK
from docustack.verify.member_checks import who_may_assume

TRAIL = "trail:organization-trail"
LOG_KEY = "key:alias/log-archive"
ACCESS_ROLE = "OrganizationAccountAccessRole"
READ_ONLY_ROLE = "docustack-readonly"
OUTSIDER = "arn:aws:iam::999999999999:root"


def _bucket(f: LiveFoundation, purpose: str = "") -> str:
    return f.settings.log_archive_bucket_name(f.account_ids["log-archive"], purpose)


def _log_kms(f: LiveFoundation) -> Any:
    return f.member("log-archive").client("kms")


# --------------------------------------------------------------------------------------------------------
# Tampering


def _no_management_events(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    # Still logging, still organization-wide: but only S3 data events.
    session().client("cloudtrail").put_event_selectors(
        TrailName="organization-trail",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )


def _write_only_management_events(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").put_event_selectors(
        TrailName="organization-trail",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )


def _advanced_selectors_filter_management_events(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").put_event_selectors(
        TrailName="organization-trail",
        AdvancedEventSelectors=[
            {
                "Name": "management events except KMS",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]},
                ],
            }
        ],
    )


def _trail_key_prefix(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    session().client("cloudtrail").update_trail(Name="organization-trail", S3KeyPrefix="elsewhere")


def _duplicate_sid_hides_a_statement(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    # A second statement under a declared Sid, placed first: a dict keyed by Sid kept only the declared one.
    s3 = f.member("log-archive").client("s3")
    document = json.loads(s3.get_bucket_policy(Bucket=_bucket(f))["Policy"])
    document["Statement"].insert(
        0,
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Allow",
            "Principal": {"AWS": OUTSIDER},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{_bucket(f)}/*",
        },
    )
    s3.put_bucket_policy(Bucket=_bucket(f), Policy=json.dumps(document))


def _scp_statement_duplicated_under_its_sid(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    policy_id = f.policy_ids["region-deny"]
    document = json.loads(f.organizations.describe_policy(PolicyId=policy_id)["Policy"]["Content"])
    narrowed = json.loads(json.dumps(document["Statement"][0]))
    narrowed["Action"] = "ec2:RunInstances"  # the same Sid, denying almost nothing
    document["Statement"] = [narrowed, *document["Statement"]]
    f.organizations.update_policy(PolicyId=policy_id, Content=json.dumps(document))


def _config_history_expires_after_a_day(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    s3 = f.member("log-archive").client("s3")
    name = _bucket(f, "config")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    rules[0]["Expiration"] = {"Days": 1}
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def _extra_lifecycle_rule(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    s3 = f.member("log-archive").client("s3")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=_bucket(f))["Rules"]
    rules.append(
        {
            "ID": "tidy-old-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": "AWSLogs/"},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
    )
    s3.put_bucket_lifecycle_configuration(Bucket=_bucket(f), LifecycleConfiguration={"Rules": rules})


def _log_key_rotation_off(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    kms = _log_kms(f)
    kms.disable_key_rotation(KeyId=kms.describe_key(KeyId="alias/log-archive")["KeyMetadata"]["KeyId"])


def _log_key_disabled(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    kms = _log_kms(f)
    kms.disable_key(KeyId=kms.describe_key(KeyId="alias/log-archive")["KeyMetadata"]["KeyId"])


def _log_key_policy_for_another_account(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    kms = _log_kms(f)
    key_id = kms.describe_key(KeyId="alias/log-archive")["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    policy["Statement"].append(
        {"Sid": "Outsider", "Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "kms:Decrypt", "Resource": "*"}
    )
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


def _config_delivery_redirected(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    config = f.member("audit").client("config")
    channel = config.describe_delivery_channels()["DeliveryChannels"][0]
    channel["s3KeyPrefix"] = "elsewhere"
    channel["configSnapshotDeliveryProperties"] = {"deliveryFrequency": "TwentyFour_Hours"}
    config.put_delivery_channel(DeliveryChannel=channel)


def _access_role_deleted(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("dev").client("iam").delete_role(RoleName=ACCESS_ROLE)


def _access_role_trusts_another_account(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    iam = f.member("staging").client("iam")
    document = iam.get_role(RoleName=ACCESS_ROLE)["Role"]["AssumeRolePolicyDocument"]
    document["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"},
    )
    iam.update_assume_role_policy(RoleName=ACCESS_ROLE, PolicyDocument=json.dumps(document))


def _audit_detector_disabled(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    guardduty = f.member("audit").client("guardduty")
    guardduty.update_detector(DetectorId=guardduty.list_detectors()["DetectorIds"][0], Enable=False)


def _read_only_role_trusts_another_account(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    iam = f.member("audit").client("iam")
    document = iam.get_role(RoleName=READ_ONLY_ROLE)["Role"]["AssumeRolePolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"})
    iam.update_assume_role_policy(RoleName=READ_ONLY_ROLE, PolicyDocument=json.dumps(document))


def _aggregator_role_trusts_another_service(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.member("audit").client("iam").update_assume_role_policy(
        RoleName="config-aggregator", PolicyDocument=policies.service_trust_policy("ec2.amazonaws.com")
    )


def _scp_description_changed(f: LiveFoundation, _: pytest.MonkeyPatch) -> None:
    f.organizations.update_policy(PolicyId=f.policy_ids["region-deny"], Description="temporarily relaxed")


Tamper = Callable[[LiveFoundation, pytest.MonkeyPatch], None]
DRIFT_CLASSES: dict[str, tuple[Tamper, set[tuple[str, str]]]] = {
    "trail records no management events": (
        _no_management_events,
        {("TRAIL-CONFIGURATION", f"{TRAIL}/ManagementEvents")},
    ),
    "trail records write-only management events": (
        _write_only_management_events,
        {("TRAIL-CONFIGURATION", f"{TRAIL}/ManagementEvents")},
    ),
    "advanced selectors filter management events": (
        _advanced_selectors_filter_management_events,
        {("TRAIL-CONFIGURATION", f"{TRAIL}/ManagementEvents")},
    ),
    "trail writes under another key prefix": (_trail_key_prefix, {("TRAIL-CONFIGURATION", f"{TRAIL}/S3KeyPrefix")}),
    "duplicate Sid hides a bucket policy statement": (
        _duplicate_sid_hides_a_statement,
        {("LOG-BUCKET-POLICY", "bucket:{log}/Policy")},
    ),
    "duplicate Sid hides a narrowed SCP statement": (
        _scp_statement_duplicated_under_its_sid,
        {("ORG-SCP-CONTENT", "scp:region-deny")},
    ),
    "config history expires after a day": (
        _config_history_expires_after_a_day,
        {("LOG-BUCKET", "bucket:{config}/Lifecycle")},
    ),
    "extra lifecycle rule on the log bucket": (_extra_lifecycle_rule, {("LOG-BUCKET", "bucket:{log}/Lifecycle")}),
    "log archive key rotation off": (_log_key_rotation_off, {("LOG-ARCHIVE-KEY", f"{LOG_KEY}/Rotation")}),
    "log archive key disabled": (_log_key_disabled, {("LOG-ARCHIVE-KEY", f"{LOG_KEY}/State")}),
    "log archive key policy opened to another account": (
        _log_key_policy_for_another_account,
        {("LOG-ARCHIVE-KEY", f"{LOG_KEY}/Policy")},
    ),
    "config delivery under another key prefix": (
        _config_delivery_redirected,
        {("CONFIG-RECORDING", "config:audit/us-east-1/DeliveryChannel")},
    ),
    "member access role deleted": (
        _access_role_deleted,
        {("ORG-MEMBER-ACCESS-ROLE", f"account:dev/role:{ACCESS_ROLE}")},
    ),
    "member access role trusts another account": (
        _access_role_trusts_another_account,
        {("ORG-MEMBER-ACCESS-ROLE", f"account:staging/role:{ACCESS_ROLE}")},
    ),
    "audit GuardDuty detector disabled": (
        _audit_detector_disabled,
        {("GUARDDUTY-DETECTORS", "guardduty:audit/us-east-1")},
    ),
    "read-only role trusts another account": (
        _read_only_role_trusts_another_account,
        {("MEMBER-READ-ONLY-ROLE", f"account:audit/role:{READ_ONLY_ROLE}/Trust")},
    ),
    "aggregator role trusts another service": (
        _aggregator_role_trusts_another_service,
        {("CONFIG-AGGREGATOR", "aggregator:docustack-organization/RoleTrust")},
    ),
    "SCP description changed": (_scp_description_changed, {("ORG-SCP-CONTENT", "scp:region-deny/Description")}),
}


@pytest.mark.parametrize("scenario", list(DRIFT_CLASSES))
def test_drift_once_called_compliant_is_drift(
    scenario: str, live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tamper, expected = DRIFT_CLASSES[scenario]
    tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)
    names = {"log": _bucket(live_foundation), "config": _bucket(live_foundation, "config")}
    assert with_status(report, DRIFT) == {(check, resource.format(**names)) for check, resource in expected}
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 1


def test_the_compliant_foundation_compares_what_decides_each_property(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 0
    checked = with_status(report, OK)
    for setting in ("TrailARN", "S3KeyPrefix", "CloudWatchLogsLogGroupArn", "ManagementEvents"):
        assert ("TRAIL-CONFIGURATION", f"{TRAIL}/{setting}") in checked
    for setting in ("State", "KeyManager", "KeySpec", "KeyUsage", "Rotation", "Policy"):
        assert ("LOG-ARCHIVE-KEY", f"{LOG_KEY}/{setting}") in checked
    for bucket in (_bucket(live_foundation), _bucket(live_foundation, "config")):
        assert ("LOG-BUCKET", f"bucket:{bucket}/Lifecycle") in checked
        assert ("LOG-BUCKET", f"bucket:{bucket}/ObjectLock") in checked
    for account in ("log-archive", "audit", "dev", "staging", "prod"):
        assert ("ORG-MEMBER-ACCESS-ROLE", f"account:{account}/role:{ACCESS_ROLE}") in checked
    for account in ("log-archive", "audit"):
        for setting in ("Trust", "MaxSessionDuration"):
            assert ("MEMBER-READ-ONLY-ROLE", f"account:{account}/role:{READ_ONLY_ROLE}/{setting}") in checked
    for account in ("management", "audit"):
        assert ("GUARDDUTY-DETECTORS", f"guardduty:{account}/us-east-1") in checked
    assert ("SECURITYHUB-ACCOUNT", "securityhub:us-east-1") in checked
    for setting in ("RoleTrust", "RolePolicies"):
        assert ("CONFIG-AGGREGATOR", f"aggregator:docustack-organization/{setting}") in checked
    assert ("ORG-SCP-CONTENT", "scp:region-deny/Description") in checked
    events = finding(report, "TRAIL-CONFIGURATION", f"{TRAIL}/ManagementEvents")
    assert events.actual == MANAGEMENT_EVENTS_DECLARED
    config_lock = finding(report, "LOG-BUCKET", f"bucket:{_bucket(live_foundation, 'config')}/ObjectLock")
    assert config_lock.expected == config_lock.actual == "not enabled"


def test_drift_details_name_what_differs(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for tamper in (
        _no_management_events,
        _duplicate_sid_hides_a_statement,
        _config_history_expires_after_a_day,
        _access_role_trusts_another_account,
        _access_role_deleted,
    ):
        tamper(live_foundation, monkeypatch)
    report = run_verify(live_foundation, project_dir)
    events = finding(report, "TRAIL-CONFIGURATION", f"{TRAIL}/ManagementEvents")
    assert events.actual == "no management events of every source"
    assert events.detail.startswith("classic event selectors: ")
    policy = finding(report, "LOG-BUCKET-POLICY", f"bucket:{_bucket(live_foundation)}/Policy")
    assert policy.detail == (
        "Sid DenyInsecureTransport is used by 2 live statements; statement DenyInsecureTransport is not declared"
    )
    lifecycle = finding(report, "LOG-BUCKET", f"bucket:{_bucket(live_foundation, 'config')}/Lifecycle")
    assert '"Expiration": {"Days": 1}' in lifecycle.actual
    assert '"Expiration": {"Days": 2555}' in lifecycle.expected
    trust = finding(report, "ORG-MEMBER-ACCESS-ROLE", f"account:staging/role:{ACCESS_ROLE}")
    assert trust.actual == "exists, assumable by account 348665872333, account 999999999999"
    missing = finding(report, "ORG-MEMBER-ACCESS-ROLE", f"account:dev/role:{ACCESS_ROLE}")
    assert (missing.expected, missing.actual) == ("exists, assumable from account 348665872333 only", "not found")


def test_a_member_account_verify_cannot_enter_is_exit_2(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = live_foundation.account_ids["prod"]

    def refuse_prod(call: Callable[[], Any], operation: str, params: dict) -> Any:
        if f"::{prod}:" in params.get("RoleArn", ""):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, operation)
        return call()

    patch_api(monkeypatch, "AssumeRole", refuse_prod, "sts")
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    # the baseline's recorder there cannot be read either (docustack/verify/baseline_org_checks.py)
    assert with_status(report, ERROR) == {
        ("ORG-MEMBER-ACCESS-ROLE", f"account:prod/role:{ACCESS_ROLE}"),
        ("BASELINE-RECORDERS", "config:prod/us-east-1/Recorder"),
        ("BASELINE-READONLY-ROLE", "account:prod/role:docustack-readonly"),
    }
    error = finding(report, "ORG-MEMBER-ACCESS-ROLE", f"account:prod/role:{ACCESS_ROLE}")
    assert error.actual == "could not be checked"
    assert error.detail == f"account {prod}: AccessDenied on AssumeRole: not authorized"
    # the other accounts are still checked
    assert ("ORG-MEMBER-ACCESS-ROLE", f"account:dev/role:{ACCESS_ROLE}") in with_status(report, OK)


def test_the_access_role_is_read_through_itself_where_the_read_only_role_is_missing(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = live_foundation.account_ids["dev"]
    assumed: list[str] = []

    def no_read_only_role_in_dev(call: Callable[[], Any], operation: str, params: dict) -> Any:
        assumed.append(params["RoleArn"])
        if params["RoleArn"] == f"arn:aws:iam::{dev}:role/docustack-readonly":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no such role"}}, operation)
        return call()

    patch_api(monkeypatch, "AssumeRole", no_read_only_role_in_dev, "sts")
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 0
    assert f"arn:aws:iam::{dev}:role/{ACCESS_ROLE}" in assumed


# --------------------------------------------------------------------------------------------------------
# The readings, on their own


def _classic(*selectors: dict[str, Any]) -> dict[str, Any]:
    return {"EventSelectors": list(selectors)}


def _advanced(*field_lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": [{"FieldSelectors": fields} for fields in field_lists]}


MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}


@pytest.mark.parametrize(
    ("selectors", "all_recorded"),
    [
        (_classic({"ReadWriteType": "All", "IncludeManagementEvents": True}), True),
        (
            _classic(
                {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True},
                {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True},
            ),
            True,
        ),
        (_classic({"ReadWriteType": "All", "IncludeManagementEvents": False}), False),
        (_classic({"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}), False),
        (
            _classic(
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                }
            ),
            False,
        ),
        (_classic(), False),
        ({}, False),
        (_advanced([MANAGEMENT]), True),
        (
            _advanced(
                [MANAGEMENT, {"Field": "readOnly", "Equals": ["true"]}],
                [MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}],
            ),
            True,
        ),
        (_advanced([MANAGEMENT, {"Field": "readOnly", "Equals": ["false"]}]), False),
        (_advanced([MANAGEMENT, {"Field": "eventSource", "NotEquals": ["rdsdata.amazonaws.com"]}]), False),
        (
            _advanced([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["x"]}]),
            False,
        ),
        (_advanced([{"Field": "eventCategory", "StartsWith": ["Manage"]}]), False),
    ],
)
def test_management_events_recorded(selectors: dict[str, Any], all_recorded: bool) -> None:
    recorded, _ = management_events(selectors)
    assert (recorded == MANAGEMENT_EVENTS_DECLARED) is all_recorded


def test_who_may_assume_a_role() -> None:
    def trust(*statements: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": list(statements)}

    management = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::348665872333:root"}, "Action": "sts:AssumeRole"}
    assert who_may_assume(trust(management)) == ({"348665872333"}, [])
    assert who_may_assume(trust({**management, "Principal": {"AWS": ["348665872333"]}})) == ({"348665872333"}, [])
    assert who_may_assume(trust({**management, "Effect": "Deny", "Principal": "*"})) == (set(), [])
    assert who_may_assume(trust(management, {**management, "Principal": "*"})) == ({"348665872333"}, ["* (anyone)"])
    service = {**management, "Principal": {"Service": "ec2.amazonaws.com"}}
    assert who_may_assume(trust(service)) == (set(), ["Service ec2.amazonaws.com"])
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"}
    assert who_may_assume(trust(not_principal)) == (set(), ["a statement with NotPrincipal"])
    # a statement that allows no assume is no way in
    assert who_may_assume(trust({**management, "Action": "sts:TagSession"})) == (set(), [])
    # Every way in counts, wildcards included, not only sts:AssumeRole.
    github = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::216482851263:oidc-provider/token.actions.githubusercontent.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
    assert who_may_assume(trust(management, github)) == (
        {"348665872333"},
        ["Federated arn:aws:iam::216482851263:oidc-provider/token.actions.githubusercontent.com"],
    )
    saml = {**github, "Principal": {"Federated": "arn:aws:iam::216482851263:saml-provider/idp"}}
    saml["Action"] = "sts:AssumeRoleWithSAML"
    assert who_may_assume(trust(management, saml))[1] == ["Federated arn:aws:iam::216482851263:saml-provider/idp"]
    outsider = {**management, "Principal": {"AWS": "999999999999"}, "Action": "sts:AssumeRole*"}
    assert who_may_assume(trust(management, outsider)) == ({"348665872333", "999999999999"}, [])
    assert who_may_assume(trust({**outsider, "Action": "STS:assume*"})) == ({"999999999999"}, [])


def test_policies_are_compared_as_multisets() -> None:
    statement = {"Sid": "A", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    declared = {"Version": "2012-10-17", "Statement": [statement]}
    assert policy_compare.differences(declared, {**declared, "Statement": [statement, statement]}) == [
        "Sid A is used by 2 live statements",
        "statement A is not declared",
    ]
    unnamed = {"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "s3:GetObject", "Resource": "*"}
    assert policy_compare.differences(declared, {**declared, "Statement": [statement, unnamed]}) == [
        "a statement without Sid is not declared"
    ]
    # principal lists are sets too
    granted = {**unnamed, "Principal": {"AWS": ["b", "a"]}}
    assert (
        policy_compare.differences(
            {"Statement": [granted]}, {"Statement": [{**granted, "Principal": {"AWS": ["a", "b"]}}]}
        )
        == []
    )


def test_an_unreadable_answer_is_an_error_never_compliant(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def malformed(*_: Any) -> Any:
        raise KeyError("KeyMetadata")

    registered = framework.REGISTRY["LOG-ARCHIVE-KEY"]
    monkeypatch.setitem(framework.REGISTRY, registered.id, dataclasses.replace(registered, function=malformed))
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    error = finding(report, "LOG-ARCHIVE-KEY", "*")
    assert (error.status, error.detail) == (ERROR, "unexpected KeyError: 'KeyMetadata'")


# --------------------------------------------------------------------------------------------------------
# Input files: what is not proven drift is exit 2


def test_a_stack_file_that_is_not_utf8_is_exit_2(
    live_foundation: LiveFoundation, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(project_dir, tmp_path, "management", live_foundation.raw)
    stack_file = tmp_path / "Pulumi.management.yaml"
    stack_file.write_bytes(stack_file.read_bytes().replace(b"docustack", b"docu\xe9stack", 1))
    assert cli.main(["--project-dir", str(tmp_path), "verify", "--stack", "management"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: not verified: ")
    assert "Pulumi.management.yaml" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("command", ["verify", "adopt-check"])
def test_a_folder_that_is_not_the_project_is_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exit 1 would mean drift (verify) or differences (adopt-check): a project neither could read is 2.
    assert cli.main(["--project-dir", str(tmp_path), command, "--stack", "management"]) == 2
    assert "has no Pulumi.yaml" in capsys.readouterr().err
    assert cli.main(["--project-dir", str(tmp_path / "missing"), command, "--stack", "management"]) == 2


def test_the_docs_json_example_matches_the_code(management_settings: Any, project_dir: Path) -> None:
    text = (project_dir / "docs" / "verify.md").read_text(encoding="utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    assert example["summary"]["checks"] == len(framework.checks_for(framework.MANAGEMENT))
    assert example["memberRole"] == management_settings.member_read_only_role_name
    documented = set(re.findall(r"^\| `([A-Z][A-Z-]+)` \|", text, flags=re.MULTILINE))
    assert documented == set(framework.REGISTRY)
    assert "reference/" not in text
