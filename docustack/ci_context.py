"""What a CI job needs to run Pulumi against one stack, derived from that stack's own settings.

``docustack ci-context --stack NAME --role read-only|verify|deploy`` prints ``key=value`` lines for
``$GITHUB_OUTPUT``: the role to assume through OIDC, the region, the ``pulumi login`` URL that sends the
server-side-encryption header the Require S3 Encryption SCP demands, the secrets provider, and the OIDC
subjects the role trusts (``subject-prefix``, ``trusted-subjects``): when the sign-in is refused, compare them
with the ``sub`` of the job's token (GitHub's immutable-ID form against a name-form trust is the usual cause).
Nothing is stored in the workflow: a stack's account ID, state key and repository live in its
``Pulumi.<stack>.yaml``.

``--matrix`` instead prints the stacks that are ready for the role (``stacks=[...]``, JSON), so a workflow can
fan out over them; a stack with placeholders in the fields a job needs is left out and named on stderr.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from components.github_ci_roles import deploy_subjects, read_only_subjects
from docustack.project import load_stack_settings, stack_names
from docustack.settings import CONFIG_KEY, StackSettings
from docustack.state_backend_spec import StateBackendSpec

# read-only: previews; verify: docustack verify through the same read-only role, which refuses any placeholder;
# deploy: pulumi up through the deploy role.
Role = Literal["read-only", "verify", "deploy"]
# What a read-only job (preview, verify) cannot do without: the account, the state key, the trusted repository
# (and its OIDC subject prefix when the settings give one).
READ_ONLY_NEEDS = (
    f"{CONFIG_KEY}.account.id",
    f"{CONFIG_KEY}.stateBackend.keyId",
    f"{CONFIG_KEY}.ci.repository",
    f"{CONFIG_KEY}.ci.subjectPrefix",
)


class NotReady(Exception):
    """The stack's settings still have placeholders a job of this role needs."""


@dataclass(frozen=True)
class CiContext:
    stack: str
    role_arn: str
    region: str
    cloud_url: str
    secrets_provider: str
    subject_prefix: str
    trusted_subjects: tuple[str, ...]

    def github_output(self) -> str:
        return "\n".join(
            [
                f"stack={self.stack}",
                f"role-arn={self.role_arn}",
                f"region={self.region}",
                f"cloud-url={self.cloud_url}",
                f"secrets-provider={self.secrets_provider}",
                f"subject-prefix={self.subject_prefix}",
                f"trusted-subjects={json.dumps(list(self.trusted_subjects))}",
            ]
        )


def missing_for(settings: StackSettings, role: Role) -> list[str]:
    """The placeholders that keep a job of ``role`` from running; a deploy or a verification needs every one
    filled in (``pulumi up`` and ``docustack verify`` both refuse placeholders)."""
    placeholders = settings.placeholders()
    if role in ("deploy", "verify"):
        return placeholders
    return [path for path in placeholders if path in READ_ONLY_NEEDS]


def context_for(settings: StackSettings, stack: str, role: Role) -> CiContext:
    missing = missing_for(settings, role)
    if missing:
        names = ", ".join(path.removeprefix(f"{CONFIG_KEY}.") for path in missing)
        raise NotReady(f"stack {stack!r} is not ready for {role} jobs: fill in {names} in Pulumi.{stack}.yaml")
    if role == "deploy" and settings.ci.deploy_environment != stack:
        raise NotReady(
            f"stack {stack!r} deploys from the GitHub environment {stack!r} (.github/workflows/deploy-stack.yml): "
            f"set ci.deployEnvironment to {stack!r} in Pulumi.{stack}.yaml"
        )
    if settings.state_backend.key_id is None:
        raise NotReady(f"stack {stack!r} has no stateBackend.keyId: run `docustack bootstrap --stack {stack}` first")
    account = settings.account
    role_name = settings.deploy_role_name if role == "deploy" else settings.preview_role_name
    spec = StateBackendSpec.from_settings(settings, stack)
    key_arn = f"arn:aws:kms:{account.region}:{account.id}:key/{settings.state_backend.key_id}"
    ci = settings.ci
    prefix = ci.oidc_subject_prefix()
    if role == "deploy":
        subjects = deploy_subjects(prefix, ci.deploy_environment, ci.deploy_branch)
    else:
        subjects = read_only_subjects(prefix, ci.verify_branch)
    return CiContext(
        stack=stack,
        role_arn=f"arn:aws:iam::{account.id}:role/{role_name}",
        region=account.region,
        cloud_url=spec.login_url(key_arn),
        secrets_provider=spec.secrets_provider,
        subject_prefix=prefix,
        trusted_subjects=tuple(subjects),
    )


def ready_stacks(project_dir: Path, role: Role) -> tuple[list[str], dict[str, str]]:
    """The stacks a job of ``role`` can run for, in deployment order, and why the others cannot."""
    ready, skipped = [], {}
    for stack in stack_names(project_dir):
        try:
            context_for(load_stack_settings(project_dir, stack), stack, role)
        except NotReady as reason:
            skipped[stack] = str(reason)
        else:
            ready.append(stack)
    return ready, skipped


def matrix_output(ready: list[str]) -> str:
    return f"stacks={json.dumps(ready)}"
