"""Settings that would switch a guardrail off, or that AWS would refuse at `up`, are refused (or warned about) by
field; shape errors and cross-field problems are reported together."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from docustack import plan, project
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings, settings_warnings
from docustack.state_backend_spec import StateBackendSpec
from policies import render_file

Raw = dict[str, Any]
README = Path(__file__).resolve().parent.parent / "README.md"


def _org(raw: Raw) -> Raw:
    return raw["organization"]


def _account(raw: Raw, name: str) -> Raw:
    return next(a for a in _org(raw)["accounts"] if a["name"] == name)


def _problems(raw: Raw, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="Pulumi.management.yaml", **kwargs)
    found: dict[str, list[str]] = {}
    for problem in caught.value.problems:
        found.setdefault(problem.path.removeprefix(f"{CONFIG_KEY}."), []).append(problem.message)
    return found


def _policy_dir(project_dir: Path, tmp_path: Path, **documents: dict[str, Any]) -> Path:
    """The project's policies plus ``documents`` (file name without .json -> document)."""
    folder = tmp_path / "policies"
    folder.mkdir()
    for source in (project_dir / "policies").glob("*.json"):
        shutil.copy(source, folder / source.name)
    for name, document in documents.items():
        (folder / f"{name}.json").write_text(json.dumps(document))
    return folder


def _deny(sid: str = "DenyAll", **extra: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*", **extra}],
    }


def _attach(raw: Raw, file: str, target: str = "ou:Sandbox") -> int:
    _org(raw)["policies"].append(
        {"name": "extra", "type": "SERVICE_CONTROL_POLICY", "file": file, "description": "test", "targets": [target]}
    )
    return len(_org(raw)["policies"]) - 1


# -- Every problem at once (section 6) -------------------------------------------------------------------------


def test_the_readme_two_problem_example_prints_both(management_raw: Raw) -> None:
    block = re.search(r"```\n(Pulumi\.management\.yaml: 2 problem\(s\).*?)\n```", README.read_text(), re.DOTALL)
    assert block, "the README's example is gone"
    management_raw["account"]["id"] = "3486"
    _account(management_raw, "log-archive")["ou"] = "Securty"
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw, source="Pulumi.management.yaml")
    assert str(caught.value) == block.group(1)


def test_cross_field_checks_run_beside_shape_errors_of_every_kind(management_raw: Raw) -> None:
    management_raw["bogus"] = True  # unknown key: dropped
    _account(management_raw, "audit")["email"] = "x"  # bad identifier: read as a placeholder
    management_raw["ci"]["deployBranch"] = "feature/*"  # bad optional value: its default
    _account(management_raw, "dev")["ou"] = "Nowhere"  # cross-field
    _org(management_raw)["guardrailExemptRoles"].append("docustack-github-preview")  # cross-field
    found = _problems(management_raw)
    assert set(found) == {
        "bogus",
        "organization.accounts[1].email",
        "ci.deployBranch",
        "organization.accounts[2].ou",
        "ci.previewRoleName",
    }


def test_a_problem_the_set_aside_value_could_cause_is_not_reported(management_raw: Raw) -> None:
    # Both emails become placeholders while set aside; they must not then be reported as the same email.
    _account(management_raw, "audit")["email"] = "x"
    _account(management_raw, "log-archive")["email"] = "y"
    found = _problems(management_raw)
    assert set(found) == {"organization.accounts[0].email", "organization.accounts[1].email"}
    assert all("also the email" not in m for messages in found.values() for m in messages)


def test_when_nothing_can_stand_in_the_error_says_the_cross_field_checks_did_not_run(management_raw: Raw) -> None:
    del management_raw["account"]["region"]
    _account(management_raw, "dev")["ou"] = "Nowhere"
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw, source="Pulumi.management.yaml")
    assert [p.path for p in caught.value.problems] == [f"{CONFIG_KEY}.account.region"]
    assert "cross-field checks did not run: docustack:settings.account.region has no value" in str(caught.value)


# -- Names that would escape the guardrails --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("previewRoleName", "OrganizationAccountAccessRole", "ci.previewRoleName"),
        ("deployRoleName", "docustack-break-glass", "ci.deployRoleName"),
        ("deployRoleName", "DocuStack-Break-Glass", "ci.deployRoleName"),  # IAM role names ignore case
    ],
)
def test_a_ci_role_may_not_carry_an_exempt_name(management_raw: Raw, field: str, value: str, path: str) -> None:
    management_raw["ci"][field] = value
    found = _problems(management_raw)
    assert any("exempt role" in m and "escape every guardrail" in m for m in found[path])


