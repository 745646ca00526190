"""The perimeter attacked: requests an account without an ID yet could smuggle past the simulator, and the
paths round the Sandbox's SCP that AWS documents.

An account of the settings without an ID yet (``prod``, ``staging``) may be any account AWS has not told us
about, but not one whose ID the settings give to another account: an ARN in dev's account is never prod's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docustack import cli

DEV = "216482851263"
MANAGEMENT = "348665872333"


def _run(capsys: pytest.CaptureFixture[str], project_dir: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--project-dir", str(project_dir), "simulate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("owner", [DEV, MANAGEMENT])
def test_a_resource_account_without_an_id_is_not_an_arn_of_another_known_account(
    capsys: pytest.CaptureFixture[str], project_dir: Path, owner: str
) -> None:
    key = f"arn:aws:kms:us-east-1:{owner}:key/k"
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "dev",
        "--action",
        "kms:Decrypt",
        "--resource",
        key,
        "--resource-account",
        "prod",
    )
    assert (code, out) == (2, ""), out
    assert "--resource-account 'prod'" in err and owner in err


def test_a_resource_account_without_an_id_may_hold_an_arn_of_an_unknown_id(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    key = "arn:aws:kms:us-east-1:333344445555:key/k"
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "dev",
        "--action",
        "kms:Decrypt",
        "--resource",
        key,
        "--resource-account",
        "prod",
    )
    assert (code, err) == (0, ""), err
    assert "RCPs evaluated (prod)" in out


@pytest.mark.parametrize("principal_account", [DEV, MANAGEMENT])
def test_a_caller_without_an_id_is_not_a_principal_of_another_known_account(
    capsys: pytest.CaptureFixture[str], project_dir: Path, principal_account: str
) -> None:
    """SCPs bind a principal through its own account: prod's SCPs say nothing of a dev role."""
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "prod",
        "--principal",
        f"arn:aws:iam::{principal_account}:role/x",
        "--action",
        "kms:Decrypt",
        "--resource",
        f"arn:aws:kms:us-east-1:{DEV}:key/k",
    )
    assert (code, out) == (2, ""), out
    assert principal_account in err and "prod" in err


def test_a_web_identity_of_another_known_account_is_not_called_in_an_account_without_an_id(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    code, out, err = _run(
        capsys,
        project_dir,
        "--account",
        "prod",
        "--principal",
        f"arn:aws:iam::{DEV}:oidc-provider/token.actions.githubusercontent.com",
        "--action",
        "sts:AssumeRoleWithWebIdentity",
        "--resource",
        f"arn:aws:iam::{DEV}:role/ci",
        "--context",
        "token.actions.githubusercontent.com:sub=repo:<github-repository>:ref:refs/heads/main",
    )
    assert (code, out) == (2, ""), out
    assert DEV in err


# ---------------------------------------------------------------------------------------------------------
# Actions the resource keys do not cover. AWS's data-perimeter examples (aws-samples/data-perimeter-policy-examples,
# service_control_policies/README.md, "ProtectActionsNotSupportedByPrimaryDPControls") list actions that
# aws:ResourceOrgID and its siblings do not cover, citing the IAM global condition keys page: ec2:CopySnapshot of a
# snapshot another account shares, VPC peering, a VPC endpoint to another account's service, Route 53 private zones.
# The Sandbox's DenyReachIntoWorkloads decides on aws:ResourceOrgPaths, so for these the simulator cannot say what
# AWS decides: it must not answer "denied" from a key AWS may not send.

SANDBOX_ROLE = "arn:aws:iam::777788889999:role/developer"


@pytest.fixture(scope="module")
def organization() -> Any:
    from docustack import project
    from docustack.probes import with_probe_accounts
    from docustack.simulator import OrganizationModel
    from tests.conftest import PROJECT_DIR

    return with_probe_accounts(OrganizationModel.from_settings(project.load_stack_settings(PROJECT_DIR, "management")))


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("ec2:CopySnapshot", "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"),
        ("ec2:AcceptVpcPeeringConnection", "arn:aws:ec2:us-east-1:333344445555:vpc-peering-connection/pcx-1"),
        ("route53:AssociateVPCWithHostedZone", "arn:aws:route53:::hostedzone/Z1"),
    ],
)
def test_a_sandbox_request_the_resource_keys_do_not_cover_is_not_decided_from_them(
    organization: Any, action: str, resource: str
) -> None:
    from docustack import simulator
    from docustack.simulator import Request

    request = Request(action, "sandbox", "us-east-1", SANDBOX_ROLE, resource, {}, resource_account="prod")
    with pytest.raises(simulator.InvalidRequest, match="aws:ResourceOrgPaths") as caught:
        simulator.evaluate(organization, request)
    assert "data-perimeter" in str(caught.value)


