"""Cost-allocation tags activated in the management account, for the whole organization's bill.

Only the management (payer) account can activate cost-allocation tags, and an active tag key becomes a dimension
of Cost Explorer and the cost and usage reports for every member account
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html). A key can be activated only
once AWS has seen it on a resource, which takes up to 24 hours after it is first applied (pulumi-aws
costexplorer.CostAllocationTag; the billing guide's custom-tags page): until then the first ``up`` of this
resource fails and a later one succeeds (UNVERIFIED: the error AWS returns was not observed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ACTIVE = "Active"


@dataclass(frozen=True)
class CostAllocationTagsArgs:
    tag_keys: Sequence[str]


class CostAllocationTags(pulumi.ComponentResource):
    """One activation per tag key; pass the management account's provider."""

    def __init__(self, name: str, args: CostAllocationTagsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:cost:CostAllocationTags", name, None, opts)
        for key in args.tag_keys:
            aws.costexplorer.CostAllocationTag(
                f"{name}-{key}", tag_key=key, status=ACTIVE, opts=pulumi.ResourceOptions(parent=self)
            )
        self.register_outputs({"tag_keys": list(args.tag_keys)})
