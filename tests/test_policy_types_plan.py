"""`docustack plan`'s organization chart shows every policy with its type at the node it is attached to, in the
text, Markdown (Mermaid) and JSON renderings."""

from __future__ import annotations

from typing import Any

from docustack import plan
from docustack.settings import parse_settings


def _chart(raw: dict[str, Any]) -> plan.ChartNode:
    return plan.organization_chart(parse_settings(raw))


def _node(root: plan.ChartNode, key: str) -> plan.ChartNode:
    found = _find(root, key)
    assert found is not None, f"no node {key!r}"
    return found


def _find(node: plan.ChartNode, key: str) -> plan.ChartNode | None:
    if node.key == key:
        return node
    return next((found for child in node.children if (found := _find(child, key)) is not None), None)


def test_the_root_carries_every_type_with_its_policies(management_raw: dict[str, Any]) -> None:
    root = _chart(management_raw)
    assert root.policies == (
        ("SERVICE_CONTROL_POLICY", "region-deny"),
        ("SERVICE_CONTROL_POLICY", "protect-cloudtrail"),
        ("SERVICE_CONTROL_POLICY", "protect-guardrails"),
        ("TAG_POLICY", "tag-policy"),
        ("AISERVICES_OPT_OUT_POLICY", "ai-opt-out"),
        ("DECLARATIVE_POLICY_EC2", "ec2-declarative"),
        ("S3_POLICY", "s3-block-public-access"),
    )
    assert root.scps == ("region-deny", "protect-cloudtrail", "protect-guardrails")
    (line,) = [line for line in plan.chart_lines(root) if line.startswith("Root")]
    assert line == (
        "Root  SCPs: region-deny, protect-cloudtrail, protect-guardrails; tag policies: tag-policy; "
        "AI services opt-out policies: ai-opt-out; EC2 declarative policies: ec2-declarative; "
        "S3 policies: s3-block-public-access"
    )


def test_a_policy_of_another_type_shows_at_the_ou_it_is_attached_to(management_raw: dict[str, Any]) -> None:
    for policy in management_raw["organization"]["policies"]:
        if policy["name"] == "ec2-declarative":
            policy["targets"] = ["ou:Sandbox"]
    root = _chart(management_raw)
    sandbox = _node(root, "Sandbox")
    assert sandbox.policies == (
        ("SERVICE_CONTROL_POLICY", "sandbox-no-phi"),
        ("DECLARATIVE_POLICY_EC2", "ec2-declarative"),
    )
    assert "ec2-declarative" not in {name for _, name in root.policies}
    assert "├─ OU Sandbox  SCPs: sandbox-no-phi; EC2 declarative policies: ec2-declarative" in plan.chart_lines(root)
    mermaid = "\n".join(plan.chart_mermaid(root))
    assert '["OU Sandbox<br/>SCPs: sandbox-no-phi<br/>EC2 declarative policies: ec2-declarative"]' in mermaid
    sandbox_json = next(child for child in plan.chart_json(root)["children"] if child["key"] == "Sandbox")
    assert sandbox_json["policies"] == [
        {"type": "SERVICE_CONTROL_POLICY", "name": "sandbox-no-phi"},
        {"type": "DECLARATIVE_POLICY_EC2", "name": "ec2-declarative"},
    ]
    assert sandbox_json["scps"] == ["sandbox-no-phi"]


def test_the_json_chart_lists_types_and_keeps_the_scp_list(management_raw: dict[str, Any]) -> None:
    document = plan.chart_json(_chart(management_raw))
    assert {"type": "TAG_POLICY", "name": "tag-policy"} in document["policies"]
    assert {"type": "AISERVICES_OPT_OUT_POLICY", "name": "ai-opt-out"} in document["policies"]
    assert document["scps"] == ["region-deny", "protect-cloudtrail", "protect-guardrails"]
    workloads = next(child for child in document["children"] if child["key"] == "Workloads")
    assert [p["type"] for p in workloads["policies"]] == ["SERVICE_CONTROL_POLICY"] * 3 + [
        "RESOURCE_CONTROL_POLICY"
    ] * 2
    assert workloads["scps"] == ["require-s3-encryption", "deny-public-s3", "workloads-no-reach-into-sandbox"]


def test_the_legend_names_the_default_policies_of_the_enabled_authorization_types(
    management_raw: dict[str, Any],
) -> None:
    organization = management_raw["organization"]
    organization["policies"] = [p for p in organization["policies"] if p["type"] != "RESOURCE_CONTROL_POLICY"]
    types = [t for t in organization["enabledPolicyTypes"] if t != "RESOURCE_CONTROL_POLICY"]
    organization["enabledPolicyTypes"] = types
    settings = parse_settings(management_raw)
    assert plan.chart_legend(settings) == "policies attached directly, by type; FullAWSAccess stays attached everywhere"
    organization["enabledPolicyTypes"] = [*types, "RESOURCE_CONTROL_POLICY"]
    assert plan.chart_legend(parse_settings(management_raw)).endswith(
        "FullAWSAccess and RCPFullAWSAccess stay attached everywhere"
    )
