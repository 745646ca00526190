"""The management policy grammar, attacked from both sides: documents AWS accepts must pass (a false refusal
stops every deploy), documents AWS refuses must not."""

from __future__ import annotations

from typing import Any

import pytest

from policies import management_syntax


def _rule(**settings: Any) -> dict[str, Any]:
    return {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}, **settings}}}


def test_required_tag_key_reporting_is_accepted() -> None:
    """Tag policies have a "Required tag key" capability besides the basic compliance rules
    (orgs_manage_policies_tag-policies-enforcement.html); its block is ``report_required_tag_for``, the key AWS's
    Resource Groups Tagging API reads required tag keys from ("marked as required in the report_required_tag_for
    block of the effective tag policy", https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_RequiredTag.html)."""
    document = _rule(report_required_tag_for={"@@assign": ["ec2:instance", "s3:bucket"]})
    assert management_syntax.tag_policy_problems(document) == []
    locked = _rule(
        report_required_tag_for={"@@operators_allowed_for_child_policies": ["@@none"], "@@assign": ["rds:db"]}
    )
    assert management_syntax.tag_policy_problems(locked) == []


@pytest.mark.parametrize(
    "value",
    [
        {"@@assign": "ec2:instance"},  # a list, like enforced_for
        {"@@assign": [3]},
        {"@@assign": ["instance"]},  # service:resource-type
        {"@@assign": ["*:instance"]},
        {"@@assign": ["ALL_SUPPORTED"]},
        {"@@enforced_for": ["ec2:instance"]},
    ],
)
def test_a_malformed_required_tag_block_is_refused(value: Any) -> None:
    problems = management_syntax.tag_policy_problems(_rule(report_required_tag_for=value))
    assert problems and all("report_required_tag_for" in problem for problem in problems), problems
