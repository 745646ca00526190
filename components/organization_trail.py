"""The organization trail: every account's API activity, every region, into the Log Archive.

Created with the management account's provider in the stack's home region: the management account owns every
organization trail (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html).
CloudTrail checks the bucket policy and the key policy when the trail is created and refuses a bucket it cannot
write to, so the trail waits for both (``after``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import policies

# The declared trail in the shape of CloudTrail's DescribeTrails answer (docustack verify compares with it).
# The provider defaults the first three to False; a single-region trail misses other regions' activity.
TRAIL_SETTINGS = {
    "IsOrganizationTrail": True,
    "IsMultiRegionTrail": True,
    "LogFileValidationEnabled": True,
    "IncludeGlobalServiceEvents": True,
}
LOGGING_ENABLED = True


@dataclass(frozen=True)
class OrganizationTrailArgs:
    trail_name: str
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    # The Log Archive's bucket policy and key policy, and the organization (CloudTrail's service access).
    after: Sequence[pulumi.Resource] = ()
    # Also deliver to a CloudWatch Logs group in the management account (None: S3 only).
    cloud_watch_logs_retention_days: int | None = None


class OrganizationTrail(pulumi.ComponentResource):
    """An organization, multi-region trail with log file validation and SSE-KMS; protected."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: OrganizationTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:audit:OrganizationTrail", name, None, opts)
        log_group_arn: pulumi.Output[str] | None = None
        log_role_arn: pulumi.Output[str] | None = None
        after = list(args.after)
        if args.cloud_watch_logs_retention_days is not None:
            log_group_arn, log_role_arn, role_policy = self._cloud_watch_logs(name, args)
            # CloudTrail checks that the role can write when the trail is created or updated.
            after.append(role_policy)
        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=args.trail_name,
            s3_bucket_name=args.bucket_name,
            kms_key_id=args.kms_key_arn,
            is_organization_trail=TRAIL_SETTINGS["IsOrganizationTrail"],
            is_multi_region_trail=TRAIL_SETTINGS["IsMultiRegionTrail"],
            enable_log_file_validation=TRAIL_SETTINGS["LogFileValidationEnabled"],
            include_global_service_events=TRAIL_SETTINGS["IncludeGlobalServiceEvents"],
            enable_logging=LOGGING_ENABLED,
            cloud_watch_logs_group_arn=log_group_arn,
            cloud_watch_logs_role_arn=log_role_arn,
            opts=pulumi.ResourceOptions(parent=self, protect=True, depends_on=after),
        )
        self.arn = trail.arn
        self.register_outputs({"arn": self.arn})

    def _cloud_watch_logs(
        self, name: str, args: OrganizationTrailArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], aws.iam.RolePolicy]:
        """A log group, and the role CloudTrail delivers to it with: the group's ARN as the trail names it, the role's
        ARN, and the role's policy (which the trail must wait for).

        https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
        """
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=f"/aws/cloudtrail/{args.trail_name}",
            retention_in_days=args.cloud_watch_logs_retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            assume_role_policy=policies.service_trust_policy("cloudtrail.amazonaws.com"),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-cloudwatch-role-policy",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: policies.minify(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "AWSCloudTrailDeliverToLogGroup",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": f"{arn}:log-stream:*",
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        return group.arn.apply(lambda arn: f"{arn}:*"), role.arn, role_policy
