"""Run every check of a stack against the live account and build the report, refusing when that makes no sense."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import boto3

from docustack.settings import CONFIG_KEY, StackSettings
from docustack.verify.framework import CheckContext, checks_for, run_check, signed_in_read_only, stack_kind
from docustack.verify.report import Report, config_revision


class VerifyRefused(Exception):
    """The checks would mean nothing: placeholders in the settings, or credentials for another account."""


def run(
    settings: StackSettings,
    stack: str,
    session: boto3.Session,
    *,
    project_dir: Path,
    member_role: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Report:
    """Check the live account against ``settings``. ``session`` gets the read-only guard registered on it."""
    # The member accounts' read-only role the management stack makes; another role only if asked for.
    member_role = member_role or settings.member_read_only_role_name
    placeholders = settings.placeholders()
    if placeholders:
        listing = ", ".join(path.removeprefix(f"{CONFIG_KEY}.") for path in placeholders)
        raise VerifyRefused(f"{CONFIG_KEY} of stack {stack!r} still has placeholders ({listing}); fill them in first")
    caller = signed_in_read_only(session, settings, stack, VerifyRefused)
    context = CheckContext(
        settings, session, caller, member_role=member_role, policy_dir=project_dir / "policies", stack=stack
    )
    checks = checks_for(stack_kind(settings))
    findings = [finding for registered in checks for finding in run_check(registered, context)]
    return Report(
        generated_at=clock(),
        stack=stack,
        account_id=settings.account.id,
        account_name=settings.account.name,
        region=settings.account.region,
        caller_arn=caller.arn,
        member_role=member_role,
        config=config_revision(project_dir, stack),
        checks=tuple(checks),
        findings=tuple(findings),
    )
