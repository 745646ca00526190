"""The state backend under the Workloads SCPs: what the login URL's header and bootstrap's role make possible."""

from __future__ import annotations

import pytest

from docustack import simulator
from docustack.settings import StackSettings
from docustack.state_backend_spec import StateBackendSpec

DEV = "216482851263"
STATE_OBJECT = f"arn:aws:s3:::docustack-pulumi-state-{DEV}/.pulumi/stacks/docustack/dev.json"


@pytest.fixture
def model(management_settings: StackSettings) -> simulator.OrganizationModel:
    return simulator.OrganizationModel.from_settings(management_settings)


def put_state(model: simulator.OrganizationModel, context: dict[str, str]) -> simulator.Decision:
    request = simulator.Request(
        action="s3:PutObject",
        account="dev",
        region="us-east-1",
        principal_arn=f"arn:aws:iam::{DEV}:role/docustack-github-deploy",
        resource=STATE_OBJECT,
        context=context,
    )
    return simulator.evaluate(model, request)


def test_state_writes_with_the_login_urls_header_are_allowed_in_dev(model: simulator.OrganizationModel) -> None:
    # ssetype=aws:kms in the login URL: the CLI sends x-amz-server-side-encryption: aws:kms on every write.
    login_url = StateBackendSpec("docustack", "dev", DEV, "us-east-1").login_url(f"arn:aws:kms:us-east-1:{DEV}:key/k")
    assert "ssetype=aws:kms" in login_url
    decision = put_state(model, {"s3:x-amz-server-side-encryption": "aws:kms"})
    assert decision.allowed, decision.reason


def test_state_writes_without_the_header_are_denied_in_dev(model: simulator.OrganizationModel) -> None:
    decision = put_state(model, {})
    assert not decision.allowed
    assert [(d.policy, d.sid) for d in decision.denied_by] == [("require-s3-encryption", "DenyUnencryptedS3Uploads")]


@pytest.mark.parametrize(
    ("role", "allowed"), [("OrganizationAccountAccessRole", True), ("docustack-github-deploy", False)]
)
def test_only_exempt_roles_may_set_block_public_access_in_dev(
    model: simulator.OrganizationModel, role: str, allowed: bool
) -> None:
    """Why bootstrap and the adopting `pulumi up` run as an exempt role in a Workloads account."""
    request = simulator.Request(
        action="s3:PutBucketPublicAccessBlock",
        account="dev",
        region="us-east-1",
        principal_arn=f"arn:aws:iam::{DEV}:role/{role}",
        resource=f"arn:aws:s3:::docustack-pulumi-state-{DEV}",
    )
    assert simulator.evaluate(model, request).allowed is allowed