def test_the_member_read_only_role_may_not_carry_an_exempt_name(management_raw: Raw) -> None:
    _org(management_raw)["guardrailExemptRoles"].append("docustack-readonly")
    found = _problems(management_raw)
    assert any("'docustack-readonly' (the read-only role" in m for m in found["prefix"])


@pytest.mark.parametrize(
    "units",
    [
        [{"name": "Security"}, {"name": "Sandbox"}, {"name": "Workloads"}, {"name": "workloads"}],
        [{"name": "Security"}, {"name": "Sandbox"}, {"name": "Workloads", "children": [{"name": "A"}, {"name": "a"}]}],
    ],
)
def test_sibling_ous_may_not_differ_only_in_case(management_raw: Raw, units: list[Raw]) -> None:
    _org(management_raw)["organizationalUnits"] = units
    found = _problems(management_raw)
    messages = [m for messages in found.values() for m in messages]
    assert any("only in case" in m for m in messages), found


def test_ous_with_the_same_name_under_different_parents_are_fine(management_raw: Raw) -> None:
    _org(management_raw)["organizationalUnits"][1]["children"] = [{"name": "Apps"}]
    _org(management_raw)["organizationalUnits"][2]["children"] = [{"name": "apps"}]
    parse_settings(management_raw)


# -- An SCP that would deny the exempt roles everything ----------------------------------------------------------


def test_an_scp_denying_everything_to_everyone_is_refused(
    management_raw: Raw, project_dir: Path, tmp_path: Path
) -> None:
    folder = _policy_dir(project_dir, tmp_path, **{"deny-all": _deny()})
    index = _attach(management_raw, "deny-all.json")
    found = _problems(management_raw, policy_dir=folder)
    (message,) = found[f"organization.policies[{index}].file"]
    assert "would deny the exempt role 'OrganizationAccountAccessRole' everything" in message


def test_an_exemption_that_leaves_one_exempt_role_out_is_refused(
    management_raw: Raw, project_dir: Path, tmp_path: Path
) -> None:
    only_one = _deny(
        Condition={"ArnNotLike": {"aws:PrincipalARN": "arn:aws:iam::*:role/OrganizationAccountAccessRole"}}
    )
    folder = _policy_dir(project_dir, tmp_path, **{"deny-most": only_one})
    index = _attach(management_raw, "deny-most.json")
    found = _problems(management_raw, policy_dir=folder)
    (message,) = found[f"organization.policies[{index}].file"]
    assert "'docustack-break-glass' everything" in message


@pytest.mark.parametrize(
    "document",
    [
        _deny(Condition={"ArnNotLike": {"aws:PrincipalARN": "{{exempt_role_arns}}"}}),
        _deny(Condition={"StringNotEquals": {"aws:RequestedRegion": "{{allowed_regions}}"}}),  # only elsewhere
        _deny(Action="ec2:*"),  # one service, not everything
    ],
    ids=["exempted", "outside-allowed-regions", "one-service"],
)
def test_a_deny_that_leaves_the_exempt_roles_their_work_is_accepted(
    management_raw: Raw, project_dir: Path, tmp_path: Path, document: dict[str, Any]
) -> None:
    folder = _policy_dir(project_dir, tmp_path, **{"narrow": document})
    _attach(management_raw, "narrow.json")
    parse_settings(management_raw, policy_dir=folder)


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "NumericLessThan"),
        # A global key the lock-out requests do not carry: not taken as absent, so not decided.
        ({"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}, "aws:PrincipalTag/team"),
    ],
    ids=["operator not evaluated", "global key not in the request"],
)
def test_an_scp_the_simulator_cannot_decide_is_warned_about_not_passed_unchecked(
    management_raw: Raw, project_dir: Path, tmp_path: Path, condition: dict[str, Any], named: str
) -> None:
    document = _deny(Condition=condition)
    folder = _policy_dir(project_dir, tmp_path, **{"undecided": document})
    index = _attach(management_raw, "undecided.json")
    settings = parse_settings(management_raw, policy_dir=folder)  # not refused: it may be right
    (warning,) = (w for w in settings_warnings(settings, policy_dir=folder) if "policies" in w)
    assert warning.startswith(f"{CONFIG_KEY}.organization.policies[{index}].file: cannot be checked")
    assert named in warning


