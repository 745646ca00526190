"""The member read-only role in every member account, through a second service-managed StackSet.

``docustack verify`` (the scheduled workflow runs it as the management account's read-only CI role) reads each
member account through ``<prefix>-readonly``. The management stack makes that role itself in the Log Archive and
Audit accounts (:mod:`components.member_read_only_role`, with the reads of what it keeps there); this StackSet
makes it in every other member account of the baseline's OUs, accounts added later included (automatic
deployment, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_AutoDeployment.html).

- **Home region only**: an IAM role is global, so one stack instance per account.
- **Never two creators of one role name**: the instance's deployment targets are the baseline's OUs with
  ``AccountFilterType: DIFFERENCE`` and ``Accounts`` = the Log Archive and Audit accounts, "StackSets excludes the
  accounts specified in Accounts parameter" for service-managed StackSets
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentTargets.html,
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/account-level-targets.html: "OU ... and
  filtering individual accounts", ``create-stack-instances --deployment-targets
  OrganizationalUnitIds=OU1,Accounts=A1,A2,AccountFilterType=DIFFERENCE``). pulumi-aws 7 passes both through:
  ``aws.cloudformation.StackSetInstanceDeploymentTargetsArgs(account_filter_type=..., accounts=...)``
  (``pulumi_aws/cloudformation/_inputs.py``: "Valid values: INTERSECTION, DIFFERENCE, UNION, NONE"). Whether
  automatic deployment keeps excluding an excluded account that later leaves and re-joins a target OU is not
  stated on those pages (UNVERIFIED); the Log Archive and Audit accounts stay in the Security OU, and verify's
  ``BASELINE-READONLY-INSTANCES`` reports an instance in either of them.
- **The template is data** (``policies/baseline/member-read-only-role.yaml``, linted by cfn-lint in the tests),
  its ``{{slots}}`` filled here from the one source of each part: the trust of
  :func:`components.member_read_only_role.management_trust_policy` (the management account root; its IAM
  policies decide who), the session limit, and the allow-list of :mod:`components.ci_read_permissions` for the
  ``baseline-member`` role (the Config recorder reads and the IAM reads of verify's checks; nothing that reads
  data). The policy is embedded as JSON rather than passed as a parameter: JSON is YAML, so the rendered
  template stays one document cfn-lint can check, and no parameter string has to be trusted as a policy.
- **No stacks are kept**: the role holds no state. An account that leaves the OUs loses it
  (``RetainStacksOnAccountRemoval`` false), and removing the StackSet from the program deletes the roles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.ci_read_permissions import role_read_actions
from components.github_ci_roles import read_only_policy
from components.member_read_only_role import MAX_SESSION_SECONDS, READ_ONLY_POLICY_NAME, management_trust_policy
from components.organization_baseline import service_managed_stack_set
from policies import minify

TEMPLATE = "baseline/member-read-only-role.yaml"
# The template names its role, which CloudFormation only does when told so
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html, Capabilities).
CAPABILITIES = ("CAPABILITY_NAMED_IAM",)
AUTO_DEPLOYMENT = {"Enabled": True, "RetainStacksOnAccountRemoval": False}
RETAIN_STACKS_ON_INSTANCE_DELETE = False
ACCOUNT_FILTER_TYPE = "DIFFERENCE"
ROLE_KIND = "baseline-member"
SLOT = re.compile(r"\{\{([a-z_]+)\}\}")


class TemplateError(ValueError):
    """The template names a slot the program does not fill, or the program fills one it does not name."""


def stack_set_name(prefix: str) -> str:
    return f"{prefix}-member-read-only"


def baseline_member_read_only_policy() -> dict[str, Any]:
    """The role's one inline policy: what verify reads in such an account (configuration, never data)."""
    return read_only_policy(role_read_actions(ROLE_KIND), [])


def template_text(
    role_name: str, management_account_id: str, policy_dir: Path | None = None, *, file: str = TEMPLATE
) -> str:
    """The template as the StackSet receives it, every slot filled; an unknown or unused slot is an error
    naming the file."""
    base = policy_dir if policy_dir is not None else Path(__file__).resolve().parent.parent / "policies"
    path = base / file
    text = path.read_text(encoding="utf-8")
    values = {
        "role_name": role_name,
        "max_session_seconds": str(MAX_SESSION_SECONDS),
        "trust_policy": minify(management_trust_policy(management_account_id)),
        "policy_name": READ_ONLY_POLICY_NAME,
        "read_only_policy": minify(baseline_member_read_only_policy()),
    }
    named = set(SLOT.findall(text))
    if named != set(values):
        unknown, unused = sorted(named - set(values)), sorted(set(values) - named)
        raise TemplateError(
            f"{path}: slots not filled by the program {unknown}, slots the program fills but the template lacks {unused}"
        )
    return SLOT.sub(lambda match: values[match.group(1)], text)


@dataclass(frozen=True)
class MemberReadOnlyStackSetArgs:
    stack_set_name: str
    template_body: str
    home_region: str
    # The baseline's OUs and every OU nested in them.
    organizational_unit_ids: Sequence[pulumi.Input[str]]
    # Where the management stack makes the role itself (the Log Archive and Audit accounts): never deployed to.
    excluded_account_ids: Sequence[pulumi.Input[str]]
    # Trusted access for StackSets (the organization's service access).
    after: Sequence[pulumi.Resource] = ()
    description: str = "DocuStack member read-only role (docustack verify) in every member account"


class MemberReadOnlyStackSet(pulumi.ComponentResource):
    """The StackSet and its one instance (home region) over the baseline's OUs, the excluded accounts aside."""

    stack_set_name: pulumi.Output[str]
    instance: aws.cloudformation.StackSetInstance

    def __init__(self, name: str, args: MemberReadOnlyStackSetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:baseline:MemberReadOnlyStackSet", name, None, opts)
        if not args.excluded_account_ids:
            raise ValueError(
                "the member read-only StackSet needs the accounts where the management stack makes the role"
            )
        stack_set = service_managed_stack_set(
            f"{name}-stack-set",
            self,
            name=args.stack_set_name,
            description=args.description,
            template_body=args.template_body,
            auto_deployment=AUTO_DEPLOYMENT,
            capabilities=CAPABILITIES,
            after=args.after,
        )
        self.instance = aws.cloudformation.StackSetInstance(
            f"{name}-{args.home_region}",
            stack_set_name=stack_set.name,
            call_as="SELF",
            stack_set_instance_region=args.home_region,
            deployment_targets=aws.cloudformation.StackSetInstanceDeploymentTargetsArgs(
                organizational_unit_ids=list(args.organizational_unit_ids),
                account_filter_type=ACCOUNT_FILTER_TYPE,
                accounts=list(args.excluded_account_ids),
            ),
            retain_stack=RETAIN_STACKS_ON_INSTANCE_DELETE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[stack_set]),
        )
        self.stack_set_name = stack_set.name
        self.register_outputs({"stack_set_name": self.stack_set_name})
