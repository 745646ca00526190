"""Sessions for ``docustack verify``: who the caller is, a guard that refuses writes, read-only member sessions.

The command only reads. Two things make sure of it:

- every session it uses carries :func:`guard_read_only`, a botocore ``before-call`` hook that refuses any
  operation that is not a ``Describe``/``Get``/``List`` call (``sts:AssumeRole`` aside) before it is sent;
- in member accounts it assumes ``--member-role`` (by default ``<prefix>-readonly``, the read-only role the
  management stack makes there, itself in the Log Archive and Audit accounts and through its member read-only
  StackSet in every other one; any role given instead, ``OrganizationAccountAccessRole`` say, is narrowed the
  same way) with the session policy ``arn:aws:iam::aws:policy/ReadOnlyAccess``. A session
  policy can only narrow a role: the session's permissions are the intersection of the role's and
  ``ReadOnlyAccess``, so the session is read-only whatever the role allows
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

READ_ONLY_POLICY = "ReadOnlyAccess"
SESSION_NAME = "docustack-verify"
READ_PREFIXES = ("Describe", "Get", "List")
NON_READ_ALLOWED = frozenset({"AssumeRole"})


class WriteRefused(RuntimeError):
    """The command tried to call an API that is not a read. A bug in a check, never an account's state."""


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


def _refuse_writes(model: Any, **_: Any) -> None:
    name = model.name
    if not name.startswith(READ_PREFIXES) and name not in NON_READ_ALLOWED:
        raise WriteRefused(f"docustack verify only reads; refused {model.service_model.service_name}:{name}")


def guard_read_only(session: boto3.Session) -> boto3.Session:
    """Make every client later created from ``session`` refuse non-read operations. Returns ``session``."""
    session.events.register("before-call", _refuse_writes, unique_id="docustack-verify-read-only")
    return session


def caller_identity(session: boto3.Session, region: str) -> CallerIdentity:
    answer = session.client("sts", region_name=region).get_caller_identity()
    return CallerIdentity(account=answer["Account"], arn=answer["Arn"], user_id=answer["UserId"])


def read_only_session(
    session: boto3.Session, caller: CallerIdentity, account_id: str, role_name: str, *, region: str
) -> boto3.Session:
    """A session in ``account_id`` through ``role_name``, narrowed to ``ReadOnlyAccess`` by a session policy."""
    partition = caller.partition
    answer = session.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:{partition}:iam::{account_id}:role/{role_name}",
        RoleSessionName=SESSION_NAME,
        PolicyArns=[{"arn": f"arn:{partition}:iam::aws:policy/{READ_ONLY_POLICY}"}],
    )
    credentials = answer["Credentials"]
    member = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return guard_read_only(member)
