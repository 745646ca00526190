"""``docustack verify`` as the scheduled workflow runs it: the read-only CI role of the management account reads every
member account through ``<prefix>-readonly``, which the management stack makes in the Log Archive and Audit accounts
and the member read-only StackSet in every other one. And the checks of that StackSet, its instances and the roles.

The moto foundation (tests/moto_foundation.py) answers both StackSets as the program declares them and makes the
role the StackSet would make in each member account. The scheduled path is modelled at the STS call: an
``AssumeRole`` goes through only where the CI role's ``assume-member-read-only`` policy allows it (its resource, an
account of the organization) and the role exists there, as AWS would decide; anything else, the access role
``OrganizationAccountAccessRole`` included, is refused.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.iam.models import iam_backends
from moto_foundation import LiveFoundation, edit_answer, finding, patch_api, run_verify, with_status

from components.github_ci_roles import assume_member_read_only_policy
from docustack.verify.framework import DRIFT, ERROR, OK

READ_ONLY_STACK_SET = "docustack-member-read-only"
ROLE = "docustack-readonly"
# Every check that reads inside member accounts, other than the Log Archive's and Audit's own services.
MEMBER_READS = ("BASELINE-RECORDERS", "ORG-MEMBER-ACCESS-ROLE", "BASELINE-READONLY-ROLE")


def _role_exists(account_id: str, name: str) -> bool:
    return any(role.name == name for role in iam_backends[account_id]["global"].roles.values())


def as_the_scheduled_ci_role(monkeypatch: pytest.MonkeyPatch, live: LiveFoundation) -> list[str]:
    """Refuse every AssumeRole the read-only CI role could not make; returns the role ARNs assumed."""
    [statement] = assume_member_read_only_policy(f"arn:aws:iam::*:role/{ROLE}")["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
    organization_accounts = {a["Id"] for a in live.organizations.list_accounts()["Accounts"]}
    assumed: list[str] = []

    def assume(call: Callable[[], Any], operation: str, params: dict) -> Any:
        arn = params["RoleArn"]
        account_id, role_name = arn.split(":")[4], arn.rsplit("/", 1)[-1]
        allowed = (
            fnmatch.fnmatchcase(arn, statement["Resource"])
            and account_id in organization_accounts  # aws:ResourceOrgID = the caller's organization
            and _role_exists(account_id, role_name)
        )
        if not allowed:
            message = f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, operation)
        assumed.append(arn)
        return call()

    patch_api(monkeypatch, "AssumeRole", assume, "sts")
    return assumed


def _members(live: LiveFoundation) -> dict[str, str]:
    return {name: account_id for name, account_id in live.account_ids.items()}


def test_the_scheduled_verify_reads_every_member_account_through_its_read_only_role(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assumed = as_the_scheduled_ci_role(monkeypatch, live_foundation)
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 0, [f for f in report.findings if f.status != OK]
    assert not [f for f in report.findings if f.status == ERROR]
    ok = with_status(report, OK)
    members = _members(live_foundation)
    for name in members:
        if name not in ("log-archive", "audit"):  # their recorders are CONFIG-RECORDING's
            assert ("BASELINE-RECORDERS", f"config:{name}/us-east-1/Recorder") in ok, name
            assert ("BASELINE-READONLY-INSTANCES", f"account:{name}/us-east-1") in ok, name
            assert ("BASELINE-READONLY-ROLE", f"account:{name}/role:{ROLE}/read-only") in ok, name
        else:
            assert ("BASELINE-READONLY-INSTANCES", f"account:{name}") in ok, name
    assert ("BASELINE-READONLY-STACKSET", f"stackset:{READ_ONLY_STACK_SET}") in ok
    # Through <prefix>-readonly in every member account, and through nothing else.
    assert {arn.split(":")[4] for arn in assumed} == set(members.values())
    assert {arn.rsplit("/", 1)[-1] for arn in assumed} == {ROLE}


def test_without_the_role_in_an_account_the_scheduled_verify_cannot_see_it(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state before the member read-only StackSet: the role only in the Log Archive and Audit accounts. The
    check above must be able to fail."""
    staging = live_foundation.member("staging").client("iam")
    staging.delete_role_policy(RoleName=ROLE, PolicyName="read-only")
    staging.delete_role(RoleName=ROLE)
    as_the_scheduled_ci_role(monkeypatch, live_foundation)
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    errors = {(f.check_id, f.resource) for f in report.findings if f.status == ERROR}
    assert ("BASELINE-RECORDERS", "config:staging/us-east-1/Recorder") in errors
    assert ("BASELINE-READONLY-ROLE", f"account:staging/role:{ROLE}") in errors
    assert {check for check, resource in errors} <= {*MEMBER_READS}
    assert all("staging" in resource for _, resource in errors)


