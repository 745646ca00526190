"""`docustack ci-context`: what a CI job needs for a stack, derived from its settings, refused while not ready."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import filled_in_settings

from docustack import ci_context, cli, project

KEY_ARN = "arn:aws:kms:us-east-1:216482851263:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_read_only_context_of_a_filled_in_stack() -> None:
    context = ci_context.context_for(filled_in_settings("dev"), "dev", "read-only")
    assert context.role_arn == "arn:aws:iam::216482851263:role/docustack-github-preview"
    assert context.region == "us-east-1"
    url = urlparse(context.cloud_url)
    assert (url.scheme, url.netloc) == ("s3", "docustack-pulumi-state-216482851263")
    # The header the Require S3 Encryption SCP demands travels with every state write.
    assert parse_qs(url.query) == {"region": ["us-east-1"], "ssetype": ["aws:kms"], "kmskeyid": [KEY_ARN]}
    assert context.secrets_provider == "awskms://alias/docustack-pulumi-state?region=us-east-1"
    assert "role-arn=arn:aws:iam::216482851263:role/docustack-github-deploy" not in context.github_output()


def test_verify_uses_the_read_only_role_but_needs_every_placeholder_filled() -> None:
    dev = filled_in_settings("dev")
    assert ci_context.context_for(dev, "dev", "verify").role_arn.endswith(":role/docustack-github-preview")
    management = filled_in_settings("management")  # emails, names, organization ID still to fill in
    with pytest.raises(ci_context.NotReady, match=r"not ready for verify jobs: fill in organization\.importId"):
        ci_context.context_for(management, "management", "verify")


def test_deploy_context_uses_the_deploy_role() -> None:
    context = ci_context.context_for(filled_in_settings("dev"), "dev", "deploy")
    assert context.role_arn == "arn:aws:iam::216482851263:role/docustack-github-deploy"
    assert "role-arn=arn:aws:iam::216482851263:role/docustack-github-deploy" in context.github_output().splitlines()


def test_placeholders_keep_a_stack_from_ci(project_dir: Path) -> None:
    with pytest.raises(ci_context.NotReady, match=r"fill in stateBackend\.keyId, ci\.repository in Pulumi\.dev\.yaml"):
        ci_context.context_for(project.load_stack_settings(project_dir, "dev"), "dev", "read-only")
    # A read-only job needs the account, key and repository; a deploy needs every placeholder filled in.
    dev = filled_in_settings("dev")
    assert ci_context.missing_for(dev, "read-only") == []
    management = filled_in_settings("management")
    assert ci_context.missing_for(management, "read-only") == []
    assert "docustack:settings.organization.importId" in ci_context.missing_for(management, "deploy")


def test_deploy_environment_must_be_the_stack_name() -> None:
    dev = filled_in_settings("dev")
    renamed = dev.model_copy(update={"ci": dev.ci.model_copy(update={"deploy_environment": "development"})})
    with pytest.raises(ci_context.NotReady, match=r"set ci\.deployEnvironment to 'dev'"):
        ci_context.context_for(renamed, "dev", "deploy")


def test_matrix_lists_only_ready_stacks(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project-dir", str(project_dir), "ci-context", "--matrix", "--role", "read-only"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "stacks=[]"  # the repository's stack files still have placeholders
    assert "skipped staging: stack 'staging' is not ready for read-only jobs: fill in account.id" in captured.err


def test_not_ready_stack_exits_1(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project-dir", str(project_dir), "ci-context", "--stack", "prod", "--role", "deploy"]) == 1
    assert "is not ready for deploy jobs" in capsys.readouterr().err


def _with_ci(stack: str, **ci: object):
    settings = filled_in_settings(stack)
    return settings.model_copy(update={"ci": settings.ci.model_copy(update=ci)})


def test_the_trusted_subjects_in_the_name_form() -> None:
    context = ci_context.context_for(filled_in_settings("dev"), "dev", "read-only")
    lines = context.github_output().splitlines()
    assert "subject-prefix=repo:docustack/aws-foundation" in lines
    assert (
        'trusted-subjects=["repo:docustack/aws-foundation:pull_request", '
        '"repo:docustack/aws-foundation:ref:refs/heads/main"]'
    ) in lines


def test_the_trusted_subjects_in_the_immutable_id_form() -> None:
    prefix = "repo:docustack@1234567/aws-foundation@89012345"
    read_only = ci_context.context_for(_with_ci("dev", subject_prefix=prefix), "dev", "read-only")
    assert read_only.subject_prefix == prefix
    assert read_only.trusted_subjects == (f"{prefix}:pull_request", f"{prefix}:ref:refs/heads/main")
    deploy = ci_context.context_for(_with_ci("dev", owner_id=1234567, repository_id=89012345), "dev", "deploy")
    assert deploy.trusted_subjects == (f"{prefix}:environment:dev",)
    assert f'trusted-subjects=["{prefix}:environment:dev"]' in deploy.github_output().splitlines()


def test_a_subject_prefix_placeholder_keeps_a_stack_from_read_only_jobs() -> None:
    dev = _with_ci("dev", subject_prefix="<subject-prefix>")
    with pytest.raises(ci_context.NotReady, match=r"fill in ci\.subjectPrefix in Pulumi\.dev\.yaml"):
        ci_context.context_for(dev, "dev", "read-only")
