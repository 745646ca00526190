"""docustack verify, per policy type: the tag, AI opt-out and EC2 declarative policies are enabled, say what their
files say (compared as documents), are attached to exactly their targets, and nothing undeclared is attached.

moto (5.2) knows no DECLARATIVE_POLICY_EC2 type; the foundation adds it to moto's accepted types
(tests/moto_foundation.py), so the declarative policy goes through the same moto calls as the other types.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from moto_foundation import LiveFoundation, finding, run_verify, with_status

from docustack.verify.framework import DRIFT, ERROR, OK

MANAGEMENT_TYPES = ("TAG_POLICY", "AISERVICES_OPT_OUT_POLICY", "DECLARATIVE_POLICY_EC2", "S3_POLICY")
RESOURCES = {
    "tag-policy": "tag-policy:tag-policy",
    "ai-opt-out": "ai-opt-out-policy:ai-opt-out",
    "ec2-declarative": "declarative-policy-ec2:ec2-declarative",
    "s3-block-public-access": "s3-policy:s3-block-public-access",
}


def test_the_compliant_organization_has_each_type_checked(live_foundation: LiveFoundation, project_dir: Path) -> None:
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == set() and with_status(report, ERROR) == set()
    checked = with_status(report, OK)
    for policy_type in MANAGEMENT_TYPES:
        assert ("ORG-POLICY-TYPES", f"root:{policy_type}") in checked
        assert ("ORG-POLICY-UNDECLARED", f"root/{policy_type}") in checked
        assert ("ORG-POLICY-UNDECLARED", "ou:Workloads/" + policy_type) in checked
        assert ("ORG-POLICY-UNDECLARED", f"account:management/{policy_type}") in checked
    for resource in RESOURCES.values():
        assert ("ORG-POLICY-CONTENT", resource) in checked
        assert ("ORG-POLICY-CONTENT", f"{resource}/Description") in checked
        assert ("ORG-POLICY-ATTACHMENTS", resource) in checked
    # the SCPs keep their own checks and are not read twice
    assert ("ORG-POLICY-CONTENT", "scp:region-deny") not in checked
    assert ("ORG-POLICY-UNDECLARED", "root/SERVICE_CONTROL_POLICY") in checked


def _content(f: LiveFoundation, name: str) -> dict[str, Any]:
    return json.loads(f.organizations.describe_policy(PolicyId=f.policy_ids[name])["Policy"]["Content"])


def _update(
    f: LiveFoundation, name: str, edit: Callable[[dict[str, Any]], object], *, indent: int | None = None
) -> None:
    document = _content(f, name)
    edit(document)
    f.organizations.update_policy(PolicyId=f.policy_ids[name], Content=json.dumps(document, indent=indent))


def _remove_phi_value(f: LiveFoundation) -> None:
    _update(f, "tag-policy", lambda d: d["tags"]["data-classification"]["tag_value"]["@@assign"].remove("phi"))


def _loosen_ai_lock(f: LiveFoundation) -> None:
    _update(
        f,
        "ai-opt-out",
        lambda d: d["services"]["default"]["opt_out_policy"].update(
            {"@@operators_allowed_for_child_policies": ["@@all"]}
        ),
    )


def _unblock_snapshots(f: LiveFoundation) -> None:
    _update(
        f,
        "ec2-declarative",
        lambda d: d["ec2_attributes"]["snapshot_block_public_access"]["state"].update({"@@assign": "unblocked"}),
    )


def _add_setting(f: LiveFoundation) -> None:
    _update(
        f,
        "ec2-declarative",
        lambda d: d["ec2_attributes"].update(
            {"vpc_block_public_access": {"internet_gateway_block": {"mode": {"@@assign": "off"}}}}
        ),
    )


def _detach_declarative(f: LiveFoundation) -> None:
    f.organizations.detach_policy(PolicyId=f.policy_ids["ec2-declarative"], TargetId=f.root_id)


def _attach_tag_policy_to_workloads(f: LiveFoundation) -> None:
    f.organizations.attach_policy(PolicyId=f.policy_ids["tag-policy"], TargetId=f.ou_ids["Workloads"])


def _rogue_ai_policy_on_dev(f: LiveFoundation) -> None:
    content = json.dumps({"services": {"rekognition": {"opt_out_policy": {"@@assign": "optIn"}}}})
    created = f.organizations.create_policy(
        Name="let-rekognition-learn", Description="x", Type="AISERVICES_OPT_OUT_POLICY", Content=content
    )
    f.organizations.attach_policy(PolicyId=created["Policy"]["PolicySummary"]["Id"], TargetId=f.account_ids["dev"])


def _delete_tag_policy(f: LiveFoundation) -> None:
    f.organizations.detach_policy(PolicyId=f.policy_ids["tag-policy"], TargetId=f.root_id)
    f.organizations.delete_policy(PolicyId=f.policy_ids["tag-policy"])


def _disable_declarative_type(f: LiveFoundation) -> None:
    f.organizations.detach_policy(PolicyId=f.policy_ids["ec2-declarative"], TargetId=f.root_id)
    f.organizations.disable_policy_type(RootId=f.root_id, PolicyType="DECLARATIVE_POLICY_EC2")


def _describe_differently(f: LiveFoundation) -> None:
    f.organizations.update_policy(PolicyId=f.policy_ids["ai-opt-out"], Description="opt in, for now")


TAMPERING: dict[str, tuple[Callable[[LiveFoundation], None], set[tuple[str, str]]]] = {
    "tag value removed": (_remove_phi_value, {("ORG-POLICY-CONTENT", RESOURCES["tag-policy"])}),
    "AI opt-out unlocked for child policies": (_loosen_ai_lock, {("ORG-POLICY-CONTENT", RESOURCES["ai-opt-out"])}),
    "snapshot sharing unblocked": (_unblock_snapshots, {("ORG-POLICY-CONTENT", RESOURCES["ec2-declarative"])}),
    "a setting added": (_add_setting, {("ORG-POLICY-CONTENT", RESOURCES["ec2-declarative"])}),
    "declarative policy detached": (_detach_declarative, {("ORG-POLICY-ATTACHMENTS", RESOURCES["ec2-declarative"])}),
    "tag policy on an extra target": (
        _attach_tag_policy_to_workloads,
        {
            ("ORG-POLICY-ATTACHMENTS", RESOURCES["tag-policy"]),
            ("ORG-POLICY-UNDECLARED", "ou:Workloads/TAG_POLICY"),
        },
    ),
    "undeclared policy attached": (
        _rogue_ai_policy_on_dev,
        {("ORG-POLICY-UNDECLARED", "account:dev/AISERVICES_OPT_OUT_POLICY")},
    ),
    "tag policy deleted": (
        _delete_tag_policy,
        {("ORG-POLICY-CONTENT", RESOURCES["tag-policy"]), ("ORG-POLICY-ATTACHMENTS", RESOURCES["tag-policy"])},
    ),
    "declarative type disabled": (
        _disable_declarative_type,
        {
            ("ORG-POLICY-TYPES", "root:DECLARATIVE_POLICY_EC2"),
            ("ORG-POLICY-ATTACHMENTS", RESOURCES["ec2-declarative"]),
        },
    ),
    "description changed": (_describe_differently, {("ORG-POLICY-CONTENT", RESOURCES["ai-opt-out"] + "/Description")}),
}


@pytest.mark.parametrize("scenario", list(TAMPERING))
def test_tampering_with_a_policy_of_another_type_is_drift(
    scenario: str, live_foundation: LiveFoundation, project_dir: Path
) -> None:
    tamper, expected = TAMPERING[scenario]
    tamper(live_foundation)
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == expected
    assert with_status(report, ERROR) == set()
    assert report.exit_code == 1


def test_the_details_name_the_key_path_and_the_target(live_foundation: LiveFoundation, project_dir: Path) -> None:
    for tamper in (_remove_phi_value, _loosen_ai_lock, _add_setting, _attach_tag_policy_to_workloads):
        tamper(live_foundation)
    _rogue_ai_policy_on_dev(live_foundation)
    report = run_verify(live_foundation, project_dir)
    tag = finding(report, "ORG-POLICY-CONTENT", RESOURCES["tag-policy"])
    assert "tags/data-classification/tag_value is " in tag.detail and '"phi"' in tag.detail
    ai = finding(report, "ORG-POLICY-CONTENT", RESOURCES["ai-opt-out"])
    assert '"@@operators_allowed_for_child_policies": ["@@all"]' in ai.detail
    ec2 = finding(report, "ORG-POLICY-CONTENT", RESOURCES["ec2-declarative"])
    assert "ec2_attributes/vpc_block_public_access/internet_gateway_block/mode is not declared" in ec2.detail
    assert finding(report, "ORG-POLICY-ATTACHMENTS", RESOURCES["tag-policy"]).detail == "extra ou:Workloads"
    rogue = finding(report, "ORG-POLICY-UNDECLARED", "account:dev/AISERVICES_OPT_OUT_POLICY")
    assert rogue.actual == "undeclared: let-rekognition-learn"


def test_the_same_settings_in_another_order_and_layout_are_compliant(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    """Compared as documents: key order, whitespace and the order of list values are not drift."""

    def reorder(document: dict[str, Any]) -> None:
        rule = document["tags"]["data-classification"]
        rule["tag_value"]["@@assign"].reverse()
        document["tags"] = dict(reversed(list(document["tags"].items())))
        document["tags"]["data-classification"] = dict(reversed(list(rule.items())))

    _update(live_foundation, "tag-policy", reorder, indent=4)
    assert _content(live_foundation, "tag-policy")["tags"]["data-classification"]["tag_value"]["@@assign"][0] == "phi"
    report = run_verify(live_foundation, project_dir)
    assert with_status(report, DRIFT) == set()
    assert ("ORG-POLICY-CONTENT", RESOURCES["tag-policy"]) in with_status(report, OK)


def test_every_policy_type_has_a_finding_prefix() -> None:
    import policies
    from docustack.verify.organization_checks import RESOURCE_PREFIX

    assert set(RESOURCE_PREFIX) == set(policies.POLICY_TYPES)
    assert len(set(RESOURCE_PREFIX.values())) == len(RESOURCE_PREFIX)
