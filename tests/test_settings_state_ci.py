"""Settings of the state backend and CI roles: each problem reported with its field path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docustack import project
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings


@pytest.fixture
def dev_raw(project_dir) -> dict[str, Any]:
    return copy.deepcopy(project.read_stack_config(project_dir, "dev")[CONFIG_KEY])


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="test")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    "repository",
    ["docustack/aws-foundation", "DocuStack/aws.foundation_2", "a/b", "<github-repository>"],
)
def test_repository_names_and_the_placeholder_are_accepted(dev_raw: dict[str, Any], repository: str) -> None:
    dev_raw["ci"]["repository"] = repository
    assert parse_settings(dev_raw).ci.repository == repository


@pytest.mark.parametrize(
    "repository",
    ["docustack", "docustack/*", "docustack/aws-foundation:pull_request", "*/aws-foundation", "-x/y", "a/b/c", "a b/c"],
)
def test_repository_must_be_owner_slash_name_without_wildcards(dev_raw: dict[str, Any], repository: str) -> None:
    dev_raw["ci"]["repository"] = repository
    [problem] = problems(dev_raw)
    assert problem.startswith(f"{CONFIG_KEY}.ci.repository: ")


@pytest.mark.parametrize("branch", ["main*", "refs/heads/main/", "a..b", "feature?", "x:y"])
def test_deploy_branch_without_wildcards(dev_raw: dict[str, Any], branch: str) -> None:
    dev_raw["ci"]["deployBranch"] = branch
    [problem] = problems(dev_raw)
    assert problem.startswith(f"{CONFIG_KEY}.ci.deployBranch: ")


def test_cross_field_problems_are_all_reported(dev_raw: dict[str, Any]) -> None:
    del dev_raw["ci"]["deployEnvironment"]
    dev_raw["ci"]["deployRoleName"] = dev_raw["ci"]["previewRoleName"]
    del dev_raw["stateBackend"]["keyId"]
    assert problems(dev_raw) == [
        f"{CONFIG_KEY}.stateBackend.keyId: is required to adopt the key `docustack bootstrap` created (it prints "
        "the ID); write <state-key-id> until then, or set adopt: false",
        f"{CONFIG_KEY}.ci: needs deployEnvironment or deployBranch: nothing else may assume the deploy role",
        f"{CONFIG_KEY}.ci.deployRoleName: 'docustack-github-preview' is also the preview role's name",
    ]


def test_key_id_is_a_key_id_and_unknown_keys_are_refused(dev_raw: dict[str, Any]) -> None:
    dev_raw["stateBackend"]["keyId"] = "alias/docustack-pulumi-state"
    dev_raw["stateBackend"]["lockTable"] = True
    assert sorted(problems(dev_raw)) == [
        f"{CONFIG_KEY}.stateBackend.keyId: 'alias/docustack-pulumi-state' is not a KMS key ID (a UUID, not an ARN "
        "or alias) (or a <placeholder> to fill in)",
        f"{CONFIG_KEY}.stateBackend.lockTable: is not a known setting (check the spelling)",
    ]


def test_ci_is_required_in_every_stack(dev_raw: dict[str, Any]) -> None:
    del dev_raw["ci"]
    assert problems(dev_raw) == [f"{CONFIG_KEY}.ci: Field required"]


def test_role_names_default_from_the_prefix(dev_raw: dict[str, Any]) -> None:
    del dev_raw["ci"]["previewRoleName"], dev_raw["ci"]["deployRoleName"]
    settings = parse_settings(dev_raw)
    assert (settings.preview_role_name, settings.deploy_role_name) == (
        "docustack-github-preview",
        "docustack-github-deploy",
    )