def _read_only_summaries(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    def edited(answer: dict[str, Any]) -> None:
        if answer["Summaries"] and answer["Summaries"][0]["StackSetId"].startswith(f"{READ_ONLY_STACK_SET}:"):
            edit(answer["Summaries"])

    return edited


def _drifted(report: Any, check_id: str) -> set[str]:
    return {resource for check, resource in with_status(report, DRIFT) if check == check_id}


def test_an_account_without_the_role_instance_is_reported_by_name(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = live_foundation.account_ids["prod"]

    def drop(summaries: list[dict[str, Any]]) -> None:
        summaries[:] = [s for s in summaries if s["Account"] != prod]

    edit_answer(monkeypatch, "ListStackInstances", _read_only_summaries(drop), "cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 1
    assert _drifted(report, "BASELINE-READONLY-INSTANCES") == {"account:prod"}
    assert finding(report, "BASELINE-READONLY-INSTANCES", "account:prod").actual == (
        "none: this account has no read-only role"
    )
    assert _drifted(report, "BASELINE-INSTANCES") == set()  # the Config baseline's instances are untouched


def test_an_instance_in_the_log_archive_account_is_a_second_creator(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_archive = live_foundation.account_ids["log-archive"]

    def add(summaries: list[dict[str, Any]]) -> None:
        summaries.append(
            {
                "StackSetId": f"{READ_ONLY_STACK_SET}:1",
                "Account": log_archive,
                "Region": "us-east-1",
                "Status": "OUTDATED",
                "StackInstanceStatus": {"DetailedStatus": "FAILED"},
            }
        )

    edit_answer(monkeypatch, "ListStackInstances", _read_only_summaries(add), "cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-READONLY-INSTANCES") == {"account:log-archive"}
    assert finding(report, "BASELINE-READONLY-INSTANCES", "account:log-archive").actual == (
        "instance in us-east-1 OUTDATED"
    )


def test_an_instance_outside_the_home_region_is_drift(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = live_foundation.account_ids["dev"]

    def add(summaries: list[dict[str, Any]]) -> None:
        summaries.append({"StackSetId": f"{READ_ONLY_STACK_SET}:1", "Account": dev, "Region": "eu-west-1"})
        summaries[-1]["Status"] = "CURRENT"

    edit_answer(monkeypatch, "ListStackInstances", _read_only_summaries(add), "cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-READONLY-INSTANCES") == {"account:dev/eu-west-1"}


def test_a_role_widened_by_the_accounts_admin_is_drift(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member account's administrator who attached ReadOnlyAccess (it reads data), added a statement or trusted
    another account would widen what the read-only CI role reaches there."""
    iam = live_foundation.member("prod").client("iam")
    # moto loads no AWS managed policy: a customer managed one stands for ReadOnlyAccess
    broad = iam.create_policy(
        PolicyName="read-everything",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*:Get*","Resource":"*"}]}',
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=broad)
    iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="read-only",
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"*"}]}',
    )
    iam.update_assume_role_policy(
        RoleName=ROLE,
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}',
    )
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 1
    prefix = f"account:prod/role:{ROLE}"
    assert _drifted(report, "BASELINE-READONLY-ROLE") == {
        f"{prefix}/ManagedPolicies",
        f"{prefix}/read-only",
        f"{prefix}/Trust",
    }
    assert finding(report, "BASELINE-READONLY-ROLE", f"{prefix}/ManagedPolicies").actual == broad


def test_a_changed_read_only_template_is_drift(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(answer: dict[str, Any]) -> None:
        if answer["StackSet"]["StackSetName"] == READ_ONLY_STACK_SET:
            answer["StackSet"]["TemplateBody"] = answer["StackSet"]["TemplateBody"].replace("3600", "43200")

    edit_answer(monkeypatch, "DescribeStackSet", edit, "cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-READONLY-STACKSET") == {f"stackset:{READ_ONLY_STACK_SET}"}
    assert _drifted(report, "BASELINE-STACKSET") == set()
