"""The grammar of the management policy types: each rule AWS documents refuses the document that breaks it.

Every case starts from the project's own document of that type, which passes, and breaks one rule; the test
asserts that the named problem is reported (so a checker that reported nothing, or something else, fails).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from policies import POLICY_DIR, management_syntax
from policies.management_syntax import (
    ai_opt_out_problems,
    declarative_ec2_problems,
    tag_policy_problems,
)

Checker = Callable[[Any], list[str]]


def _document(file: str) -> dict[str, Any]:
    return json.loads((POLICY_DIR / file).read_text())


TAG = _document("tag-policy.json")
AI = _document("ai-opt-out.json")
EC2 = _document("ec2-declarative.json")


def _edit(document: dict[str, Any], edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    edit(changed)
    return changed


@pytest.mark.parametrize(
    ("checker", "document"),
    [(tag_policy_problems, TAG), (ai_opt_out_problems, AI), (declarative_ec2_problems, EC2)],
    ids=["tag", "ai-opt-out", "ec2-declarative"],
)
def test_the_projects_documents_are_well_formed(checker: Checker, document: dict[str, Any]) -> None:
    assert checker(document) == []


def _rule(tags: dict[str, Any], key: str = "data-classification") -> dict[str, Any]:
    return tags["tags"][key]


TAG_CASES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("not an object", lambda d: d.clear() or d.update({"tags": []}), "tags must be an object of policy keys"),
    ("other top-level key", lambda d: d.update({"Version": "2012-10-17"}), 'may hold only the key "tags"'),
    ("no tags key", lambda d: d.update({"tag": d.pop("tags")}), 'must start with the key "tags"'),
    ("no tag defined", lambda d: d.update({"tags": {}}), "must define at least one tag"),
    (
        "policy keys differ only in case",
        lambda d: d["tags"].update({"Data-Classification": copy.deepcopy(_rule(d))}),
        "differ only in case",
    ),
    (
        "tag_key spells another key",
        lambda d: _rule(d)["tag_key"].update({"@@assign": "classification"}),
        "must be the policy key 'data-classification'",
    ),
    (
        "tag_key is single-valued",
        lambda d: _rule(d)["tag_key"].update({"@@append": ["x"]}),
        "@@append cannot be used here (a single-valued setting)",
    ),
    (
        "tag_key is a list",
        lambda d: _rule(d)["tag_key"].update({"@@assign": ["data-classification"]}),
        "a tag key is 1-128",
    ),
    (
        "reserved aws: prefix",
        lambda d: d["tags"].update({"aws:owner": {"tag_key": {"@@assign": "aws:owner"}}}),
        "reserved for AWS",
    ),
    ("tag key too long", lambda d: d["tags"].update({"k" * 129: {}}), "a tag key is 1-128"),
    (
        "two wildcards in one value",
        lambda d: _rule(d)["tag_value"].update({"@@assign": ["*@*.com"]}),
        "only one * wildcard",
    ),
    (
        "value longer than 256",
        lambda d: _rule(d)["tag_value"].update({"@@assign": ["v" * 257]}),
        "a tag value is 0-256",
    ),
    ("tag_value not a list", lambda d: _rule(d)["tag_value"].update({"@@assign": "phi"}), "must be a non-empty list"),
    (
        "repeated value",
        lambda d: _rule(d)["tag_value"].update({"@@assign": ["phi", "phi"]}),
        "repeats a value",
    ),
    (
        "two value-setting operators",
        lambda d: _rule(d)["tag_value"].update({"@@append": ["secret"]}),
        "one value-setting operator per setting",
    ),
    (
        "unknown operator",
        lambda d: _rule(d)["tag_value"].update({"@@replace": ["x"]}),
        "'@@replace' is not an inheritance operator",
    ),
    (
        "a plain key inside a setting",
        lambda d: _rule(d)["tag_value"].update({"values": ["x"]}),
        "may hold only inheritance operators",
    ),
    ("unknown rule key", lambda d: _rule(d).update({"enforce": {}}), "unknown key 'enforce'"),
    (
        "unsupported enforcement type",
        lambda d: _rule(d)["enforced_for"].update({"@@assign": ["healthlake:datastore"]}),
        "'healthlake:datastore': not a resource type tag policies can enforce on",
    ),
    (
        "wildcard for every service",
        lambda d: _rule(d)["enforced_for"].update({"@@assign": ["*:bucket"]}),
        "cannot name all services",
    ),
    (
        "child control mixes @@none with an operator",
        lambda d: _rule(d)["tag_value"].update({"@@operators_allowed_for_child_policies": ["@@none", "@@append"]}),
        "@@all and @@none stand alone",
    ),
    (
        "child control names no operator",
        lambda d: _rule(d)["tag_value"].update({"@@operators_allowed_for_child_policies": []}),
        "must be a non-empty list of operator names",
    ),
    (
        "child control names an unknown operator",
        lambda d: _rule(d)["tag_value"].update({"@@operators_allowed_for_child_policies": ["@@replace"]}),
        "allows ['@@replace']",
    ),
]


@pytest.mark.parametrize(("name", "edit", "problem"), TAG_CASES, ids=[case[0] for case in TAG_CASES])
def test_a_tag_policy_aws_would_refuse_is_refused(
    name: str, edit: Callable[[dict[str, Any]], object], problem: str
) -> None:
    problems = tag_policy_problems(_edit(TAG, edit))
    assert any(problem in found for found in problems), problems


def test_every_enforcement_type_in_use_is_listed_with_its_source() -> None:
    """enforced_for holds only types from ENFORCEMENT_SUPPORTED, and each listed type names the page behind it."""
    for rule in TAG["tags"].values():
        for item in rule["enforced_for"]["@@assign"]:
            assert item in management_syntax.ENFORCEMENT_SUPPORTED
    assert all(source.startswith("orgs_manage_policies") for source in management_syntax.ENFORCEMENT_SUPPORTED.values())


def _default(d: dict[str, Any]) -> dict[str, Any]:
    return d["services"]["default"]


AI_CASES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("no services key", lambda d: d.update({"service": d.pop("services")}), 'must start with the key "services"'),
    ("no service named", lambda d: d.update({"services": {}}), "must name at least one service or default"),
    ("capitalized value", lambda d: _default(d)["opt_out_policy"].update({"@@assign": "optout"}), "(exact case)"),
    ("other value", lambda d: _default(d)["opt_out_policy"].update({"@@assign": "disabled"}), "must be one of"),
    (
        "@@append not allowed",
        lambda d: _default(d)["opt_out_policy"].update({"@@append": ["optOut"]}),
        "@@append cannot be used here",
    ),
    (
        "@@enforced_for not allowed",
        lambda d: _default(d)["opt_out_policy"].update({"@@enforced_for": ["x"]}),
        "not allowed in AI services opt-out policies",
    ),
    (
        "child control may allow only @@assign",
        lambda d: _default(d)["opt_out_policy"].update({"@@operators_allowed_for_child_policies": ["@@append"]}),
        "allows ['@@append']",
    ),
    ("opt_out_policy missing", lambda d: _default(d).pop("opt_out_policy"), "needs opt_out_policy"),
    (
        "another key under a service",
        lambda d: _default(d).update({"opt_in_policy": {"@@assign": "optIn"}}),
        "opt_out_policy is the only key",
    ),
    (
        "no value assigned",
        lambda d: _default(d)["opt_out_policy"].pop("@@assign"),
        "needs a value (@@assign)",
    ),
    (
        "service name not lowercase",
        lambda d: d["services"].update({"Rekognition": {"opt_out_policy": {"@@assign": "optOut"}}}),
        "'Rekognition' is not an AI service name",
    ),
]


@pytest.mark.parametrize(("name", "edit", "problem"), AI_CASES, ids=[case[0] for case in AI_CASES])
def test_an_ai_opt_out_policy_aws_would_refuse_is_refused(
    name: str, edit: Callable[[dict[str, Any]], object], problem: str
) -> None:
    problems = ai_opt_out_problems(_edit(AI, edit))
    assert any(problem in found for found in problems), problems


def _ec2(d: dict[str, Any]) -> dict[str, Any]:
    return d["ec2_attributes"]


EC2_CASES: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    (
        "no ec2_attributes",
        lambda d: d.update({"ec2": d.pop("ec2_attributes")}),
        'must start with the key "ec2_attributes"',
    ),
    (
        "unknown attribute",
        lambda d: _ec2(d).update({"ebs_encryption_by_default": {}}),
        "unknown key 'ebs_encryption_by_default'",
    ),
    (
        "only a message",
        lambda d: d.update({"ec2_attributes": {"exception_message": {"@@assign": "x"}}}),
        "must set at least one attribute",
    ),
    (
        "snapshot state spelled with hyphens (the EC2 API's spelling)",
        lambda d: _ec2(d)["snapshot_block_public_access"]["state"].update({"@@assign": "block-all-sharing"}),
        "'block-all-sharing'; it must be one of",
    ),
    (
        "images have no block-all mode",
        lambda d: _ec2(d)["image_block_public_access"]["state"].update({"@@assign": "block_all_sharing"}),
        "must be one of ['unblocked', 'block_new_sharing']",
    ),
    (
        "hop limit out of range",
        lambda d: _ec2(d)["instance_metadata_defaults"]["http_put_response_hop_limit"].update({"@@assign": "65"}),
        "an integer from -1 to 64",
    ),
    (
        "hop limit not a number",
        lambda d: _ec2(d)["instance_metadata_defaults"]["http_put_response_hop_limit"].update({"@@assign": "two"}),
        "an integer from -1 to 64",
    ),
    (
        "http_tokens unknown",
        lambda d: _ec2(d)["instance_metadata_defaults"]["http_tokens"].update({"@@assign": "v2"}),
        "must be one of ['no_preference', 'required', 'optional']",
    ),
    (
        "serial console status empty",
        lambda d: _ec2(d)["serial_console_access"].update({"status": {}}),
        "holds no inheritance operator",
    ),
    ("serial console without status", lambda d: _ec2(d)["serial_console_access"].pop("status"), "needs 'status'"),
    (
        "a single-valued field with @@append",
        lambda d: _ec2(d)["serial_console_access"]["status"].update({"@@append": ["disabled"]}),
        "@@append cannot be used here",
    ),
    (
        "VPC BPA without its required fields",
        lambda d: _ec2(d).update({"vpc_block_public_access": {"internet_gateway_block": {}}}),
        "needs 'mode'",
    ),
    (
        "criteria_11",
        lambda d: _ec2(d).update(
            {"allowed_images_settings": {"image_criteria": {"criteria_11": {}}, "state": {"@@assign": "enabled"}}}
        ),
        "unknown key 'criteria_11'",
    ),
    (
        "image provider neither an account nor an alias",
        lambda d: _ec2(d).update(
            {
                "allowed_images_settings": {
                    "image_criteria": {"criteria_1": {"allowed_image_providers": {"@@append": ["everyone"]}}}
                }
            }
        ),
        "a 12-digit account ID or one of",
    ),
]


@pytest.mark.parametrize(("name", "edit", "problem"), EC2_CASES, ids=[case[0] for case in EC2_CASES])
def test_a_declarative_policy_aws_would_refuse_is_refused(
    name: str, edit: Callable[[dict[str, Any]], object], problem: str
) -> None:
    problems = declarative_ec2_problems(_edit(EC2, edit))
    assert any(problem in found for found in problems), problems


def test_a_setting_may_only_restrict_child_policies() -> None:
    """The inheritance page's Policy H: a setting with the child control operator and no value-setting one."""
    document = _edit(EC2, lambda d: d["ec2_attributes"]["serial_console_access"]["status"].pop("@@assign"))
    assert declarative_ec2_problems(document) == []
    document = _edit(TAG, lambda d: _rule(d)["tag_value"].pop("@@assign"))
    assert tag_policy_problems(document) == []
    # AI opt-out is the exception: opt_out_policy needs its @@assign.
    document = _edit(AI, lambda d: _default(d)["opt_out_policy"].pop("@@assign"))
    assert any("needs a value (@@assign)" in problem for problem in ai_opt_out_problems(document))


