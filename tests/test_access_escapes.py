"""Human access, attacked: settings edits that would give a developer group write access in production.

Each test is one edit a developer who wants write access in prod could propose in a pull request. Either the
settings refuse it (field named, before anything is registered), or, where the edit cannot be told from a
legitimate one (a group's kind, which identity-store group a name stands for), ``docustack plan --base`` shows it
to the reviewer.
"""

from __future__ import annotations

from typing import Any

import pytest

from docustack import access
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings

Raw = dict[str, Any]
IC = "organization.identityCenter"


def _ic(raw: Raw) -> Raw:
    return raw["organization"]["identityCenter"]


def _group(raw: Raw, name: str) -> Raw:
    return next(entry for entry in _ic(raw)["groups"] if entry["name"] == name)


def _problems(raw: Raw) -> dict[str, list[str]]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)
    found: dict[str, list[str]] = {}
    for problem in caught.value.problems:
        found.setdefault(problem.path.removeprefix(f"{CONFIG_KEY}."), []).append(problem.message)
    return found


def _developers_get_admin_in_prod(raw: Raw) -> None:
    _ic(raw)["assignments"][0]["targets"].append("account:prod")


# --------------------------------------------------------------------------------------------------------
# Edits the settings must refuse


def test_an_empty_production_list_is_refused(management_raw: Raw) -> None:
    _ic(management_raw)["production"] = []
    _developers_get_admin_in_prod(management_raw)
    problems = _problems(management_raw)
    assert any("no account would be production" in m for m in problems[f"{IC}.production"]), problems


@pytest.mark.parametrize("production", [["account:staging"], ["ou:Sandbox"], ["account:dev"]])
def test_a_production_list_that_leaves_out_prod_is_refused(management_raw: Raw, production: list[str]) -> None:
    _ic(management_raw)["production"] = production
    _developers_get_admin_in_prod(management_raw)
    problems = _problems(management_raw)
    [message] = problems[f"{IC}.production"]
    assert "'prod'" in message and "named as production" in message


def test_a_second_production_account_must_be_production_too(management_raw: Raw) -> None:
    management_raw["organization"]["accounts"].append(
        {"name": "prod-eu", "email": "prod-eu@docustack.example", "ou": "Workloads"}
    )
    _ic(management_raw)["assignments"][0]["targets"].append("account:prod-eu")
    problems = _problems(management_raw)
    assert "'prod-eu'" in problems[f"{IC}.production"][0]
    # Declared production, the grant itself is refused as write access there.
    _ic(management_raw)["production"].append("account:prod-eu")
    problems = _problems(management_raw)
    assert "write access in production (prod-eu)" in problems[f"{IC}.assignments[0].permissionSet"][0]


def test_an_account_whose_aws_name_says_production_must_be_production(management_raw: Raw) -> None:
    staging = next(a for a in management_raw["organization"]["accounts"] if a["name"] == "staging")
    staging["accountName"] = "DocuStack Production EU"
    problems = _problems(management_raw)
    assert "'staging'" in problems[f"{IC}.production"][0]


@pytest.mark.parametrize("name", ["product-analytics", "preprod", "pre-prod", "non-prod", "nonprod-tools"])
def test_names_that_merely_mention_prod_are_not_production(management_raw: Raw, name: str) -> None:
    management_raw["organization"]["accounts"].append(
        {"name": name, "email": f"{name}@docustack.example", "ou": "Workloads"}
    )
    settings = parse_settings(management_raw)
    assert access.named_production_accounts(settings) == ["prod"]


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        # prod by its account ID instead of its settings name
        (lambda ic: ic["assignments"][0]["targets"].append("account:123456789012"), "assignments[0].targets[2]"),
        # prod through its OU, in another case
        (lambda ic: ic["assignments"][0]["targets"].append("ou:workloads"), "assignments[0].targets[2]"),
        # prod through the OU that holds it
        (lambda ic: ic["assignments"][0]["targets"].append("ou:Workloads"), "assignments[0].permissionSet"),
        # prod through the root
        (lambda ic: ic["assignments"][0]["targets"].append("root"), "assignments[0].targets[2]"),
        # the developer group declared a second time under another name, the display name in another case
        (
            lambda ic: ic["groups"].append({"name": "devs", "displayName": "docustack developers", "kind": "platform"}),
            "groups[3].displayName",
        ),
        # the emergency set handed to the developers
        (lambda ic: ic["assignments"][3].update(group="developers"), "assignments[3].group"),
        # the read-only set referred to in another case
        (lambda ic: ic["assignments"][1].update(permissionSet="readonlymetadata"), "assignments[1].permissionSet"),
    ],
)
def test_other_ways_into_prod_are_refused(management_raw: Raw, edit: Any, path: str) -> None:
    edit(_ic(management_raw))
    assert f"{IC}.{path}" in _problems(management_raw)


