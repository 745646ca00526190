"""`docustack verify`'s CI-ROLE-TRUST check with GitHub's immutable-ID subjects: compliant when the roles trust the
declared form, drift naming the live subjects when they still trust the other one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import filled_in_config
from moto_foundation import LiveAccount, build_account_stack, finding, run_verify, sign_in, with_status

from docustack.settings import CONFIG_KEY, parse_settings
from docustack.verify.framework import DRIFT, OK

DEV_ACCOUNT_ID = "216482851263"
ID_PREFIX = "repo:docustack@1234567/aws-foundation@89012345"
PREVIEW_ROLE = "docustack-github-preview"
DEPLOY_ROLE = "docustack-github-deploy"


def dev_raw(**ci: Any) -> dict[str, Any]:
    raw = copy.deepcopy(filled_in_config("dev")[CONFIG_KEY])
    raw["ci"].update(ci)
    return raw


@pytest.fixture
def signed_in(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(monkeypatch, DEV_ACCOUNT_ID)


def declaring(live: LiveAccount, **ci: Any) -> LiveAccount:
    """The same live account, checked against settings that declare ``ci``."""
    raw = copy.deepcopy(live.raw)
    raw["ci"].update(ci)
    return LiveAccount(parse_settings(raw, source="test"), raw)


def test_roles_trusting_the_id_form_are_compliant(signed_in: None, project_dir: Path) -> None:
    live = build_account_stack(dev_raw(subjectPrefix=ID_PREFIX), "dev")
    report = run_verify(live, project_dir, "dev")
    trust = finding(report, "CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}")
    assert trust.status == OK
    assert f"StringEquals {ID_PREFIX}:pull_request" in trust.expected
    assert finding(report, "CI-ROLE-TRUST", f"role:{DEPLOY_ROLE}").status == OK
    # The same roles, declared by owner and repository IDs instead, are the same trust.
    by_ids = run_verify(declaring(live, subjectPrefix=None, ownerId=1234567, repositoryId=89012345), project_dir, "dev")
    assert finding(by_ids, "CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}").status == OK


def test_roles_still_trusting_the_name_form_are_drift(signed_in: None, project_dir: Path) -> None:
    live = build_account_stack(dev_raw(), "dev")  # the roles trust repo:docustack/aws-foundation
    report = run_verify(declaring(live, subjectPrefix=ID_PREFIX), project_dir, "dev")
    assert {("CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}"), ("CI-ROLE-TRUST", f"role:{DEPLOY_ROLE}")} <= with_status(
        report, DRIFT
    )
    trust = finding(report, "CI-ROLE-TRUST", f"role:{PREVIEW_ROLE}")
    assert "live sub: StringEquals repo:docustack/aws-foundation:pull_request" in trust.detail
    assert f"declared subject prefix: {ID_PREFIX}" in trust.detail
    assert report.exit_code != 0


def test_roles_trusting_the_id_form_while_settings_say_names_are_drift(signed_in: None, project_dir: Path) -> None:
    live = build_account_stack(dev_raw(subjectPrefix=ID_PREFIX), "dev")
    report = run_verify(declaring(live, subjectPrefix=None), project_dir, "dev")
    trust = finding(report, "CI-ROLE-TRUST", f"role:{DEPLOY_ROLE}")
    assert trust.status == DRIFT
    assert f"live sub: StringEquals {ID_PREFIX}:environment:dev" in trust.detail