@pytest.mark.parametrize("checker", [tag_policy_problems, ai_opt_out_problems, declarative_ec2_problems])
@pytest.mark.parametrize("document", [[], "tags", None, 1])
def test_a_document_that_is_not_an_object_is_refused(checker: Checker, document: object) -> None:
    assert checker(document) == ["the document must be a JSON object"]


# What the documents say, not only that they parse: the settings the issue asks for, locked against child policies.


def test_the_tag_policy_defines_classification_and_cost_center_in_lowercase_locked() -> None:
    rules = TAG["tags"]
    classification = rules["data-classification"]
    assert classification["tag_key"]["@@assign"] == "data-classification"
    assert {"public", "internal", "confidential", "phi"} <= set(classification["tag_value"]["@@assign"])
    assert rules["cost-center"]["tag_key"]["@@assign"] == "cost-center"
    for rule in rules.values():
        for setting in ("tag_key", "tag_value", "enforced_for"):
            assert rule[setting]["@@operators_allowed_for_child_policies"] == ["@@none"]


def test_the_ai_opt_out_opts_out_of_every_service_and_children_cannot_change_it() -> None:
    services = AI["services"]
    assert set(services) == {"default", "@@operators_allowed_for_child_policies"}
    assert services["default"]["opt_out_policy"] == {
        "@@operators_allowed_for_child_policies": ["@@none"],
        "@@assign": "optOut",
    }
    assert services["@@operators_allowed_for_child_policies"] == ["@@none"]


