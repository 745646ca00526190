"""Member accounts registered as delegated administrators of AWS services, from the management account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class DelegatedAdministratorsArgs:
    account_id: pulumi.Input[str]
    service_principals: Sequence[str]
    # The organization: a service's trusted access must be enabled before an account can administer it.
    after: Sequence[pulumi.Resource] = ()


class DelegatedAdministrators(pulumi.ComponentResource):
    """One ``DelegatedAdministrator`` per service principal; create it with the management account's provider.

    ``registrations`` is what a resource in the delegated account that acts for the organization must wait for.
    """

    registrations: list[pulumi.Resource]

    def __init__(
        self, name: str, args: DelegatedAdministratorsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("docustack:organization:DelegatedAdministrators", name, None, opts)
        self.registrations = [
            aws.organizations.DelegatedAdministrator(
                f"{name}-{principal.removesuffix('.amazonaws.com')}",
                account_id=args.account_id,
                service_principal=principal,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
            )
            for principal in args.service_principals
        ]
        self.register_outputs({})