# -- SCP quotas since 2026-05-15 ------------------------------------------------------------------------------


def test_nine_scps_on_one_target_plus_full_aws_access_are_accepted(management_raw: Raw) -> None:
    _org(management_raw)["policies"].extend(
        {
            "name": f"extra-{i}",
            "type": "SERVICE_CONTROL_POLICY",
            "file": "require-s3-encryption.json",
            "description": "t",
            "targets": ["ou:Workloads"],
        }
        for i in range(6)
    )
    parse_settings(management_raw)  # 9 + FullAWSAccess = 10: refused before the quota change


def test_an_scp_over_the_old_size_quota_is_accepted(management_raw: Raw, project_dir: Path, tmp_path: Path) -> None:
    document = json.loads((project_dir / "policies" / "region-deny.json").read_text())
    document["Statement"][0]["NotAction"] += [f"service{i}:SomeLongActionName" for i in range(150)]
    folder = _policy_dir(project_dir, tmp_path, **{"region-deny": document})
    settings = parse_settings(management_raw, policy_dir=folder)
    assert settings.organization is not None
    assert 5120 < len(render_file("region-deny.json", settings.policy_variables(), policy_dir=folder)) <= 10240


# -- Names AWS would refuse at `up` ----------------------------------------------------------------------------


def test_the_state_bucket_name_the_prefix_makes_is_checked(dev_raw: Raw) -> None:
    dev_raw["prefix"] = "a" * 38  # a-...-pulumi-state-216482851263 is 64 characters
    with pytest.raises(SettingsError) as caught:
        parse_settings(dev_raw)
    assert any(
        p.path == f"{CONFIG_KEY}.prefix" and "state bucket name" in p.message and "longer than 63" in p.message
        for p in caught.value.problems
    )
    dev_raw["prefix"] = "a" * 31
    settings = parse_settings(dev_raw)
    assert StateBackendSpec.from_settings(settings, "dev").bucket_name == f"{'a' * 31}-pulumi-state-216482851263"


def test_the_config_bucket_name_is_checked_where_the_bucket_is_named(dev_raw: Raw, management_raw: Raw) -> None:
    """The management stack names the Config bucket (its baseline delivers every member account there); an account
    stack no longer names it, so the same prefix is no problem there."""
    management_raw["prefix"] = "a" * 32  # <prefix>-log-archive-config-<12 digits> is 64 characters
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw)
    assert any("log bucket name" in p.message and "config" in p.message for p in caught.value.problems)
    dev_raw["prefix"] = "a" * 32
    parse_settings(dev_raw)


def test_role_names_derived_from_the_prefix_are_checked(dev_raw: Raw) -> None:
    del dev_raw["ci"]["previewRoleName"], dev_raw["ci"]["deployRoleName"]
    dev_raw["prefix"] = "a" * 30
    parse_settings(dev_raw)
    dev_raw["prefix"] = "a" * 50  # <prefix>-github-preview: 65 characters, IAM allows 64
    with pytest.raises(SettingsError) as caught:
        parse_settings(dev_raw)
    assert any("role name" in p.message and "64 characters" in p.message for p in caught.value.problems)


@pytest.mark.parametrize("name", ["DocuStack Lög Archive", "Audit\taccount"])
def test_account_names_outside_create_accounts_pattern_are_refused(management_raw: Raw, name: str) -> None:
    _account(management_raw, "log-archive")["accountName"] = name
    found = _problems(management_raw)
    assert any("printable ASCII" in m for m in found["organization.accounts[0].accountName"])


def test_a_long_reference_name_needs_an_account_name(management_raw: Raw) -> None:
    account = _account(management_raw, "audit")
    del account["accountName"]
    account["name"] = "a" * 51
    _org(management_raw)["auditServices"]["auditAccount"] = "a" * 51
    found = _problems(management_raw)
    assert any("limits to 50 characters" in m for m in found["organization.accounts[1].name"])


# -- Warnings: legitimate, but worth a look -------------------------------------------------------------------


def test_a_security_account_outside_the_security_ou_is_warned_about(management_raw: Raw) -> None:
    _account(management_raw, "audit")["ou"] = "Workloads"
    (warning,) = settings_warnings(parse_settings(management_raw))
    assert warning.startswith(f"{CONFIG_KEY}.organization.accounts[1].ou: 'audit' (the Audit account) is in OU")
    assert settings_warnings(parse_settings(_repository_management())) == []


