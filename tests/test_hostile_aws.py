"""bootstrap, adopt-check and verify when AWS fails on one call: throttled, denied, a paginator that fails on its
second page, an endpoint that times out or cannot be reached, expired or missing credentials. Each says it could
not finish (verify and adopt-check: exit 2, never "compliant" or "no differences"; bootstrap: exit 1 naming what it
did), and a bootstrap stopped half way is finished by the next run."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto_foundation import LiveFoundation, deny, edit_answer, patch_api, run_verify, session, write_project

from docustack import adoption, cli
from docustack.adoption import compare
from docustack.bootstrap import BootstrapError, bootstrap
from docustack.settings import StackSettings, parse_settings
from docustack.state_backend_spec import StateBackendSpec
from docustack.verify.framework import ERROR

ENDPOINT = "https://organizations.us-east-1.amazonaws.com/"


def throttled(_call: Callable[[], Any], name: str, _params: dict) -> Any:
    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)


def timed_out(_call: Callable[[], Any], _name: str, _params: dict) -> Any:
    raise ReadTimeoutError(endpoint_url=ENDPOINT)


def unreachable(_call: Callable[[], Any], _name: str, _params: dict) -> Any:
    raise EndpointConnectionError(endpoint_url=ENDPOINT)


def fails_on_page_two(call: Callable[[], Any], name: str, params: dict) -> Any:
    """The first page answers and promises another; the second fails, as a throttled or denied page would.
    Organizations pages with NextToken; KMS with Marker/NextMarker and Truncated (botocore's paginator models)."""
    if "NextToken" in params or "Marker" in params:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)
    response = call()
    if name == "ListKeys":
        response.update(NextMarker="page-2", Truncated=True)
    else:
        response["NextToken"] = "page-2"
    return response


FAILURES: dict[str, Callable[[Callable[[], Any], str, dict], Any]] = {
    "throttled": throttled,
    "timed out": timed_out,
    "unreachable": unreachable,
    "fails on page 2": fails_on_page_two,
}
SIGNATURE = {
    "throttled": "ThrottlingException",
    "timed out": "ReadTimeoutError",
    "unreachable": "EndpointConnectionError",
    "fails on page 2": "ThrottlingException",
}

# botocore's messages, as bootstrap quotes them.
BOOTSTRAP_SIGNATURE = {
    "throttled": "(ThrottlingException)",
    "timed out": "Read timeout on endpoint URL",
    "unreachable": "Could not connect to the endpoint URL",
    "fails on page 2": "(ThrottlingException)",
}


