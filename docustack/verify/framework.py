"""The verify framework: findings, the registry of checks per stack kind, and running a check safely.

A check is a function ``(context) -> Iterable[Finding]`` registered with :func:`check`. It reads the live
account through ``context`` (clients of the caller's session, read-only sessions in member accounts, shared
readers that cache what several checks need) and yields one finding per declared thing it compared. It never
decides the check ID or, unless a finding needs another, the severity: :func:`run_check` stamps both.

"Cannot see" is never "compliant": any AWS error (``ClientError``, ``BotoCoreError``, which includes
``NoCredentialsError``) that escapes a check becomes an ``error`` finding of that check, and so does any other
exception (an answer of a shape the check cannot read, or a bug in it, ``WriteRefused`` included): the check did
not finish, so it proved nothing. The exit code puts errors before drift (:func:`exit_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from docustack.settings import StackSettings
from docustack.verify.aws import CallerIdentity, caller_identity, guard_read_only, read_only_session

OK, DRIFT, ERROR = "ok", "drift", "error"
HIGH, MEDIUM, LOW = "high", "medium", "low"
MANAGEMENT, ACCOUNT = "management", "account"
EXIT_COMPLIANT, EXIT_DRIFT, EXIT_NOT_VERIFIED = 0, 1, 2
AWS_ERRORS = (ClientError, BotoCoreError)

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """One declared thing compared with the live account."""

    resource: str  # what was compared: "scp:region-deny", "ou:Workloads", "account:dev", "organization"
    expected: str  # what the stack's settings declare
    actual: str  # what the account has
    status: str  # ok, drift or error
    severity: str = ""  # high, medium or low; empty: the check's own
    detail: str = ""  # why it differs, or the AWS error
    check_id: str = ""  # stamped by run_check

    def as_json(self) -> dict[str, str]:
        return {
            "checkId": self.check_id,
            "resource": self.resource,
            "expected": self.expected,
            "actual": self.actual,
            "status": self.status,
            "severity": self.severity,
            "detail": self.detail,
        }


def compared(resource: str, expected: str, actual: str, *, severity: str = "", detail: str = "") -> Finding:
    """``ok`` when the live value is the declared one, ``drift`` otherwise."""
    return Finding(resource, expected, actual, OK if expected == actual else DRIFT, severity, detail)


def drift(resource: str, expected: str, actual: str, *, severity: str = "", detail: str = "") -> Finding:
    return Finding(resource, expected, actual, DRIFT, severity, detail)


def could_not_check(resource: str, expected: str, *, severity: str = "", detail: str = "") -> Finding:
    """One declared thing that could not be read (an AWS error for that thing alone): never compliant."""
    return Finding(resource, expected, "could not be checked", ERROR, severity, detail)


class CheckContext:
    """What a check reads the live account through. Everything is created on first use and then shared."""

    def __init__(
        self,
        settings: StackSettings,
        session: boto3.Session,
        caller: CallerIdentity,
        *,
        member_role: str,
        policy_dir: Path | None = None,
        stack: str = "",
    ) -> None:
        self.settings = settings
        self.stack = stack
        self.session = session
        self.caller = caller
        self.member_role = member_role
        self.policy_dir = policy_dir
        self.region = settings.account.region
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self._member_sessions: dict[str, boto3.Session] = {}
        self._readers: dict[Callable[..., Any], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        """A client of the caller's (read-only guarded) session, in ``region`` (the stack's by default)."""
        return self._client(None, service, region or self.region)

    def member_client(self, account_id: str, service: str, region: str | None = None) -> Any:
        """A client of :meth:`member_session` in ``region`` (the stack's by default)."""
        return self._client(account_id, service, region or self.region)

    def _client(self, account_id: str | None, service: str, region: str) -> Any:
        key = (account_id, service, region)
        if key not in self._clients:
            session = self.session if account_id is None else self.member_session(account_id)
            self._clients[key] = session.client(service, region_name=region)
        return self._clients[key]

    def member_session(self, account_id: str) -> boto3.Session:
        """A read-only session in a member account, through ``--member-role`` (see aws.read_only_session)."""
        if account_id not in self._member_sessions:
            self._member_sessions[account_id] = read_only_session(
                self.session, self.caller, account_id, self.member_role, region=self.region
            )
        return self._member_sessions[account_id]

    def reader(self, factory: Callable[[CheckContext], T]) -> T:
        """One shared instance of ``factory(context)``: a cache of live reads several checks need."""
        if factory not in self._readers:
            self._readers[factory] = factory(self)
        return self._readers[factory]


CheckFunction = Callable[[CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    kinds: frozenset[str]
    severity: str
    function: CheckFunction


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, title: str, *, kinds: Iterable[str] = (MANAGEMENT,), severity: str = HIGH
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check for the stack kinds it applies to (``management``, ``account`` or both)."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} is registered twice")
        REGISTRY[check_id] = Check(check_id, title, frozenset(kinds), severity, function)
        return function

    return register


def stack_kind(settings: StackSettings) -> str:
    return MANAGEMENT if settings.is_management else ACCOUNT


def checks_for(kind: str) -> list[Check]:
    """The registered checks of one stack kind, in registration order."""
    return [registered for registered in REGISTRY.values() if kind in registered.kinds]


def run_check(registered: Check, context: CheckContext) -> list[Finding]:
    """Run one check; an AWS error ends it with an ``error`` finding, keeping what it found before."""
    findings: list[Finding] = []
    try:
        for finding in registered.function(context):
            findings.append(replace(finding, check_id=registered.id, severity=finding.severity or registered.severity))
    except Exception as error:  # an AWS error, or an answer the check cannot read: not verified either way
        findings.append(
            Finding(
                resource="*",
                expected=registered.title,
                actual="could not be checked",
                status=ERROR,
                severity=registered.severity,
                detail=describe_error(error),
                check_id=registered.id,
            )
        )
    return findings


def describe_error(error: Exception) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'Unknown')} on {error.operation_name}: {info.get('Message', '')}".rstrip(": ")
    if not isinstance(error, AWS_ERRORS):  # a reading this check could not make sense of, or a bug in it
        return f"unexpected {type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error}"


def exit_code(findings: Iterable[Finding]) -> int:
    """2 if anything could not be checked (even with drift elsewhere: the picture is incomplete), else 1 on
    any drift, else 0."""
    statuses = {finding.status for finding in findings}
    if ERROR in statuses:
        return EXIT_NOT_VERIFIED
    if DRIFT in statuses:
        return EXIT_DRIFT
    return EXIT_COMPLIANT


def signed_in_read_only(
    session: boto3.Session, settings: StackSettings, stack: str, refused: Callable[[str], Exception]
) -> CallerIdentity:
    """Put the read-only guard on ``session`` and return who it is signed in as, refusing (``refused(reason)``)
    when that cannot be told or is not the stack's own account: whatever is read with other credentials says
    nothing about the stack's."""
    guard_read_only(session)
    try:
        caller = caller_identity(session, settings.account.region)
    except (*AWS_ERRORS, ValueError) as error:  # ValueError: a malformed AWS_MAX_ATTEMPTS or endpoint URL
        raise refused(f"cannot tell who the caller is ({describe_error(error)})") from None
    if caller.account != settings.account.id:
        raise refused(
            f"stack {stack!r} is account {settings.account.id} ({settings.account.name}), but the credentials are "
            f"for account {caller.account} ({caller.arn}); use credentials for the stack's account"
        )
    return caller
