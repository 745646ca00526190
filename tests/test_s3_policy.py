"""The S3 policy type: account-level S3 Block Public Access for every account from the root, through the
foundation's policy model (a QUOTAS entry, a SYNTAX entry, the settings' type literal), and the account stacks no
longer setting it themselves.

That pulumi-aws accepts the type: the provider validates ``type`` against the AWS SDK's ``PolicyType`` enum
(hashicorp/terraform-provider-aws ``internal/service/organizations/policy.go``: ``enum.Validate[awstypes.PolicyType]``,
whose acceptance tests create an ``S3_POLICY`` and enable it on the root), and the installed pulumi-aws lists
``S3_POLICY`` among the valid ``type`` and ``enabled_policy_types`` values (``pulumi_aws/organizations/policy.py``,
``organization.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi_aws
import pytest

import policies
from docustack.plan import StackPlan
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings

POLICY = "aws:organizations/policy:Policy"


def test_the_installed_provider_documents_the_type() -> None:
    source = Path(pulumi_aws.__file__).parent / "organizations"
    assert "`S3_POLICY`" in (source / "policy.py").read_text()
    assert "`S3_POLICY`" in (source / "organization.py").read_text()


def test_the_type_is_in_the_policy_model() -> None:
    assert "S3_POLICY" in policies.POLICY_TYPES
    assert policies.SYNTAX["S3_POLICY"] is policies.s3_policy_problems
    assert policies.QUOTAS["S3_POLICY"].default_policy is None


def test_the_policy_turns_all_four_settings_on_at_the_root(stack_plans: dict[str, StackPlan]) -> None:
    plan = stack_plans["management"].plan
    [s3] = [p for p in plan.by_type(POLICY) if p.inputs.get("type") == "S3_POLICY"]
    assert json.loads(s3.inputs["content"]) == {
        "s3_attributes": {
            "public_access_block_configuration": {
                "@@assign": "all",
                "@@operators_allowed_for_child_policies": ["@@none"],
            }
        }
    }
    organization = plan.one("aws:organizations/organization:Organization")
    assert "S3_POLICY" in organization.inputs["enabledPolicyTypes"]
    root = organization.outputs["roots"][0]["id"]
    attachments = [
        a for a in plan.by_type("aws:organizations/policyAttachment:PolicyAttachment") if s3.urn in a.dependencies
    ]
    assert [a.inputs["targetId"] for a in attachments] == [root]


@pytest.mark.parametrize("stack", ["management", "dev", "staging", "prod"])
def test_no_stack_sets_account_level_block_public_access_itself(stack_plans: dict[str, StackPlan], stack: str) -> None:
    """Once the S3 policy applies, S3 refuses an account-level PutPublicAccessBlock (403)."""
    assert stack_plans[stack].plan.by_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock") == []


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"s3_attributes": {"public_access_block_configuration": {"@@assign": "some"}}}, "must be one of"),
        ({"s3_attributes": {"public_acces_block_configuration": {"@@assign": "all"}}}, "unexpected key"),
        ({"s3": {}}, "unexpected top-level key"),
        ({"s3_attributes": {"public_access_block_configuration": {}}}, "sets nothing"),
        ([], "JSON object"),
    ],
)
def test_the_grammar_refuses_what_would_set_nothing(document: Any, words: str) -> None:
    assert any(words in problem for problem in policies.s3_policy_problems(document))


def test_an_s3_policy_of_a_type_not_enabled_is_refused(management_raw: dict[str, Any]) -> None:
    management_raw["organization"]["enabledPolicyTypes"] = ["SERVICE_CONTROL_POLICY"]
    with pytest.raises(SettingsError) as caught:
        parse_settings(management_raw)
    assert any("S3_POLICY is not in organization.enabledPolicyTypes" in p.message for p in caught.value.problems)
    assert all(p.path.startswith(f"{CONFIG_KEY}.organization.policies") for p in caught.value.problems)