def test_prod_moved_into_the_sandbox_ou_stays_production(management_raw: Raw) -> None:
    prod = next(a for a in management_raw["organization"]["accounts"] if a["name"] == "prod")
    prod["ou"] = "Sandbox"  # where developers hold Developer through ou:Sandbox
    problems = _problems(management_raw)
    assert "write access in production (prod)" in problems[f"{IC}.assignments[0].permissionSet"][0]
    _ic(management_raw)["production"] = ["ou:Workloads"]  # and production follows the old OU: still refused
    problems = _problems(management_raw)
    assert "'prod'" in problems[f"{IC}.production"][0]


def test_a_group_declared_twice_is_refused(management_raw: Raw) -> None:
    _ic(management_raw)["groups"].append({"name": "developers", "displayName": "Other", "kind": "platform"})
    assert "is declared twice" in _problems(management_raw)[f"{IC}.groups[3].name"][0]


@pytest.mark.parametrize(
    "extra",
    [
        {"customerManagedPolicyReferences": [{"name": "ProdWrite"}]},
        {"permissionsBoundary": {"managedPolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
        {"managedPolicyArns": ["arn:aws:iam::123456789012:policy/ProdWrite"]},
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]},
    ],
)
def test_a_read_only_set_cannot_carry_other_policies(management_raw: Raw, extra: Raw) -> None:
    metadata = next(p for p in _ic(management_raw)["permissionSets"] if p["name"] == "ReadOnlyMetadata")
    metadata.update(extra)
    problems = _problems(management_raw)
    assert any(path.startswith(f"{IC}.permissionSets[1]") for path in problems), problems


# --------------------------------------------------------------------------------------------------------
# Names AWS would refuse at `up` are refused here (surrounding whitespace is stripped by the settings models)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # CreatePermissionSet Name: 1-32 of [\w+=,.@-] in the API's (ASCII) pattern
        # (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html).
        ("name", "Développeur"),
        ("managedPolicyArns", ["arn:aws:iam::aws:policy/Administratorﬁ"]),
    ],
)
def test_names_aws_would_refuse_are_refused(management_raw: Raw, field: str, value: Any) -> None:
    developer = next(p for p in _ic(management_raw)["permissionSets"] if p["name"] == "Developer")
    developer[field] = value
    problems = _problems(management_raw)
    assert any(path.startswith(f"{IC}.permissionSets[0].{field}") for path in problems), problems


# --------------------------------------------------------------------------------------------------------
# Settings the program could not register: two resources of one name


def test_two_grants_that_would_share_a_resource_name_are_refused(management_raw: Raw) -> None:
    """An assignment is registered as access-<group>-<account>-<set>: group "dev" in account "ops-lab" and group
    "dev-ops" in account "lab" would be two resources of one name, and `pulumi preview` would fail on them."""
    organization = management_raw["organization"]
    organization["accounts"] += [
        {"name": "ops-lab", "email": "ops-lab@docustack.example", "ou": "Sandbox"},
        {"name": "lab", "email": "lab@docustack.example", "ou": "Sandbox"},
    ]
    _ic(management_raw)["groups"] += [
        {"name": "dev", "displayName": "Dev", "kind": "platform"},
        {"name": "dev-ops", "displayName": "DevOps", "kind": "platform"},
    ]
    _ic(management_raw)["assignments"] += [
        {"group": "dev", "permissionSet": "PlatformAdministrator", "targets": ["account:ops-lab"]},
        {"group": "dev-ops", "permissionSet": "PlatformAdministrator", "targets": ["account:lab"]},
    ]
    problems = _problems(management_raw)
    [message] = problems[f"{IC}.assignments[5]"]
    assert "dev-ops in lab" in message and "dev in ops-lab" in message


def test_two_managed_policies_of_one_name_on_a_set_are_refused(management_raw: Raw) -> None:
    developer = next(p for p in _ic(management_raw)["permissionSets"] if p["name"] == "Developer")
    developer["managedPolicyArns"].append("arn:aws:iam::aws:policy/job-function/AdministratorAccess")
    problems = _problems(management_raw)
    assert "AdministratorAccess" in problems[f"{IC}.permissionSets[0].managedPolicyArns[1]"][0]


def test_a_description_aws_would_refuse_is_refused(management_raw: Raw) -> None:
    # PermissionSet Description: 1-700 of [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]
    # (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_PermissionSet.html): no em dash.
    developer = next(p for p in _ic(management_raw)["permissionSets"] if p["name"] == "Developer")
    developer["description"] = "Administer a sandbox \u2014 within the guardrails"
    assert f"{IC}.permissionSets[0].description" in _problems(management_raw)
    developer["description"] = "Administer a sandbox: caf\u00e9 rules apply"
    parse_settings(management_raw)
