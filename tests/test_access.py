"""Human access (issue 13): the matrix of the default settings, growth by OU, the refusals, the component.

The refusals are asserted by field path and reason, through ``parse_settings`` (which runs before anything is
registered) and through the command (exit 1, no plan printed).
"""

from __future__ import annotations

import copy
import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from moto_foundation import write_project
from test_ci_read_permissions import KNOWN_DATA_READS, allows

import policies
from docustack import access, cli, offline
from docustack.settings import CONFIG_KEY, SettingsError, StackSettings, parse_settings

Raw = dict[str, Any]
IC = "organization.identityCenter"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _ic(raw: Raw) -> Raw:
    return raw["organization"]["identityCenter"]


def _set(raw: Raw, name: str) -> Raw:
    return next(entry for entry in _ic(raw)["permissionSets"] if entry["name"] == name)


def _problems(raw: Raw, policy_dir: Path | None = None) -> dict[str, list[str]]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, policy_dir=policy_dir)
    found: dict[str, list[str]] = {}
    for problem in caught.value.problems:
        found.setdefault(problem.path.removeprefix(f"{CONFIG_KEY}."), []).append(problem.message)
    return found


def _matrix(settings: StackSettings) -> dict[str, dict[str, list[str]]]:
    return {account: dict(sorted(groups.items())) for account, groups in access.access_matrix(settings).items()}


# --------------------------------------------------------------------------------------------------------
# The default settings


