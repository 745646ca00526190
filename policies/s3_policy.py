"""The grammar of Organizations' S3 policies (policy type ``S3_POLICY``).

An S3 policy is a management policy in the declarative syntax; today it has one setting, account-level S3 Block
Public Access, all four flags together: ``{"s3_attributes": {"public_access_block_configuration": {"@@assign":
"all"}}}``, ``"all"`` or ``"none"``
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_s3_syntax.html). The child-control
operator ``@@operators_allowed_for_child_policies`` of the declarative syntax
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html) is accepted
with ``@@assign`` or ``@@none``. Anything else is refused: a misspelt key would be a policy that sets nothing.
"""

from __future__ import annotations

from typing import Any

ATTRIBUTES = "s3_attributes"
PUBLIC_ACCESS_BLOCK = "public_access_block_configuration"
ASSIGN = "@@assign"
CHILD_OPERATORS = "@@operators_allowed_for_child_policies"
VALUES = ("all", "none")
CHILD_OPERATOR_VALUES = ("@@assign", "@@none")


def s3_policy_problems(document: Any) -> list[str]:
    if not isinstance(document, dict):
        return ["the document must be a JSON object"]
    problems = [f"unexpected top-level key {key!r} (only {ATTRIBUTES!r})" for key in document if key != ATTRIBUTES]
    attributes = document.get(ATTRIBUTES)
    if not isinstance(attributes, dict):
        return [*problems, f"{ATTRIBUTES!r} must be an object"]
    problems += [
        f"{ATTRIBUTES}: unexpected key {key!r} (only {PUBLIC_ACCESS_BLOCK!r})"
        for key in attributes
        if key != PUBLIC_ACCESS_BLOCK
    ]
    setting = attributes.get(PUBLIC_ACCESS_BLOCK)
    where = f"{ATTRIBUTES}.{PUBLIC_ACCESS_BLOCK}"
    if not isinstance(setting, dict):
        return [*problems, f"{where} must be an object"]
    problems += [
        f"{where}: unexpected key {key!r} (only {ASSIGN!r}, {CHILD_OPERATORS!r})"
        for key in setting
        if key not in (ASSIGN, CHILD_OPERATORS)
    ]
    if ASSIGN in setting and setting[ASSIGN] not in VALUES:
        problems.append(f"{where}.{ASSIGN} must be one of {list(VALUES)}, not {setting[ASSIGN]!r}")
    if CHILD_OPERATORS in setting:
        operators = setting[CHILD_OPERATORS]
        if not isinstance(operators, list) or not operators or any(o not in CHILD_OPERATOR_VALUES for o in operators):
            problems.append(f"{where}.{CHILD_OPERATORS} must be a non-empty list of {list(CHILD_OPERATOR_VALUES)}")
    if ASSIGN not in setting and CHILD_OPERATORS not in setting:
        problems.append(f"{where} sets nothing: give {ASSIGN!r}")
    return problems
