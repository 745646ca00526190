"""Stack settings: the repository's stack files are valid, and bad config is refused field by field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docustack import project
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings

Raw = dict[str, Any]


def _org(raw: Raw) -> Raw:
    return raw["organization"]


def _account(raw: Raw, name: str) -> Raw:
    return next(a for a in _org(raw)["accounts"] if a["name"] == name)


def _nest(depth: int) -> list[Raw]:
    unit: Raw = {"name": f"L{depth}"}
    for level in range(depth - 1, 0, -1):
        unit = {"name": f"L{level}", "children": [unit]}
    return [unit]


def _scp(name: str, targets: list[str], file: str = "require-s3-encryption.json") -> Raw:
    return {"name": name, "type": "SERVICE_CONTROL_POLICY", "file": file, "description": "test", "targets": targets}


# (case id, edit to the management settings, field path expected in the error, words expected in the message)
BAD_MANAGEMENT: list[tuple[str, Callable[[Raw], None], str, str]] = [
    ("unknown top-level key", lambda r: r.update(regions=["us-east-1"]), "regions", "not a known setting"),
    (
        "unknown organization key",
        lambda r: _org(r).update(featureset="ALL"),
        "organization.featureset",
        "not a known setting",
    ),
    ("account id too short", lambda r: r["account"].update(id="34866587233"), "account.id", "12-digit"),
    ("account id unquoted number", lambda r: r["account"].update(id=348665872333), "account.id", "quoted string"),
    ("member id with letters", lambda r: _account(r, "dev").update(id="21648285126x"), "accounts[2].id", "12-digit"),
    (
        "duplicate account name",
        lambda r: _account(r, "audit").update(name="log-archive"),
        "accounts[1].name",
        "also the name of accounts[0]",
    ),
    (
        "duplicate email, any case",
        lambda r: [
            _account(r, "log-archive").update(email="Ops@Example.com"),
            _account(r, "audit").update(email="ops@example.com"),
        ],
        "accounts[1].email",
        "also the email",
    ),
    ("bad email", lambda r: _account(r, "audit").update(email="not-an-email"), "accounts[1].email", "email address"),
    (
        "member reuses management id",
        lambda r: _account(r, "dev").update(id="348665872333"),
        "accounts[2].id",
        "management account",
    ),
    (
        "two members share an id",
        lambda r: _account(r, "staging").update(id="216482851263"),
        "accounts[3].id",
        "also the ID of accounts[2]",
    ),
    (
        "account in unknown OU",
        lambda r: _account(r, "dev").update(ou="Workload"),
        "accounts[2].ou",
        "'Workload' is not declared",
    ),
    (
        "nested OU path must be full",
        lambda r: [
            _org(r)["organizationalUnits"].append({"name": "Prod", "children": [{"name": "Regulated"}]}),
            _account(r, "prod").update(ou="Regulated"),
        ],
        "accounts[4].ou",
        "not declared",
    ),
    (
        "OU nested six deep",
        lambda r: _org(r).update(organizationalUnits=[*_org(r)["organizationalUnits"], *_nest(6)]),
        "children[0].children[0].children[0].children[0].children[0].name",
        "at most 5 levels",
    ),
    (
        "OU declared twice",
        lambda r: _org(r)["organizationalUnits"].append({"name": "Security"}),
        "organizationalUnits[3].name",
        "declared twice",
    ),
    (
        "OU name with slash",
        lambda r: _org(r)["organizationalUnits"].append({"name": "a/b"}),
        "organizationalUnits[3].name",
        "no '/'",
    ),
    (
        "region outside allowed",
        lambda r: r["account"].update(region="us-west-2"),
        "account.region",
        "not one of the allowed regions",
    ),
    ("malformed region", lambda r: r.update(allowedRegions=["useast1"]), "allowedRegions[0]", "AWS region name"),
    ("no allowed regions", lambda r: r.update(allowedRegions=[]), "allowedRegions", "at least 1"),
    ("region listed twice", lambda r: r.update(allowedRegions=["us-east-1", "us-east-1"]), "allowedRegions", "twice"),
    (
        "SCP file missing",
        lambda r: _org(r)["policies"][0].update(file="nope.json"),
        "policies[0].file",
        "does not exist",
    ),
    (
        "SCP file outside policies",
        lambda r: _org(r)["policies"][0].update(file="../pyproject.toml"),
        "policies[0].file",
        ".json file in policies/",
    ),
    (
        "SCP target unknown",
        lambda r: _org(r)["policies"][3].update(targets=["ou:Workload"]),
        "policies[3].targets[0]",
        "does not name",
    ),
    (
        "SCP target listed twice",
        lambda r: _org(r)["policies"][3].update(targets=["ou:Workloads", "ou:Workloads"]),
        "policies[3].targets[1]",
        "listed twice",
    ),
    (
        "SCP without targets",
        lambda r: _org(r)["policies"][3].update(targets=[]),
        "policies[3].targets",
        "at least 1",
    ),
    (
        "SCP name twice",
        lambda r: _org(r)["policies"].append(_scp("region-deny", ["ou:Sandbox"])),
        "policies[14].name",
        "declared twice",
    ),
    (
        "ten SCPs on one OU plus FullAWSAccess",
        lambda r: _org(r)["policies"].extend(_scp(f"extra-{i}", ["ou:Workloads"]) for i in range(7)),
        "policies",
        "'ou:Workloads' would have 10 SCPs attached directly plus FullAWSAccess; AWS allows at most 10",
    ),
    (
        "exempt role name invalid",
        lambda r: _org(r).update(guardrailExemptRoles=["bad role"]),
        "guardrailExemptRoles[0]",
        "IAM role name",
    ),
    ("no exempt roles", lambda r: _org(r).update(guardrailExemptRoles=[]), "guardrailExemptRoles", "at least 1"),
    (
        "feature set consolidated billing",
        lambda r: _org(r).update(featureSet="CONSOLIDATED_BILLING"),
        "organization.featureSet",
        "'ALL'",
    ),
    (
        "service principal not a service",
        lambda r: _org(r)["serviceAccessPrincipals"].append("config.example.com"),
        "serviceAccessPrincipals[9]",
        "service principal",
    ),
    (
        "service principal twice",
        lambda r: _org(r)["serviceAccessPrincipals"].append("config.amazonaws.com"),
        "serviceAccessPrincipals[9]",
        "listed twice",
    ),
    (
        "organization id malformed",
        lambda r: _org(r).update(importId="org-123"),
        "organization.importId",
        "organization ID",
    ),
    (
        "log archive account missing",
        lambda r: _org(r).update(logArchiveAccount="logs"),
        "organization.logArchiveAccount",
        "no account named 'logs'",
    ),
    (
        "SCP types without SCP",
        lambda r: _org(r).update(enabledPolicyTypes=["TAG_POLICY"]),
        "organization.policies[0].type",
        "SERVICE_CONTROL_POLICY is not in organization.enabledPolicyTypes",
    ),
    (
        "account name too long",
        lambda r: _account(r, "audit").update(accountName="x" * 51),
        "accounts[1].accountName",
        "at most 50",
    ),
]


@pytest.mark.parametrize(("case", "edit", "path", "words"), BAD_MANAGEMENT, ids=[c[0] for c in BAD_MANAGEMENT])
def test_bad_management_config_is_refused_naming_the_field(
    management_raw: Raw, case: str, edit: Callable[[Raw], None], path: str, words: str
) -> None:
    edit(management_raw)
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw, source="Pulumi.management.yaml")
    message = str(caught.value)
    assert message.startswith("Pulumi.management.yaml: ")
    matching = [p for p in caught.value.problems if p.path.endswith(path)]
    assert matching, f"{case}: no problem at {path!r} in:\n{message}"
    assert any(words in p.message for p in matching), f"{case}: {words!r} not in:\n{message}"


@pytest.mark.parametrize("stack", ["dev", "management"])
def test_an_old_stack_file_with_config_recording_is_refused_naming_the_field(project_dir: Path, stack: str) -> None:
    """The organization baseline records Config now; a stack file that still has its own recorder settings gets
    an error that names the field and says where recording went, not "not a known setting"."""
    raw = project.read_stack_config(project_dir, stack)[CONFIG_KEY]
    assert "configRecording" not in raw
    parse_settings(raw)
    raw["configRecording"] = {"logArchiveAccountId": "123456789012", "logArchiveKeyArn": "<log-archive-key-arn>"}
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)
    [problem] = caught.value.problems
    assert problem.path == f"{CONFIG_KEY}.configRecording"
    assert "no longer used" in problem.message and "organization baseline" in problem.message
    assert "Log Archive's Config bucket" in problem.message


def test_there_are_at_least_twenty_bad_config_cases() -> None:
    assert len(BAD_MANAGEMENT) >= 20


def test_every_problem_is_reported_at_once(management_raw: Raw) -> None:
    _account(management_raw, "dev").update(ou="Nowhere")
    _account(management_raw, "audit").update(name="log-archive")
    management_raw["account"]["region"] = "eu-west-1"
    _org(management_raw)["policies"][0]["file"] = "missing.json"
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw)
    paths = {p.path.removeprefix(f"{CONFIG_KEY}.") for p in caught.value.problems}
    assert {
        "account.region",
        "organization.accounts[1].name",
        "organization.accounts[2].ou",
        "organization.policies[0].file",
    } <= paths


def test_shape_errors_are_all_reported_too(management_raw: Raw) -> None:
    management_raw["account"]["id"] = "1"
    _account(management_raw, "audit")["email"] = "x"
    management_raw["bogus"] = True
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw)
    assert len(caught.value.problems) == 3


def test_invalid_json_policy_is_reported(management_raw: Raw, tmp_path: Path, project_dir: Path) -> None:
    for source in (project_dir / "policies").glob("*.json"):
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "region-deny.json").write_text('{"Version": "2012-10-17", "Statement": [')
    with pytest.raises(SettingsError, match=r"policies\[0\]\.file: 'region-deny.json' is not valid JSON"):
        parse_settings(management_raw, policy_dir=tmp_path)


def test_policy_over_the_size_quota_is_reported(management_raw: Raw, tmp_path: Path, project_dir: Path) -> None:
    for source in (project_dir / "policies").glob("*.json"):
        (tmp_path / source.name).write_text(source.read_text())
    document = json.loads((tmp_path / "region-deny.json").read_text())
    document["Statement"][0]["NotAction"] += [f"service{i}:SomeLongActionName" for i in range(300)]
    (tmp_path / "region-deny.json").write_text(json.dumps(document, indent=2))
    with pytest.raises(SettingsError, match=r"renders to \d+ characters; an SCP may have at most 10240"):
        parse_settings(management_raw, policy_dir=tmp_path)


def test_missing_settings_key_is_reported(project_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: docustack\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    with pytest.raises(SettingsError, match="docustack:settings: is missing"):
        project.load_stack_settings(tmp_path, "dev")


@pytest.mark.parametrize("stack", ["management", "dev", "staging", "prod"])
def test_repository_stack_files_are_valid(project_dir: Path, stack: str) -> None:
    settings = project.load_stack_settings(project_dir, stack)
    assert settings.account.name == stack
    assert settings.is_management is (stack == "management")


def test_strategy_document_account_ids(project_dir: Path) -> None:
    management = project.load_stack_settings(project_dir, "management")
    assert management.account.id == "348665872333"
    assert management.organization is not None
    dev = next(a for a in management.organization.accounts if a.name == "dev")
    assert dev.id == "216482851263"
    assert project.load_stack_settings(project_dir, "dev").account.id == "216482851263"


def test_placeholders_are_listed_by_field(project_dir: Path) -> None:
    staging = project.load_stack_settings(project_dir, "staging")
    assert staging.placeholders() == [
        f"{CONFIG_KEY}.account.id",
        f"{CONFIG_KEY}.stateBackend.keyId",
        f"{CONFIG_KEY}.ci.repository",
    ]
    assert "account.id" not in " ".join(project.load_stack_settings(project_dir, "dev").placeholders())


def test_placeholders_only_where_an_identifier_goes(management_raw: Raw) -> None:
    bad = copy.deepcopy(management_raw)
    bad["account"]["region"] = "<region>"
    with pytest.raises(SettingsError, match=r"account\.region"):
        parse_settings(bad)


def test_the_old_scp_list_is_refused_with_where_it_went(management_raw: Raw) -> None:
    organization = _org(management_raw)
    organization["serviceControlPolicies"] = organization.pop("policies")
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw)
    assert (
        "organization.serviceControlPolicies: was renamed to organization.policies, which holds organization "
        "policies of every type"
    ) in str(raised.value)
    assert "type: SERVICE_CONTROL_POLICY" in str(raised.value)