DEFAULT_MATRIX = {
    "management": {"emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]},
    "log-archive": {"emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]},
    "audit": {"emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]},
    "dev": {"developers": ["Developer"], "emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]},
    "staging": {
        "developers": ["ReadOnlyMetadata"],
        "emergency": ["BreakGlass"],
        "platform": ["PlatformAdministrator"],
    },
    "prod": {"developers": ["ReadOnlyMetadata"], "emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]},
}


def test_the_default_matrix_follows_the_strategy(management_settings: StackSettings) -> None:
    assert _matrix(management_settings) == DEFAULT_MATRIX
    # Developers: administer dev, read metadata in staging and prod, nothing in the management or Security accounts.
    assert access.production_accounts(management_settings) == {"prod"}
    ic = management_settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    durations = {p.name: access.session_duration(p) for p in ic.permission_sets}
    assert durations == {
        "Developer": "PT8H",
        "ReadOnlyMetadata": "PT8H",
        "PlatformAdministrator": "PT4H",
        "BreakGlass": "PT1H",
    }
    assert all(access.session_minutes(d) <= access.MAX_SESSION_MINUTES for d in durations.values())
    read_only = {p.name for p in ic.permission_sets if access.is_read_only(p)}
    assert read_only == {"ReadOnlyMetadata"}


def test_the_metadata_set_reads_configuration_never_data(management_settings: StackSettings) -> None:
    ic = management_settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    [metadata] = [p for p in ic.permission_sets if p.name == "ReadOnlyMetadata"]
    assert metadata.managed_policy_arns == []  # no ReadOnlyAccess, which reads PHI
    document = access.inline_policy(metadata)
    assert document is not None
    assert not [a for a in KNOWN_DATA_READS if allows(document, a, "arn:aws:s3:::some-bucket/patients.csv")]
    for action in ("s3:GetBucketPolicy", "organizations:DescribeOrganization", "sso:DescribePermissionSet"):
        assert allows(document, action)
    assert not allows(document, "s3:PutObject")
    assert not allows(document, "iam:CreateRole")


def test_a_grown_organization_gets_its_access_from_its_ous(management_raw: Raw) -> None:
    organization = management_raw["organization"]
    organization["organizationalUnits"][2]["children"] = [{"name": "Regulated"}]  # Workloads/Regulated
    organization["accounts"] += [
        {"name": "qa", "email": "qa@docustack.example", "ou": "Workloads"},
        {"name": "claims", "email": "claims@docustack.example", "ou": "Workloads/Regulated"},
        {"name": "sandbox-alice", "email": "alice@docustack.example", "ou": "Sandbox"},
    ]
    matrix = _matrix(parse_settings(management_raw))
    admins = {"emergency": ["BreakGlass"], "platform": ["PlatformAdministrator"]}
    assert matrix["qa"] == admins  # ou:Workloads reaches it; developers were given dev by name only
    assert matrix["claims"] == admins  # a child OU is inside its parent's targets
    assert matrix["sandbox-alice"] == {"developers": ["Developer"], **admins}
    assert {k: v for k, v in matrix.items() if k in DEFAULT_MATRIX} == DEFAULT_MATRIX


# --------------------------------------------------------------------------------------------------------
# Refusals


def test_a_developer_group_with_write_access_in_prod_is_refused(management_raw: Raw) -> None:
    _ic(management_raw)["assignments"][0]["targets"].append("account:prod")
    problems = _problems(management_raw)
    [message] = problems[f"{IC}.assignments[0].permissionSet"]
    assert "'Developer' is not read-only" in message and "write access in production (prod)" in message


def test_write_access_in_prod_through_an_ou_is_refused_too(management_raw: Raw) -> None:
    _ic(management_raw)["assignments"][1]["permissionSet"] = "Developer"  # staging and prod
    problems = _problems(management_raw)
    assert "write access in production (prod)" in problems[f"{IC}.assignments[1].permissionSet"][0]
    _ic(management_raw)["production"] = ["ou:Workloads"]
    _ic(management_raw)["assignments"][1]["permissionSet"] = "ReadOnlyMetadata"
    _ic(management_raw)["assignments"][0]["targets"] = ["ou:Workloads"]
    problems = _problems(management_raw)
    assert "(dev, prod, staging)" in problems[f"{IC}.assignments[0].permissionSet"][0]


def test_a_set_declared_read_only_must_pass_the_check(management_raw: Raw, tmp_path: Path) -> None:
    metadata = _set(management_raw, "ReadOnlyMetadata")
    metadata["managedPolicyArns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    problems = _problems(management_raw)
    assert (
        "has the managed policy 'arn:aws:iam::aws:policy/ReadOnlyAccess'"
        in problems[f"{IC}.permissionSets[1].readOnly"][0]
    )
    # ...and no longer counting as read-only, it is write access for developers in prod.
    assert "write access in production" in problems[f"{IC}.assignments[1].permissionSet"][0]


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({"Sid": "Data", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "'s3:GetObject'"),
        ({"Sid": "Wild", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}, "'ec2:Describe*'"),
        ({"Sid": "Not", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction or NotResource"),
    ],
)
def test_an_inline_template_cannot_make_a_read_only_set_read_data(
    management_raw: Raw, tmp_path: Path, project_dir: Path, statement: dict[str, Any], reason: str
) -> None:
    policy_dir = _policy_dir(project_dir, tmp_path, {"Version": "2012-10-17", "Statement": [statement]})
    _set(management_raw, "ReadOnlyMetadata")["inlinePolicyFile"] = "extra.json"
    problems = _problems(management_raw, policy_dir)
    assert reason in problems[f"{IC}.permissionSets[1].readOnly"][0]


def test_a_deny_in_an_inline_template_keeps_a_set_read_only(
    management_raw: Raw, tmp_path: Path, project_dir: Path
) -> None:
    deny = {"Sid": "NoKeys", "Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    policy_dir = _policy_dir(project_dir, tmp_path, {"Version": "2012-10-17", "Statement": [deny]})
    _set(management_raw, "ReadOnlyMetadata")["inlinePolicyFile"] = "extra.json"
    settings = parse_settings(management_raw, policy_dir=policy_dir)
    ic = settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    [metadata] = [p for p in ic.permission_sets if p.name == "ReadOnlyMetadata"]
    document = access.inline_policy(metadata, policy_dir=policy_dir)
    assert document is not None and document["Statement"][-1] == deny
    assert access.is_read_only(metadata, policy_dir=policy_dir)


def _policy_dir(project_dir: Path, tmp_path: Path, document: dict[str, Any]) -> Path:
    folder = tmp_path / "policies"
    (folder / access.PERMISSION_SET_FOLDER).mkdir(parents=True)
    for source in (project_dir / "policies").glob("*.json"):
        (folder / source.name).write_text(source.read_text())
    (folder / access.PERMISSION_SET_FOLDER / "extra.json").write_text(json.dumps(document))
    return folder


@pytest.mark.parametrize(
    ("duration", "reason"),
    [
        ("PT9H", "longer than this project allows a human session (PT8H)"),
        ("PT8H1M", "longer than this project allows a human session (PT8H)"),
        ("PT13H", "longer than AWS allows for a permission set (PT12H)"),
        ("PT30M", "shorter than AWS's minimum, PT1H"),
    ],
)
def test_a_session_longer_than_allowed_is_refused(management_raw: Raw, duration: str, reason: str) -> None:
    _set(management_raw, "Developer")["sessionDuration"] = duration
    problems = _problems(management_raw)
    assert list(problems) == [f"{IC}.permissionSets[0].sessionDuration"]
    [message] = problems[f"{IC}.permissionSets[0].sessionDuration"]
    assert message.startswith(f"{duration} is {reason}")


def test_a_duration_aws_would_not_read_is_refused(management_raw: Raw) -> None:
    _set(management_raw, "Developer")["sessionDuration"] = "8 hours"
    assert "ISO-8601" in _problems(management_raw)[f"{IC}.permissionSets[0].sessionDuration"][0]


def test_the_emergency_set_defaults_to_one_hour(management_raw: Raw) -> None:
    del _set(management_raw, "BreakGlass")["sessionDuration"]
    ic = parse_settings(management_raw).organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    assert {access.session_duration(p) for p in ic.permission_sets if access.is_emergency(p.name)} == {"PT1H"}


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (lambda ic: ic["assignments"][0].update(group="developerz"), "assignments[0].group", "no group named"),
        (
            lambda ic: ic["assignments"][0].update(permissionSet="Admin"),
            "assignments[0].permissionSet",
            "no permission set named 'Admin'",
        ),
        (lambda ic: ic["assignments"][0]["targets"].append("ou:Sandbx"), "assignments[0].targets[2]", "'ou:Sandbx'"),
        (
            lambda ic: ic["assignments"][0]["targets"].append("account:qa"),
            "assignments[0].targets[2]",
            "'account:qa' does not name",
        ),
        (lambda ic: ic["production"].append("account:prd"), "production[1]", "'account:prd' does not name"),
        (
            lambda ic: ic["assignments"][0]["targets"].append("account:management"),
            "assignments[0].targets",
            "developer group 'developers' access to the management account",
        ),
        (
            lambda ic: ic["assignments"][3].update(group="platform"),
            "assignments[3].group",
            "'BreakGlass' is the emergency set",
        ),
        (
            lambda ic: ic["groups"].append({"name": "devs", "displayName": "docustack developers"}),
            "groups[3].displayName",
            "is also groups[0]",
        ),
        (
            lambda ic: ic["permissionSets"].append(
                {"name": "developer", "description": "x", "managedPolicyArns": [ADMIN]}
            ),
            "permissionSets[4].name",
            "is also 'Developer'",
        ),
        (
            lambda ic: ic["permissionSets"].append({"name": "Nothing", "description": "grants nothing"}),
            "permissionSets[4]",
            "grants nothing",
        ),
    ],
)
def test_unknown_or_misplaced_references_are_refused(management_raw: Raw, edit: Any, path: str, reason: str) -> None:
    edit(_ic(management_raw))
    problems = _problems(management_raw)
    assert any(reason in message for message in problems.get(f"{IC}.{path}", [])), problems


def test_identity_center_needs_its_trusted_access(management_raw: Raw) -> None:
    management_raw["organization"]["serviceAccessPrincipals"].remove("sso.amazonaws.com")
    problems = _problems(management_raw)
    assert "'sso.amazonaws.com'" in problems["organization.serviceAccessPrincipals"][0]


def test_an_exempt_role_cannot_be_an_identity_center_role(management_raw: Raw) -> None:
    """The guardrails exempt roles by name at any path: an AWSReservedSSO_ name would exempt a permission set's
    holders, the emergency set's included."""
    management_raw["organization"]["guardrailExemptRoles"].append("AWSReservedSSO_BreakGlass_0123456789abcdef")
    problems = _problems(management_raw)
    assert "role IAM Identity Center makes" in problems["organization.guardrailExemptRoles[2]"][0]


def test_the_emergency_role_is_not_exempt_from_the_guardrails(management_settings: StackSettings) -> None:
    role = access.reserved_role_arn("123456789012", "BreakGlass", "us-east-1", "0123456789abcdef")
    assert not any(_arn_like(pattern, role) for pattern in management_settings.policy_variables()["exempt_role_arns"])
    assert not any(
        _arn_like(pattern, role) for pattern in management_settings.policy_variables()["exempt_role_arns_any_path"]
    )


def _arn_like(pattern: str, arn: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(arn, pattern)


def test_a_refused_setting_registers_nothing(
    management_raw: Raw, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _ic(management_raw)["assignments"][0]["targets"].append("account:prod")
    write_project(project_dir, tmp_path, "management", management_raw)
    (tmp_path / "__main__.py").write_text((project_dir / "__main__.py").read_text())
    assert cli.main(["--project-dir", str(tmp_path), "plan", "--stack", "management"]) == 1
    out, _ = capsys.readouterr()
    assert "Resources (" not in out and "NOT PLANNED" in out
    assert f"{IC}.assignments[0].permissionSet: 'Developer' is not read-only" in out


# --------------------------------------------------------------------------------------------------------
# The roles Identity Center makes


def test_reserved_role_paths_carry_the_region_except_us_east_1() -> None:
    assert access.reserved_role_arn("111122223333", "Developer", "us-east-1", "0123456789abcdef") == (
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef"
    )
    assert access.reserved_role_arn("111122223333", "Developer", "eu-west-2", "0123456789abcdef") == (
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-2/"
        "AWSReservedSSO_Developer_0123456789abcdef"
    )
    with pytest.raises(ValueError, match="16 hexadecimal"):
        access.reserved_role_arn("111122223333", "Developer", "us-east-1", "xyz")


# --------------------------------------------------------------------------------------------------------
# The component, through the whole program


def _filled(raw: Raw) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    _ic(raw)["instanceArn"] = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
    _ic(raw)["identityStoreId"] = "d-1234567890"
    return {CONFIG_KEY: raw, "pulumi:disable-default-providers": ["*"]}


def _run(project_dir: Path, config: dict[str, Any]) -> offline.Plan:
    main = str(project_dir / "__main__.py")
    return offline.run_program(lambda: runpy.run_path(main, run_name="__main__"), stack="management", config=config)


ASSIGNMENT = "aws:ssoadmin/accountAssignment:AccountAssignment"


def test_the_program_registers_one_assignment_per_grant(project_dir: Path, management_raw: Raw) -> None:
    plan = _run(project_dir, _filled(management_raw))
    settings = parse_settings(management_raw)
    assignments = plan.by_type(ASSIGNMENT)
    expected = {f"access-{g.group}-{g.account}-{g.permission_set}" for g in access.expand(settings)}
    assert {r.name for r in assignments} == expected
    assert len(expected) == sum(len(sets) for groups in DEFAULT_MATRIX.values() for sets in groups.values())
    accounts = {r.name: r.outputs["id"] for r in plan.by_type("aws:organizations/account:Account")}
    for resource in assignments:
        assert resource.inputs["principalType"] == "GROUP"
        assert resource.inputs["targetType"] == "AWS_ACCOUNT"
        assert resource.inputs["instanceArn"] == "arn:aws:sso:::instance/ssoins-1234567890abcdef"
        assert not resource.protect
        # every assignment goes through the management account's own provider
        assert resource.provider_urn.endswith("::management-account")
        account = resource.name.split("-")[2] if "log-archive" not in resource.name else "log-archive"
        if account == "management":
            assert resource.inputs["targetId"] == "348665872333"
        else:
            assert resource.inputs["targetId"] == accounts[f"{account}-account"]
    # the groups are looked up (the same display name gives the same ID), never created
    assert not plan.by_type("aws:identitystore/group:Group")
    principals = {r.name.split("-")[1]: r.inputs["principalId"] for r in assignments}
    assert len(set(principals.values())) == 3


def test_assignment_urns_stay_the_same_when_the_settings_are_reordered(project_dir: Path, management_raw: Raw) -> None:
    before = {r.urn for r in _run(project_dir, _filled(management_raw)).by_type(ASSIGNMENT)}
    ic = _ic(management_raw)
    ic["assignments"].reverse()
    for assignment in ic["assignments"]:
        assignment["targets"].reverse()
    ic["permissionSets"].reverse()
    ic["groups"].reverse()
    after = {r.urn for r in _run(project_dir, _filled(management_raw)).by_type(ASSIGNMENT)}
    assert before == after


def test_permission_sets_carry_their_documents(project_dir: Path, management_raw: Raw) -> None:
    plan = _run(project_dir, _filled(management_raw))
    sets = {r.inputs["name"]: r for r in plan.by_type("aws:ssoadmin/permissionSet:PermissionSet")}
    assert {name: r.inputs["sessionDuration"] for name, r in sets.items()} == {
        "Developer": "PT8H",
        "ReadOnlyMetadata": "PT8H",
        "PlatformAdministrator": "PT4H",
        "BreakGlass": "PT1H",
    }
    managed = {
        (r.name, r.inputs["managedPolicyArn"])
        for r in plan.by_type("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment")
    }
    assert managed == {
        ("access-Developer-AdministratorAccess", ADMIN),
        ("access-PlatformAdministrator-AdministratorAccess", ADMIN),
        ("access-BreakGlass-AdministratorAccess", ADMIN),
    }
    [inline] = plan.by_type("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy")
    assert inline.name == "access-ReadOnlyMetadata-inline"
    assert json.loads(inline.inputs["inlinePolicy"])["Statement"][0]["Action"] == access.metadata_read_actions()
    assert inline.inputs["inlinePolicy"] == policies.minify(json.loads(inline.inputs["inlinePolicy"]))
    assert not [r for r in plan.resources if r.type.startswith("aws:ssoadmin") and r.protect]


def test_groups_the_settings_create_are_created_and_protected(project_dir: Path, management_raw: Raw) -> None:
    _ic(management_raw)["groups"][2]["create"] = True
    plan = _run(project_dir, _filled(management_raw))
    [group] = plan.by_type("aws:identitystore/group:Group")
    assert group.inputs["displayName"] == "DocuStack BreakGlass"
    assert group.inputs["identityStoreId"] == "d-1234567890"
    assert group.protect


def test_an_instance_in_another_region_gets_a_provider_pinned_there(project_dir: Path, management_raw: Raw) -> None:
    management_raw["allowedRegions"] = ["us-east-1", "eu-west-2"]
    _ic(management_raw)["region"] = "eu-west-2"
    plan = _run(project_dir, _filled(management_raw))
    providers = {r.urn: r for r in plan.by_type("pulumi:providers:aws")}
    for resource in plan.by_type(ASSIGNMENT):
        provider = providers[resource.provider_urn]
        assert provider.inputs["region"] == "eu-west-2"
        assert json.loads(provider.inputs["allowedAccountIds"]) == ["348665872333"]


def test_a_preview_can_look_the_groups_up_and_read_the_sets_but_no_membership() -> None:
    """The management stack's read-only CI role runs every preview, and the group lookup is an invoke there."""
    from components.github_ci_roles import preview_read_only_policy

    document = preview_read_only_policy(
        "management",
        "arn:aws:s3:::docustack-pulumi-state-111122223333",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    for action in (
        "identitystore:GetGroupId",
        "identitystore:DescribeGroup",
        "sso:DescribePermissionSet",
        "sso:GetInlinePolicyForPermissionSet",
        "sso:ListManagedPoliciesInPermissionSet",
        "sso:ListAccountAssignments",
        "sso:ListInstances",
        "sso:ListPermissionSets",
    ):
        assert allows(document, action), action
    for action in ("identitystore:ListGroupMemberships", "identitystore:ListUsers", "identitystore:DescribeUser"):
        assert not allows(document, action), action
    for action in ("sso:CreateAccountAssignment", "sso:PutInlinePolicyToPermissionSet", "sso:ProvisionPermissionSet"):
        assert not allows(document, action), action


def test_permission_set_quotas_are_refused_before_deploying(
    management_raw: Raw, tmp_path: Path, project_dir: Path
) -> None:
    actions = [f"ec2:DescribeSomething{i:04d}" for i in range(500)]
    big = {"Version": "2012-10-17", "Statement": [{"Sid": "Big", "Effect": "Deny", "Action": actions, "Resource": "*"}]}
    policy_dir = _policy_dir(project_dir, tmp_path, big)
    _set(management_raw, "Developer")["inlinePolicyFile"] = "extra.json"
    _set(management_raw, "Developer")["managedPolicyArns"] = [f"arn:aws:iam::aws:policy/P{i}" for i in range(21)]
    problems = _problems(management_raw, policy_dir)
    assert "a permission set's may have at most 10240" in problems[f"{IC}.permissionSets[0].inlinePolicyFile"][0]
    assert (
        "lists 21 policies; a permission set takes at most 20"
        in problems[f"{IC}.permissionSets[0].managedPolicyArns"][0]
    )


def test_an_inline_template_gets_the_policy_slots(management_raw: Raw, tmp_path: Path, project_dir: Path) -> None:
    deny = {
        "Sid": "NoOtherRegion",
        "Effect": "Deny",
        "NotAction": "iam:*",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": "{{allowed_regions}}"}},
    }
    policy_dir = _policy_dir(project_dir, tmp_path, {"Version": "2012-10-17", "Statement": [deny]})
    _set(management_raw, "ReadOnlyMetadata")["inlinePolicyFile"] = "extra.json"
    settings = parse_settings(management_raw, policy_dir=policy_dir)
    ic = settings.organization.identity_center  # type: ignore[union-attr]
    assert ic is not None
    [metadata] = [p for p in ic.permission_sets if p.name == "ReadOnlyMetadata"]
    variables = settings.policy_variables()
    document = access.inline_policy(metadata, policy_dir=policy_dir, variables=variables)
    assert document is not None
    assert document["Statement"][-1]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == ["us-east-1"]
    assert access.is_read_only(metadata, policy_dir=policy_dir, variables=variables)