def _repository_management() -> Raw:
    return project.read_stack_config(Path(__file__).resolve().parent.parent, "management")[CONFIG_KEY]


def _copy_project(project_dir: Path, tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(project_dir / name, tmp_path / name)
    shutil.copytree(project_dir / "policies", tmp_path / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    for stack_file in project_dir.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, tmp_path / stack_file.name)
    return tmp_path


def _edit_stack(folder: Path, stack: str, edit: Any) -> None:
    path = folder / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document["config"][CONFIG_KEY])
    path.write_text(yaml.safe_dump(document))


def test_plan_shows_the_warning(project_dir: Path, tmp_path: Path) -> None:
    folder = _copy_project(project_dir, tmp_path)
    _edit_stack(folder, "management", lambda raw: _account(raw, "log-archive").update(ou="Sandbox"))
    stack_plan = plan.plan_stack(folder, "management")
    assert any("'log-archive' (the Log Archive account) is in OU 'Sandbox'" in w for w in stack_plan.plan.warnings)


# -- Between stack files ---------------------------------------------------------------------------------------


def test_two_stack_files_for_one_account_are_refused(project_dir: Path, tmp_path: Path) -> None:
    folder = _copy_project(project_dir, tmp_path)
    _edit_stack(folder, "staging", lambda raw: raw["account"].update(id="216482851263"))
    with pytest.raises(SettingsError) as caught:
        project.load_stack_settings(folder, "staging")
    assert [str(p) for p in caught.value.problems] == [
        f"{CONFIG_KEY}.account.id: 216482851263 is also the account of Pulumi.dev.yaml: one stack per account, or "
        "the two overwrite each other's state bucket, baseline and CI roles"
    ]
    with pytest.raises(SettingsError, match=re.escape("also the account of Pulumi.staging.yaml")):
        project.load_stack_settings(folder, "dev")
    # Placeholders are not account IDs yet: staging and prod both still have <...-account-id> in the repository.
    project.load_stack_settings(project_dir, "staging")


def test_an_account_stacks_ci_role_may_not_carry_an_exempt_name(project_dir: Path, tmp_path: Path) -> None:
    folder = _copy_project(project_dir, tmp_path)
    _edit_stack(folder, "dev", lambda raw: raw["ci"].update(deployRoleName="docustack-break-glass"))
    with pytest.raises(SettingsError) as caught:
        project.load_stack_settings(folder, "dev")
    (problem,) = caught.value.problems
    assert problem.path == f"{CONFIG_KEY}.ci.deployRoleName"
    assert "exempt role 'docustack-break-glass' in Pulumi.management.yaml" in problem.message


@pytest.fixture
def dev_raw(project_dir: Path) -> Raw:
    return project.read_stack_config(project_dir, "dev")[CONFIG_KEY]


def test_an_unreadable_sibling_stack_file_does_not_stop_another_stack(project_dir: Path, tmp_path: Path) -> None:
    folder = _copy_project(project_dir, tmp_path)
    (folder / "Pulumi.staging.yaml").write_bytes(b"config:\n  docustack:settings: \xff\xfe\n")
    (folder / "Pulumi.prod.yaml").write_text("config: [unclosed\n")
    assert project.load_stack_settings(folder, "dev").account.id == "216482851263"


def test_the_program_reads_the_policy_files_of_its_own_project(
    management_raw: Raw, project_dir: Path, tmp_path: Path
) -> None:
    """A policy file that exists only in the planned project's policies/ (not in the installed package's) is
    found by the settings checks and by the program alike: the plan registers it."""
    copy = tmp_path / "project"
    shutil.copytree(project_dir, copy, ignore=shutil.ignore_patterns(".*", "node_modules", "venv", "tests"))
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "OnlyHere", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}],
    }
    (copy / "policies" / "only-here.json").write_text(json.dumps(document), encoding="utf-8")
    stack_file = copy / "Pulumi.management.yaml"
    stack_document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    settings = stack_document["config"][CONFIG_KEY]
    settings["organization"]["policies"].append(
        {
            "name": "only-here",
            "type": "SERVICE_CONTROL_POLICY",
            "file": "only-here.json",
            "description": "t",
            "targets": ["ou:Sandbox"],
        }
    )
    stack_file.write_text(yaml.safe_dump(stack_document), encoding="utf-8")
    stack_plan = plan.plan_stack(copy, "management")
    names = {resource.name for resource in stack_plan.plan.resources}
    assert "only-here-policy" in names