# ---- verify


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_verify_with_one_failing_api_is_not_verified(
    failure: str, live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_api(monkeypatch, "ListAccounts", FAILURES[failure], "organizations")
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2 and report.result == "not verified"
    errors = [finding for finding in report.findings if finding.status == ERROR]
    assert errors and all(SIGNATURE[failure] in finding.detail for finding in errors)


def test_verify_with_expired_credentials_exits_2_naming_the_reason(
    live_foundation: LiveFoundation,
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_project(project_dir, tmp_path, "management", live_foundation.raw)
    deny(monkeypatch, "GetCallerIdentity", code="ExpiredToken", service="sts")
    assert cli.main(["--project-dir", str(tmp_path), "verify", "--stack", "management"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not verified: cannot tell who the caller is (ExpiredToken" in captured.err


@pytest.mark.parametrize(
    "command, expected, message",
    [
        ("verify", 2, "error: not verified: cannot tell who the caller is (NoCredentialsError"),
        ("adopt-check", 2, "error: not compared: cannot tell who the caller is (NoCredentialsError"),
        ("bootstrap", 1, "Unable to locate credentials"),
    ],
)
def test_no_credentials_at_all_is_a_clear_refusal(
    command: str,
    expected: int,
    message: str,
    live_foundation: LiveFoundation,
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_project(project_dir, tmp_path, "management", live_foundation.raw)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    assert cli.main(["--project-dir", str(tmp_path), command, "--stack", "management"]) == expected
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert "compliant" not in captured.out and "no differences" not in captured.out


# ---- adopt-check


def adopting(live: LiveFoundation) -> dict[str, Any]:
    raw = copy.deepcopy(live.raw)
    for entry in raw["organization"]["accounts"]:
        entry["id"] = live.account_ids[entry["name"]]
    return raw


def comparison_of(live: LiveFoundation, project_dir: Path) -> adoption.Comparison:
    settings = parse_settings(adopting(live), policy_dir=project_dir / "policies")
    return compare(settings, "management", session())


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_adopt_check_with_one_failing_api_is_never_no_differences(
    failure: str, live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_api(monkeypatch, "ListAccounts", FAILURES[failure], "organizations")
    comparison = comparison_of(live_foundation, project_dir)
    assert comparison.exit_code == adoption.EXIT_NOT_READ
    assert comparison.not_read and all(SIGNATURE[failure] in n.reason for n in comparison.not_read)
    assert "no differences" not in comparison.render_text()


def test_adopt_check_with_an_answer_it_cannot_read_says_not_read(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer of a shape the comparison does not expect (here one without the management account's ID) is
    "not read", as in verify, not a traceback."""
    edit_answer(monkeypatch, "DescribeOrganization", lambda answer: answer["Organization"].pop("MasterAccountId"))
    comparison = comparison_of(live_foundation, project_dir)
    assert comparison.exit_code == adoption.EXIT_NOT_READ
    assert any("KeyError" in n.reason for n in comparison.not_read)


# ---- bootstrap: a failing call, a run stopped half way


@pytest.fixture
def dev(aws: None, project_dir: Path) -> StackSettings:
    """The dev stack in moto's account, which manages its own organization (so needs no access role)."""
    boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
    raw = copy.deepcopy(cli.load_stack_settings(project_dir, "dev").model_dump(by_alias=True, exclude_none=True))
    raw["account"]["id"] = "123456789012"
    return parse_settings(raw, policy_dir=project_dir / "policies")


def backend_is_complete(spec: StateBackendSpec) -> None:
    s3 = boto3.Session(region_name="us-east-1").client("s3")
    assert s3.get_bucket_versioning(Bucket=spec.bucket_name)["Status"] == "Enabled"
    assert s3.get_bucket_policy(Bucket=spec.bucket_name)["Policy"]
    assert s3.get_bucket_lifecycle_configuration(Bucket=spec.bucket_name)["Rules"]


def test_bootstrap_failing_half_way_names_what_it_did_and_the_next_run_finishes(dev: StackSettings) -> None:
    with pytest.MonkeyPatch.context() as patch, pytest.raises(BootstrapError) as raised:
        patch_api(patch, "PutBucketPolicy", throttled, "s3")
        bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lambda _line: None)
    message = str(raised.value)
    assert "failed to put the TLS-only bucket policy: An error occurred (ThrottlingException)" in message
    assert "Done before the failure: create the KMS key" in message and "run bootstrap again to finish" in message
    lines: list[str] = []
    result = bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lines.append)
    assert result.changes == (
        "put the TLS-only bucket policy",
        "put the lifecycle rule for noncurrent versions",
        "tag the bucket ManagedBy=pulumi, Project=docustack, Stack=dev",
    )
    backend_is_complete(StateBackendSpec.from_settings(dev, "dev"))


def test_bootstrap_interrupted_half_way_says_so_and_the_next_run_finishes(dev: StackSettings) -> None:
    def interrupted(_call: Callable[[], Any], _name: str, _params: dict) -> Any:
        raise KeyboardInterrupt

    lines: list[str] = []
    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch_api(patch, "PutBucketVersioning", interrupted, "s3")
        bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lines.append)
    assert lines[-1].startswith("  ! interrupted while trying to turn on versioning; done before: create the KMS key")
    assert lines[-1].endswith("run bootstrap again to finish")
    again: list[str] = []
    result = bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=again.append)
    assert result.changes[0] == "turn on versioning"
    assert not any("look like the state key" in line or "looks like a state key" in line for line in again)
    backend_is_complete(StateBackendSpec.from_settings(dev, "dev"))
    # And a third run has nothing left to do.
    assert bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lambda _line: None).changes == ()


def test_bootstrap_stopped_between_key_and_alias_finds_its_key_again(dev: StackSettings) -> None:
    with pytest.MonkeyPatch.context() as patch, pytest.raises(BootstrapError, match="Could not connect"):
        patch_api(patch, "CreateAlias", unreachable, "kms")
        bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lambda _line: None)
    kms = boto3.Session(region_name="us-east-1").client("kms")
    made = [key["KeyId"] for key in kms.list_keys()["Keys"]]
    result = bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lambda _line: None)
    assert [key["KeyId"] for key in kms.list_keys()["Keys"]] == made == [result.key_id]  # no second key


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_bootstrap_that_cannot_read_changes_nothing(failure: str, dev: StackSettings) -> None:
    with (
        pytest.MonkeyPatch.context() as patch,
        pytest.raises(BootstrapError, match="could not read the account's state bucket and key") as raised,
    ):
        patch_api(patch, "ListKeys", FAILURES[failure], "kms")
        bootstrap(dev, "dev", boto3.Session(region_name="us-east-1"), echo=lambda _line: None)
    assert BOOTSTRAP_SIGNATURE[failure] in str(raised.value)
    assert boto3.Session(region_name="us-east-1").client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize("setting", ["AWS_MAX_ATTEMPTS=abc", "AWS_ENDPOINT_URL=not-a-url"])
@pytest.mark.parametrize(
    "command, expected, message",
    [
        ("verify", 2, "error: not verified: cannot tell who the caller is (unexpected ValueError"),
        ("adopt-check", 2, "error: not compared: cannot tell who the caller is (unexpected ValueError"),
        ("bootstrap", 1, "error: could not read the account's state bucket and key"),
    ],
)
def test_a_malformed_aws_setting_in_the_environment_is_a_refusal_not_a_traceback(
    setting: str,
    command: str,
    expected: int,
    message: str,
    live_foundation: LiveFoundation,
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """botocore raises ValueError, not one of its own errors, for these."""
    write_project(project_dir, tmp_path, "management", live_foundation.raw)
    name, _, value = setting.partition("=")
    monkeypatch.setenv(name, value)
    assert cli.main(["--project-dir", str(tmp_path), command, "--stack", "management"]) == expected
    captured = capsys.readouterr()
    assert captured.err.startswith(message), captured.err
    assert "compliant" not in captured.out and "no differences" not in captured.out