def test_the_ec2_declarative_policy_sets_the_four_settings_locked() -> None:
    attributes = EC2["ec2_attributes"]
    expected = {
        ("snapshot_block_public_access", "state"): "block_all_sharing",
        ("image_block_public_access", "state"): "block_new_sharing",
        ("instance_metadata_defaults", "http_tokens"): "required",
        ("serial_console_access", "status"): "disabled",
    }
    for (attribute, field), value in expected.items():
        assert attributes[attribute][field] == {"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": value}
    # The IMDS page recommends a hop limit of at least 2 once tokens are required (containers on the instance).
    assert int(attributes["instance_metadata_defaults"]["http_put_response_hop_limit"]["@@assign"]) >= 2


def test_the_programs_own_tags_are_not_keys_the_tag_policy_governs() -> None:
    """Only the keys a tag policy defines are evaluated ("Untagged resources or tags that aren't defined in the tag
    policy aren't evaluated for compliance", orgs_manage_policies_tag-policies.html): the tags every stack's
    provider puts on its resources must stay outside them, or enforcement could refuse the program's own tagging."""
    from docustack.state_backend_spec import provider_default_tags

    governed = {key.lower() for key in TAG["tags"]}
    assert not {key.lower() for key in provider_default_tags("docustack", "management")} & governed