def test_a_sandbox_request_on_a_covered_action_is_still_denied(organization: Any) -> None:
    from docustack import simulator
    from docustack.simulator import Request

    volume = "arn:aws:ec2:us-east-1:333344445555:volume/vol-1"
    request = Request("ec2:AttachVolume", "sandbox", "us-east-1", SANDBOX_ROLE, volume, {}, resource_account="prod")
    decision = simulator.evaluate(organization, request)
    assert not decision.allowed
    assert [m.policy for m in decision.denied_by] == ["sandbox-no-phi"]


def test_a_resource_account_id_that_may_be_a_member_without_an_id_is_not_taken_as_outside(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    """prod has no ID in the settings yet: 000000000000 may be prod, whose RCPs deny an outsider; the answer for
    --resource-account 000000000000 must be what the ARN alone gets (exit 2), not "RCPs do not bind it"."""
    outsider = ("--account", "999988887777", "--principal", "arn:aws:iam::999988887777:role/attacker")
    outsider += ("--absent", "aws:PrincipalOrgID", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/x")
    code, out, err = _run(capsys, project_dir, *outsider, "--resource-account", "000000000000")
    assert (code, out) == (2, ""), out
    assert "--resource-account" in err
    # Named, it is decided.
    code, out, _ = _run(capsys, project_dir, *outsider, "--resource-account", "prod")
    assert code == 1 and "rcp-identity-perimeter" in out


# ---------------------------------------------------------------------------------------------------------
# Elastic Load Balancing access logs: in the Regions available before August 2022, ALB and Classic Load Balancer
# access logs are written to S3 by an AWS-owned account of the Region (us-east-1: 127311923021), not by a service
# principal (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html); AWS's
# data-perimeter examples exempt it with aws:PrincipalAccount in EnforceOrgIdentities
# (https://github.com/aws-samples/data-perimeter-policy-examples/blob/main/resource_control_policies/README.md).

ELB_US_EAST_1 = "127311923021"


def _elb_write(account: str, principal_account: str, resource_account: str = "prod") -> Any:
    from docustack.simulator import Request

    return Request(
        "s3:PutObject",
        account,
        "us-east-1",
        f"arn:aws:iam::{principal_account}:root",
        "arn:aws:s3:::prod-alb-logs/AWSLogs/333344445555/elasticloadbalancing/x.log.gz",
        {},
        frozenset({"aws:PrincipalOrgID"}),
        resource_account=resource_account,
    )


def test_load_balancer_access_logs_reach_a_workloads_bucket(organization: Any) -> None:
    from docustack import simulator

    decision = simulator.evaluate(organization, _elb_write(ELB_US_EAST_1, ELB_US_EAST_1))
    assert decision.allowed, decision.reason


def test_any_other_outside_account_is_still_denied(organization: Any) -> None:
    from docustack import simulator

    decision = simulator.evaluate(organization, _elb_write("999988887777", "999988887777"))
    assert not decision.allowed
    assert [(m.policy, m.sid) for m in decision.denied_by] == [("rcp-identity-perimeter", "EnforceOrgIdentities")]


def test_every_legacy_region_of_the_allowed_regions_has_its_load_balancing_account() -> None:
    from docustack import project
    from policies import perimeter
    from tests.conftest import PROJECT_DIR

    settings = project.load_stack_settings(PROJECT_DIR, "management")
    for region in settings.allowed_regions:
        assert region in perimeter.ELB_LOG_DELIVERY_ACCOUNTS, region
    assert perimeter.ELB_LOG_DELIVERY_ACCOUNTS["us-east-1"] == ELB_US_EAST_1
