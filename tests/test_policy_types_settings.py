"""The settings hold tag, AI opt-out and EC2 declarative policies to their own quotas and grammar, before any
resource is registered: size (minified, as sent) and directly attached policies per target, each type on its own."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import policies
from docustack.settings import SettingsError, parse_settings

# (type, the project's file of that type, a function that pads that document to exactly n characters minified)
Padder = Callable[[int], dict[str, Any]]


def _tag_document(size: int) -> dict[str, Any]:
    return _split_values({"tags": {"data-classification": {"tag_value": {"@@assign": []}}}}, size)


def _split_values(document: dict[str, Any], size: int) -> dict[str, Any]:
    """Tag values are at most 256 characters: spread the padding over as many values as needed."""
    values: list[str] = []
    budget = size - _length({"tags": {"data-classification": {"tag_value": {"@@assign": []}}}})
    while budget > 0:
        # each further value costs its length + 2 quotes + 1 comma (the first one no comma)
        overhead = 2 if not values else 3
        take = min(256, budget - overhead)
        if take < 1:  # too little room for another value: widen the previous one instead
            values[-1] += "x" * budget
            break
        values.append(f"{len(values):04d}".ljust(take, "x")[:take])
        budget -= take + overhead
    document["tags"]["data-classification"]["tag_value"]["@@assign"] = values
    return document


def _ai_document(size: int) -> dict[str, Any]:
    document: dict[str, Any] = {"services": {"default": {"opt_out_policy": {"@@assign": "optOut"}}}}
    padding = size - _length(document) - len(',"":{"opt_out_policy":{"@@assign":"optOut"}}')
    document["services"]["s" + "x" * (padding - 1)] = {"opt_out_policy": {"@@assign": "optOut"}}
    return document


def _ec2_document(size: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        "ec2_attributes": {
            "exception_message": {"@@assign": ""},
            "serial_console_access": {"status": {"@@assign": "disabled"}},
        }
    }
    document["ec2_attributes"]["exception_message"]["@@assign"] = "m" * (size - _length(document))
    return document


def _length(document: dict[str, Any]) -> int:
    return len(policies.minify(document))


CASES: list[tuple[str, str, Padder]] = [
    ("TAG_POLICY", "tag-policy.json", _tag_document),
    ("AISERVICES_OPT_OUT_POLICY", "ai-opt-out.json", _ai_document),
    ("DECLARATIVE_POLICY_EC2", "ec2-declarative.json", _ec2_document),
]
IDS = [case[0] for case in CASES]


def test_the_quotas_are_the_ones_the_quotas_page_gives() -> None:
    """https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html (declarative: UNVERIFIED)."""
    assert policies.QUOTAS["TAG_POLICY"] == policies.PolicyQuota(10000, 10, None)
    assert policies.QUOTAS["AISERVICES_OPT_OUT_POLICY"] == policies.PolicyQuota(2500, 5, None)
    assert policies.QUOTAS["DECLARATIVE_POLICY_EC2"] == policies.PolicyQuota(10000, 10, None)


def _policy_dir(tmp_path: Path) -> Path:
    for source in policies.POLICY_DIR.glob("*.json"):
        shutil.copy(source, tmp_path / source.name)
    return tmp_path


def _index(raw: dict[str, Any], name: str) -> int:
    return next(i for i, policy in enumerate(raw["organization"]["policies"]) if policy["name"] == name)


@pytest.mark.parametrize(("policy_type", "file", "pad"), CASES, ids=IDS)
def test_a_document_one_character_over_its_types_size_quota_is_refused(
    management_raw: dict[str, Any], tmp_path: Path, policy_type: str, file: str, pad: Padder
) -> None:
    limit = policies.QUOTAS[policy_type].max_characters
    directory = _policy_dir(tmp_path)
    at_limit = pad(limit)
    assert _length(at_limit) == limit and policies.SYNTAX[policy_type](at_limit) == []
    (directory / file).write_text(json.dumps(at_limit, indent=2))  # whitespace in the file does not count
    parse_settings(management_raw, policy_dir=directory)

    over = pad(limit + 1)
    assert _length(over) == limit + 1 and policies.SYNTAX[policy_type](over) == []
    (directory / file).write_text(json.dumps(over))
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw, policy_dir=directory)
    index = next(i for i, p in enumerate(management_raw["organization"]["policies"]) if p["file"] == file)
    assert f"organization.policies[{index}].file: renders to {limit + 1} characters" in str(raised.value)
    assert f"may have at most {limit}" in str(raised.value)


@pytest.mark.parametrize(("policy_type", "file", "pad"), CASES, ids=IDS)
def test_one_policy_more_than_its_types_attachment_quota_on_a_target_is_refused(
    management_raw: dict[str, Any], policy_type: str, file: str, pad: Padder
) -> None:
    """No default policy takes a slot for these types; the SCPs on the same target do not count."""
    quota = policies.QUOTAS[policy_type]
    organization = management_raw["organization"]
    already = sum(1 for p in organization["policies"] if p["type"] == policy_type and "ou:Workloads" in p["targets"])

    def add(count: int, start: int) -> None:
        organization["policies"].extend(
            {
                "name": f"extra-{start + i}",
                "type": policy_type,
                "file": file,
                "description": "t",
                "targets": ["ou:Workloads"],
            }
            for i in range(count)
        )

    add(quota.max_attached_per_target - already, 0)
    parse_settings(management_raw)
    add(1, 100)
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw)
    plural = policies.PLURAL_NAMES[policy_type]
    expected = (
        f"'ou:Workloads' would have {quota.max_attached_per_target + 1} {plural} attached directly; "
        f"AWS allows at most {quota.max_attached_per_target}"
    )
    assert expected in str(raised.value)
    assert f"{plural} attached directly plus" not in str(raised.value)


def test_a_tag_policy_enforced_on_a_type_aws_does_not_enforce_is_refused(
    management_raw: dict[str, Any], tmp_path: Path
) -> None:
    """AWS refuses enforced_for with an unsupported resource type; so do the settings, naming the entry."""
    directory = _policy_dir(tmp_path)
    document = json.loads((directory / "tag-policy.json").read_text())
    document["tags"]["data-classification"]["enforced_for"]["@@assign"].append("healthlake:datastore")
    (directory / "tag-policy.json").write_text(json.dumps(document))
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw, policy_dir=directory)
    message = str(raised.value)
    index = _index(management_raw, "tag-policy")
    assert f"organization.policies[{index}].file: 'tag-policy.json' is not a valid tag policy" in message
    assert "'healthlake:datastore': not a resource type tag policies can enforce on" in message


@pytest.mark.parametrize(
    ("name", "file", "edit", "reason"),
    [
        (
            "ai-opt-out",
            "ai-opt-out.json",
            lambda d: d["services"]["default"]["opt_out_policy"].update({"@@assign": "OptOut"}),
            "is not a valid AI services opt-out policy: services.default.opt_out_policy.@@assign is 'OptOut'",
        ),
        (
            "ec2-declarative",
            "ec2-declarative.json",
            lambda d: d["ec2_attributes"]["snapshot_block_public_access"]["state"].update(
                {"@@assign": "block-all-sharing"}
            ),
            "is not a valid EC2 declarative policy",
        ),
        (
            "ec2-declarative",
            "ec2-declarative.json",
            lambda d: d.update({"Version": "2012-10-17"}),
            'the document may hold only the key "ec2_attributes"',
        ),
    ],
)
def test_a_management_policy_aws_would_refuse_is_refused_at_config_time_naming_file_and_reason(
    management_raw: dict[str, Any], tmp_path: Path, name: str, file: str, edit: Callable[[Any], Any], reason: str
) -> None:
    directory = _policy_dir(tmp_path)
    document = json.loads((directory / file).read_text())
    edit(document)
    (directory / file).write_text(json.dumps(document))
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw, policy_dir=directory)
    message = str(raised.value)
    assert f"organization.policies[{_index(management_raw, name)}].file: {file!r}" in message
    assert reason in message


def test_a_management_policy_file_declared_as_an_scp_is_refused(management_raw: dict[str, Any]) -> None:
    """The type in the settings decides the grammar: a tag policy document is not an SCP."""
    organization = management_raw["organization"]
    organization["policies"][_index(management_raw, "tag-policy")]["type"] = "SERVICE_CONTROL_POLICY"
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw)
    assert "'tag-policy.json' is not a valid SCP" in str(raised.value)


@pytest.mark.parametrize(
    ("policy_type", "principal", "kind"),
    [
        ("DECLARATIVE_POLICY_EC2", "ec2.amazonaws.com", "EC2 declarative policy"),
        ("TAG_POLICY", "tagpolicies.tag.amazonaws.com", "tag policy"),
    ],
)
def test_a_policy_type_s_trusted_access_is_declared(
    management_raw: dict[str, Any], policy_type: str, principal: str, kind: str
) -> None:
    """The provider keeps trusted access to exactly the declared list: a type's principal must be on it."""
    organization = management_raw["organization"]
    assert principal in organization["serviceAccessPrincipals"]
    organization["serviceAccessPrincipals"].remove(principal)
    with pytest.raises(SettingsError) as raised:
        parse_settings(management_raw)
    assert f"organization.serviceAccessPrincipals: must include {principal!r} for the {kind}" in str(raised.value)
    organization["policies"] = [p for p in organization["policies"] if p["type"] != policy_type]
    parse_settings(management_raw)  # without a policy of that type, its service needs no trusted access
