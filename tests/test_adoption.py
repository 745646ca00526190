"""`docustack adopt-check` against a live organization in moto: every difference the first `up` would write is
named, undeclared trusted services and policy types are undecided, and what it cannot read is never "no
differences"."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto_foundation import LiveFoundation, deny, session, sign_in, write_project

from docustack import adoption, project
from docustack.adoption import AdoptionRefused, Comparison, compare
from docustack.cli import main
from docustack.settings import StackSettings, parse_settings
from docustack.state_backend_spec import StateBackendSpec
from docustack.verify import framework


def adopting_every_account(live: LiveFoundation) -> dict[str, Any]:
    """The settings as they stand before the first `up` of an organization whose accounts all exist: each
    account adopted by its ID."""
    raw = copy.deepcopy(live.raw)
    for entry in raw["organization"]["accounts"]:
        entry["id"] = live.account_ids[entry["name"]]
    return raw


def check(raw: dict[str, Any], project_dir: Path) -> Comparison:
    settings = parse_settings(raw, policy_dir=project_dir / "policies")
    return compare(settings, "management", session())


def differences(comparison: Comparison) -> dict[tuple[str, str], adoption.Difference]:
    return {(d.resource, d.setting): d for d in comparison.differences}


def test_an_organization_as_declared_has_no_differences(live_foundation: LiveFoundation, project_dir: Path) -> None:
    comparison = check(adopting_every_account(live_foundation), project_dir)
    assert comparison.differences == [] and comparison.not_read == []
    assert comparison.exit_code == adoption.EXIT_NO_DIFFERENCES
    assert comparison.compared == [
        "organization",
        *(f"account:{name}" for name in live_foundation.account_ids),
        "state backend",
    ]


def test_a_trusted_service_on_and_not_declared_is_undecided_until_kept_or_listed(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    live_foundation.organizations.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    raw = adopting_every_account(live_foundation)
    found = differences(check(raw, project_dir))
    ram = found[("organization", "docustack:settings.organization.serviceAccessPrincipals")]
    assert ram.undecided and ram.live == "ram.amazonaws.com on"
    assert "would disable trusted access for ram.amazonaws.com" in ram.consequence
    assert len(found) == 1

    raw["organization"]["disableServiceAccessPrincipals"] = ["ram.amazonaws.com"]
    decided = check(raw, project_dir)
    [removal] = decided.differences
    assert not removal.undecided and removal.setting.endswith("disableServiceAccessPrincipals")
    assert decided.exit_code == adoption.EXIT_DIFFERENCES

    raw["organization"]["disableServiceAccessPrincipals"] = []
    raw["organization"]["serviceAccessPrincipals"].append("ram.amazonaws.com")
    assert check(raw, project_dir).exit_code == adoption.EXIT_NO_DIFFERENCES


def test_policy_types_are_compared_both_ways(live_foundation: LiveFoundation, project_dir: Path) -> None:
    # BACKUP_POLICY is the one type moto knows that the settings do not declare; the declarative policy type is
    # declared (and so turned on by the first `up`).
    organizations = live_foundation.organizations
    organizations.enable_policy_type(RootId=live_foundation.root_id, PolicyType="BACKUP_POLICY")
    organizations.disable_policy_type(RootId=live_foundation.root_id, PolicyType="DECLARATIVE_POLICY_EC2")
    raw = adopting_every_account(live_foundation)
    found = check(raw, project_dir).differences
    assert {(d.declared, d.live, d.undecided) for d in found} == {
        ("DECLARATIVE_POLICY_EC2 on", "off", False),
        ("(not declared)", "BACKUP_POLICY on", True),
    }


def test_an_adopted_accounts_name_email_and_ou_are_compared(live_foundation: LiveFoundation, project_dir: Path) -> None:
    raw = adopting_every_account(live_foundation)
    dev = next(entry for entry in raw["organization"]["accounts"] if entry["name"] == "dev")
    live_name, live_email = dev["accountName"], dev["email"]
    dev.update(accountName="<dev-account-name>", email="someone-else@docustack.example", ou="Sandbox")
    found = differences(check(raw, project_dir))
    prefix = "docustack:settings.organization.accounts[dev]"
    assert (
        found[("account:dev", f"{prefix}.accountName")].declared,
        found[("account:dev", f"{prefix}.accountName")].live,
    ) == (
        "<dev-account-name>",
        live_name,
    )
    assert found[("account:dev", f"{prefix}.email")].live == live_email
    assert found[("account:dev", f"{prefix}.ou")].live == "ou:Workloads"
    assert len(found) == 3


def test_an_account_to_create_that_exists_already_is_named(live_foundation: LiveFoundation, project_dir: Path) -> None:
    raw = adopting_every_account(live_foundation)
    audit = next(entry for entry in raw["organization"]["accounts"] if entry["name"] == "audit")
    del audit["id"]
    [difference] = check(raw, project_dir).differences
    assert difference.resource == "account:audit" and live_foundation.account_ids["audit"] in difference.live
    assert "create a second account" in difference.consequence


def test_the_organization_to_import_must_be_this_one(live_foundation: LiveFoundation, project_dir: Path) -> None:
    raw = adopting_every_account(live_foundation)
    raw["organization"]["importId"] = "<organization-id>"
    [difference] = check(raw, project_dir).differences
    assert difference.setting.endswith("importId") and difference.live == raw["organization"]["importId"].replace(
        "<organization-id>", difference.live
    )
    assert difference.live.startswith("o-")


def test_an_invited_account_without_the_access_role_is_not_read_and_names_bootstrap(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    live_foundation.member("dev").client("iam").delete_role(RoleName="OrganizationAccountAccessRole")
    comparison = check(adopting_every_account(live_foundation), project_dir)
    [not_read] = comparison.not_read
    assert not_read.resource == "account:dev"
    assert "docustack bootstrap" in not_read.reason and "protect-guardrails" in not_read.reason
    assert comparison.exit_code == adoption.EXIT_NOT_READ


def test_an_access_role_trusting_another_account_is_a_difference(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["arn:aws:iam::348665872333:root", "arn:aws:iam::999999999999:root"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = live_foundation.member("dev").client("iam")
    iam.update_assume_role_policy(RoleName="OrganizationAccountAccessRole", PolicyDocument=json.dumps(trust))
    [difference] = check(adopting_every_account(live_foundation), project_dir).differences
    assert difference.resource == "account:dev" and "999999999999" in difference.live


def test_a_state_key_with_another_policy_is_a_difference(live_foundation: LiveFoundation, project_dir: Path) -> None:
    raw = adopting_every_account(live_foundation)
    spec = StateBackendSpec.from_settings(live_foundation.settings, "management")
    policy = copy.deepcopy(spec.key_policy())
    policy["Statement"][0]["Sid"] = "SomethingElse"
    session().client("kms").put_key_policy(
        KeyId=raw["stateBackend"]["keyId"], PolicyName="default", Policy=json.dumps(policy)
    )
    session().client("s3").delete_bucket_lifecycle(Bucket=spec.bucket_name)
    found = check(raw, project_dir).differences
    assert {d.resource for d in found} == {"state backend"}
    assert any("its key policy differs" in d.live for d in found)
    assert any("lifecycle" in d.live for d in found)


def test_what_cannot_be_read_is_never_no_differences(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny(monkeypatch, "ListAWSServiceAccessForOrganization")
    comparison = check(adopting_every_account(live_foundation), project_dir)
    assert [n.resource for n in comparison.not_read] == ["organization"]
    assert "AccessDeniedException" in comparison.not_read[0].reason
    assert comparison.exit_code == adoption.EXIT_NOT_READ
    assert "NOT READ" in comparison.render_text() and "no differences" not in comparison.render_text()


def test_it_only_reads(live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    operations: list[tuple[str, str]] = []

    def recorded(where: str, member: boto3.Session) -> boto3.Session:
        member.events.register("before-call", lambda model, **_: operations.append((where, model.name)))
        return member

    # The member accounts are read through sessions of their own: record those calls too.
    for module in (adoption, framework):
        original = module.read_only_session
        monkeypatch.setattr(
            module, "read_only_session", lambda *a, original=original, **k: recorded("member", original(*a, **k))
        )
    guarded = recorded("management", session())
    settings = parse_settings(adopting_every_account(live_foundation), policy_dir=project_dir / "policies")
    compare(settings, "management", guarded)
    assert {where for where, _ in operations} == {"management", "member"}
    assert all(op.startswith(("Describe", "Get", "List")) or op == "AssumeRole" for _, op in operations), operations


def test_keeping_and_removing_the_same_principal_is_refused(live_foundation: LiveFoundation, project_dir: Path) -> None:
    raw = adopting_every_account(live_foundation)
    raw["organization"]["disableServiceAccessPrincipals"] = ["config.amazonaws.com"]
    with pytest.raises(AdoptionRefused, match=r"disableServiceAccessPrincipals: config.amazonaws.com also in"):
        check(raw, project_dir)


def test_cli_exit_codes(
    live_foundation: LiveFoundation, project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = adopting_every_account(live_foundation)
    write_project(project_dir, tmp_path, "management", raw)
    command = ["--project-dir", str(tmp_path), "adopt-check", "--stack", "management"]
    assert main(command) == 0
    assert "no differences" in capsys.readouterr().out

    live_foundation.organizations.enable_aws_service_access(ServicePrincipal="ram.amazonaws.com")
    assert main([*command, "--format", "json"]) == 1
    assert '"undecided": true' in capsys.readouterr().out

    raw["account"]["id"] = "111122223333"
    (tmp_path / "other").mkdir()
    write_project(project_dir, tmp_path / "other", "management", raw)
    assert main(["--project-dir", str(tmp_path / "other"), *command[2:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: not compared: stack 'management' is account 111122223333") and "Traceback" not in err


def test_an_account_stack_compares_its_state_backend(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before bootstrap, an account stack's comparison lists what bootstrap (or else the first `up`) writes."""
    dev_id = live_foundation.account_ids["dev"]
    sign_in(monkeypatch, dev_id)
    raw = copy.deepcopy(project.read_stack_config(project_dir, "dev")["docustack:settings"])
    raw["account"]["id"] = dev_id
    settings: StackSettings = parse_settings(raw, policy_dir=project_dir / "policies")
    comparison = compare(settings, "dev", boto3.Session(region_name="us-east-1"), management=live_foundation.settings)
    lives = [d.live for d in comparison.differences]
    assert "not yet: would create the KMS key and its alias alias/docustack-pulumi-state" in lives
    assert any("attach AdministratorAccess" in live for live in lives)
    assert comparison.exit_code == adoption.EXIT_DIFFERENCES


def test_the_management_stack_must_be_in_the_management_account(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev_id = live_foundation.account_ids["dev"]
    raw = adopting_every_account(live_foundation)
    raw["account"]["id"] = dev_id
    raw["organization"]["accounts"] = [a for a in raw["organization"]["accounts"] if a["name"] != "dev"]
    raw["organization"].pop("identityCenter")  # its assignments name dev, which this organization no longer declares
    sign_in(monkeypatch, dev_id)
    comparison = check(raw, project_dir)
    organization = next(n for n in comparison.not_read if n.resource == "organization")
    assert f"management account is {live_foundation.settings.account.id}" in organization.reason
    assert comparison.exit_code == adoption.EXIT_NOT_READ
