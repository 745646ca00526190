"""``docustack verify`` on the organization baseline and cost attribution, against the moto foundation.

moto has Config, Organizations and Budgets; what it lacks (CloudFormation StackSets without extras this project
does not install, Budgets' DescribeSubscribersForNotification, Cost Explorer's ListCostAllocationTags) is answered
as the program declares it by tests/moto_foundation.py (``fill_baseline_gaps``), and each test here tampers with
that answer or with moto's own state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moto_foundation import (
    LiveFoundation,
    deny,
    edit_answer,
    finding,
    run_verify,
    session,
    with_status,
)

from docustack.verify.framework import DRIFT, ERROR, OK

BASELINE = "docustack-organization-baseline"


def test_the_compliant_foundation_has_the_baseline_a_budget_per_account_and_active_tags(
    live_foundation: LiveFoundation, project_dir: Path
) -> None:
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 0, [f for f in report.findings if f.status != OK]
    ok = with_status(report, OK)
    assert ("BASELINE-STACKSET", f"stackset:{BASELINE}") in ok
    for account in ("log-archive", "audit", "dev", "staging", "prod"):
        assert ("BASELINE-INSTANCES", f"account:{account}/us-east-1") in ok
        assert ("BUDGETS", f"budget:docustack-{account}-monthly") in ok
    for account in ("dev", "staging", "prod"):  # the Log Archive and Audit recorders are CONFIG-RECORDING's
        assert ("BASELINE-RECORDERS", f"config:{account}/us-east-1/Recorder") in ok
    assert {
        ("COST-ALLOCATION-TAGS", "cost-allocation-tag:cost-center"),
        ("COST-ALLOCATION-TAGS", "cost-allocation-tag:environment"),
    } <= ok
    budget = finding(report, "BUDGETS", "budget:docustack-dev-monthly")
    assert budget.actual == budget.expected
    assert budget.expected.startswith(f"COST MONTHLY 1000.00 USD, LinkedAccount {live_foundation.account_ids['dev']}")


def _drifted(report: Any, check_id: str) -> set[str]:
    return {resource for check, resource in with_status(report, DRIFT) if check == check_id}


def test_an_account_without_the_baseline_is_reported_by_name(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any
) -> None:
    dev = live_foundation.account_ids["dev"]
    edit_answer(
        monkeypatch,
        "ListStackInstances",
        lambda answer: answer.update(Summaries=[s for s in answer["Summaries"] if s["Account"] != dev]),
        "cloudformation",
    )
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 1
    assert _drifted(report, "BASELINE-INSTANCES") == {"account:dev"}
    assert finding(report, "BASELINE-INSTANCES", "account:dev").actual == "none: this account has no baseline"


def test_an_outdated_instance_is_drift(live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any) -> None:
    staging = live_foundation.account_ids["staging"]

    def outdated(answer: dict[str, Any]) -> None:
        for summary in answer["Summaries"]:
            if summary["Account"] == staging:
                summary.update(Status="OUTDATED", StackInstanceStatus={"DetailedStatus": "FAILED"})

    edit_answer(monkeypatch, "ListStackInstances", outdated, "cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-INSTANCES") == {"account:staging/us-east-1"}
    assert finding(report, "BASELINE-INSTANCES", "account:staging/us-east-1").actual == "OUTDATED (FAILED)"


def test_an_account_the_settings_do_not_know_is_reported(live_foundation: LiveFoundation, project_dir: Path) -> None:
    """An account created by hand: no stack instance (the StackSet answer lists the declared ones), no recorder,
    no budget. Each check names it."""
    organizations = session().client("organizations")
    created = organizations.create_account(AccountName="Shadow", Email="shadow@docustack.example")
    shadow = created["CreateAccountStatus"]["AccountId"]
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 1
    assert f"account:{shadow}" in _drifted(report, "BASELINE-INSTANCES")
    assert f"config:{shadow}/us-east-1/Recorder" in _drifted(report, "BASELINE-RECORDERS")
    assert finding(report, "BASELINE-RECORDERS", f"config:{shadow}/us-east-1/Recorder").actual == "no recorder"
    assert f"account:{shadow}" in _drifted(report, "BUDGETS")


def test_a_stopped_recorder_in_a_member_account_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    live_foundation.member("prod").client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-RECORDERS") == {"config:prod/us-east-1/Recorder"}
    assert "stopped" in finding(report, "BASELINE-RECORDERS", "config:prod/us-east-1/Recorder").actual


def test_a_stack_set_that_deletes_stacks_of_leaving_accounts_is_drift(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any
) -> None:
    edit_answer(
        monkeypatch,
        "DescribeStackSet",
        lambda answer: answer["StackSet"]["AutoDeployment"].update(RetainStacksOnAccountRemoval=False),
        "cloudformation",
    )
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-STACKSET") == {f"stackset:{BASELINE}"}
    assert (
        '"RetainStacksOnAccountRemoval": false' in finding(report, "BASELINE-STACKSET", f"stackset:{BASELINE}").actual
    )


def test_a_changed_template_is_drift(live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any) -> None:
    edit_answer(
        monkeypatch,
        "DescribeStackSet",
        lambda answer: answer["StackSet"].update(TemplateBody=answer["StackSet"]["TemplateBody"] + "\n# edited\n"),
        "cloudformation",
    )
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BASELINE-STACKSET") == {f"stackset:{BASELINE}"}


def test_a_missing_stack_set_is_drift(live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any) -> None:
    deny(monkeypatch, "DescribeStackSet", code="StackSetNotFoundException", service="cloudformation")
    report = run_verify(live_foundation, project_dir)
    assert finding(report, "BASELINE-STACKSET", f"stackset:{BASELINE}").actual == "not found"


def test_a_deleted_or_changed_budget_is_drift(live_foundation: LiveFoundation, project_dir: Path) -> None:
    budgets = session().client("budgets")
    management = live_foundation.settings.account.id
    budgets.delete_budget(AccountId=management, BudgetName="docustack-dev-monthly")
    budgets.delete_notification(
        AccountId=management,
        BudgetName="docustack-prod-monthly",
        Notification={
            "NotificationType": "FORECASTED",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 100.0,
            "ThresholdType": "PERCENTAGE",
        },
    )
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "BUDGETS") == {"budget:docustack-dev-monthly", "budget:docustack-prod-monthly"}
    assert finding(report, "BUDGETS", "budget:docustack-dev-monthly").actual == "not found"
    assert "FORECASTED" not in finding(report, "BUDGETS", "budget:docustack-prod-monthly").actual


def test_an_inactive_tag_is_drift(live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any) -> None:
    edit_answer(
        monkeypatch,
        "ListCostAllocationTags",
        lambda answer: answer["CostAllocationTags"][0].update(Status="Inactive"),
        "ce",
    )
    report = run_verify(live_foundation, project_dir)
    assert _drifted(report, "COST-ALLOCATION-TAGS") == {"cost-allocation-tag:cost-center"}


def test_what_cannot_be_read_is_never_compliant(
    live_foundation: LiveFoundation, project_dir: Path, monkeypatch: Any
) -> None:
    for operation, service in (
        ("ListStackInstances", "cloudformation"),
        ("DescribeBudgets", "budgets"),
        ("ListCostAllocationTags", "ce"),
    ):
        deny(monkeypatch, operation, service=service)
    report = run_verify(live_foundation, project_dir)
    assert report.exit_code == 2
    errors = {check for check, _ in with_status(report, ERROR)}
    assert {"BASELINE-INSTANCES", "BUDGETS", "COST-ALLOCATION-TAGS"} <= errors
