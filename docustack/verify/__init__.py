"""``docustack verify``: read-only checks of the live account(s) against what a stack's settings declare.

- :mod:`.framework`: findings, the check registry, running a check so that AWS errors become ``error`` findings
- :mod:`.aws`: caller identity, the read-only guard, read-only sessions in member accounts
- :mod:`.organization_checks`, :mod:`.member_checks`, :mod:`.account_checks`, :mod:`.baseline_checks`,
  :mod:`.audit_checks`: the checks (importing them registers them)
- :mod:`.report`: the evidence (json, markdown) and the text for a terminal
- :mod:`.runner`: refuse or run, and build the report

Adding a check is one function in a checks module::

    @check("ORG-EXAMPLE", "What it verifies, as a sentence")
    def example(context: CheckContext) -> Iterator[Finding]:
        live = context.client("organizations").describe_something()
        yield compared("resource", "declared value", live["Value"])

A new checks module is imported below so that its checks register.
"""

from docustack.verify import (  # noqa: F401
    access_checks,
    account_checks,
    audit_checks,
    baseline_checks,
    baseline_org_checks,
    member_checks,
    organization_checks,
)
from docustack.verify.aws import WriteRefused
from docustack.verify.framework import EXIT_COMPLIANT, EXIT_DRIFT, EXIT_NOT_VERIFIED
from docustack.verify.report import RENDERERS, Report
from docustack.verify.runner import VerifyRefused, run

__all__ = [
    "EXIT_COMPLIANT",
    "EXIT_DRIFT",
    "EXIT_NOT_VERIFIED",
    "RENDERERS",
    "Report",
    "VerifyRefused",
    "WriteRefused",
    "run",
]
