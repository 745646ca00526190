"""docustack verify on the tag, AI opt-out and EC2 declarative policies, attacked: what a person with the
management account could attach by hand. SCPs do not bind the management account; whether each of these types
applies there is not relied on (UNVERIFIED per type): an undeclared one attached there is drift like anywhere
else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto_foundation import LiveFoundation, finding, run_verify, with_status

from docustack.verify.framework import DRIFT, ERROR

ROGUE = {
    "AISERVICES_OPT_OUT_POLICY": {"services": {"default": {"opt_out_policy": {"@@assign": "optIn"}}}},
    "TAG_POLICY": {"tags": {"data-classification": {"tag_value": {"@@append": ["public-ish"]}}}},
    "DECLARATIVE_POLICY_EC2": {"ec2_attributes": {"serial_console_access": {"status": {"@@assign": "enabled"}}}},
}


@pytest.mark.parametrize("policy_type", list(ROGUE))
def test_an_undeclared_policy_on_the_management_account_is_drift(
    live_foundation: LiveFoundation, project_dir: Path, policy_type: str
) -> None:
    f = live_foundation
    created = f.organizations.create_policy(
        Name="by-hand", Description="x", Type=policy_type, Content=json.dumps(ROGUE[policy_type])
    )
    f.organizations.attach_policy(PolicyId=created["Policy"]["PolicySummary"]["Id"], TargetId=f.settings.account.id)
    report = run_verify(f, project_dir)
    assert with_status(report, DRIFT) == {("ORG-POLICY-UNDECLARED", f"account:management/{policy_type}")}
    assert with_status(report, ERROR) == set()
    assert finding(report, "ORG-POLICY-UNDECLARED", f"account:management/{policy_type}").actual == "undeclared: by-hand"
    assert report.exit_code == 1
