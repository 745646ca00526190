"""The ci settings' OIDC subject forms: GitHub's immutable-ID prefix as its API reports it, owner and repository
IDs, or the name form; wildcards and malformed values refused with the field named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from docustack import project
from docustack.settings import CONFIG_KEY, SettingsError, parse_settings

ID_PREFIX = "repo:docustack@1234567/aws-foundation@89012345"


@pytest.fixture
def dev_raw(project_dir) -> dict[str, Any]:
    raw = copy.deepcopy(project.read_stack_config(project_dir, "dev")[CONFIG_KEY])
    raw["ci"]["repository"] = "docustack/aws-foundation"
    return raw


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, source="test")
    return [str(problem) for problem in caught.value.problems]


def test_the_name_form_without_ids(dev_raw: dict[str, Any]) -> None:
    assert parse_settings(dev_raw).ci.oidc_subject_prefix() == "repo:docustack/aws-foundation"


@pytest.mark.parametrize(
    "prefix",
    [
        ID_PREFIX,
        "repo:DocuStack@1234567/aws-foundation@89012345",  # GitHub compares names caselessly
        "repo:docustack-1234567/aws-foundation-89012345",  # the first announcement's delimiter: taken as given
        "repo:docustack/aws-foundation",  # what the API reports for a repository still on the name form
        "<subject-prefix>",
    ],
)
def test_the_prefix_is_taken_as_github_reports_it(dev_raw: dict[str, Any], prefix: str) -> None:
    dev_raw["ci"]["subjectPrefix"] = prefix
    assert parse_settings(dev_raw).ci.oidc_subject_prefix() == prefix


def test_owner_and_repository_ids_make_the_documented_form(dev_raw: dict[str, Any]) -> None:
    dev_raw["ci"].update(ownerId=1234567, repositoryId=89012345)
    assert parse_settings(dev_raw).ci.oidc_subject_prefix() == ID_PREFIX


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("repo:docustack@*/aws-foundation@89012345", "has a wildcard"),
        ("repo:docustack@1234567/aws-foundation@8901234?", "has a wildcard"),
        ("repo:docustack@1234567/aws-foundation@89012345:pull_request", "has a ':'"),
        ("repo:docustack@1234567/aws-foundation@89012345:*", "has a wildcard"),
        ("docustack@1234567/aws-foundation@89012345", "starts with 'repo:'"),
        ("repo:docustack@1234567", "is not 'repo:<owner>/<repository>'"),
        ("repo:docustack@1234567/aws-foundation@89012345/x", "is not 'repo:<owner>/<repository>'"),
        ("repo:docustack@1234567/aws-foundation @89012345", "whitespace"),
        ("repo:docustack@1234567/aws-foundation\t@89012345", "whitespace"),
        ("", "starts with 'repo:'"),
    ],
)
def test_malformed_prefixes_are_refused(dev_raw: dict[str, Any], prefix: str, reason: str) -> None:
    dev_raw["ci"]["subjectPrefix"] = prefix
    [problem] = problems(dev_raw)
    assert problem.startswith(f"{CONFIG_KEY}.ci.subjectPrefix: ")
    assert reason in problem


@pytest.mark.parametrize(
    "prefix",
    [
        "repo:someone-else@1234567/aws-foundation@89012345",
        "repo:docustack@1234567/other-repo@89012345",
        # Names that merely begin with ours are other repositories.
        "repo:docustackevil/aws-foundation-fork",
        "repo:docustack-attacker@9/aws-foundation2@1",
        "repo:docustack@1234567/aws-foundation-fork@89012345",
    ],
)
def test_a_prefix_of_another_repository_is_refused(dev_raw: dict[str, Any], prefix: str) -> None:
    dev_raw["ci"]["subjectPrefix"] = prefix
    [problem] = problems(dev_raw)
    assert problem.startswith(f"{CONFIG_KEY}.ci: ")
    assert "is not a subject prefix of the repository 'docustack/aws-foundation'" in problem


@pytest.mark.parametrize(
    ("ids", "field", "reason"),
    [
        ({"ownerId": 1234567}, "ci", "ownerId and repositoryId go together"),
        ({"repositoryId": 89012345}, "ci", "ownerId and repositoryId go together"),
        ({"ownerId": 0, "repositoryId": 89012345}, "ci.ownerId", "greater than or equal to 1"),
        ({"ownerId": "1234567", "repositoryId": 89012345}, "ci.ownerId", "valid integer"),
        ({"ownerId": "*", "repositoryId": 89012345}, "ci.ownerId", "valid integer"),
        ({"ownerId": True, "repositoryId": 89012345}, "ci.ownerId", "valid integer"),
        ({"ownerId": 1234567, "repositoryId": 89012345, "subjectPrefix": ID_PREFIX}, "ci", "not both"),
    ],
)
def test_ids_are_positive_integers_given_together(
    dev_raw: dict[str, Any], ids: dict[str, Any], field: str, reason: str
) -> None:
    dev_raw["ci"].update(ids)
    [problem] = problems(dev_raw)
    assert problem.startswith(f"{CONFIG_KEY}.{field}: ")
    assert reason in problem
