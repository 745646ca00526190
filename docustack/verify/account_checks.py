"""The check every stack gets first: the caller belongs to the stack's account. The checks of a stack's own
resources (state backend, account baseline, CI roles) are in ``baseline_checks.py``; the management stack's
audit services in ``audit_checks.py``."""

from __future__ import annotations

from collections.abc import Iterator

from docustack.verify.framework import ACCOUNT, MANAGEMENT, CheckContext, Finding, check, compared


@check("ACCOUNT-IDENTITY", "The checks run as a principal of the stack's own account", kinds=(MANAGEMENT, ACCOUNT))
def caller_account(context: CheckContext) -> Iterator[Finding]:
    # The runner already refuses another account; this records who looked, as evidence.
    yield compared(
        f"account:{context.settings.account.name}",
        context.settings.account.id,
        context.caller.account,
        detail=context.caller.arn,
    )
