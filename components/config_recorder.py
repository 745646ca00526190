"""AWS Config recording in one account and region, delivered to the Log Archive's Config bucket.

Reusable by every stack: pass the account's provider for the region in ``opts``. Config is regional and an
account has one recorder and one delivery channel per region
(https://docs.aws.amazon.com/config/latest/developerguide/manage-delivery-channel.html). IAM is global, so the
recorder's role is made once per account: the home region's recorder creates it (``role_arn=None``) and the
other regions pass its ``role_arn``; global resource types (IAM) are recorded in the home region only, so they
are not recorded twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

import policies

CONFIG_ROLE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
# Config allows one recorder and one delivery channel per account and region; both are named so.
RECORDER_NAME = "default"
RECORD_ALL_SUPPORTED = True


def delivery_policy(bucket: str, kms_key_arn: str, s3_key_prefix: str | None) -> dict[str, Any]:
    prefix = f"{s3_key_prefix}/" if s3_key_prefix else ""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CheckBucket",
                "Effect": "Allow",
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "Deliver",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}AWSLogs/*/Config/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            },
            {
                "Sid": "Encrypt",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": kms_key_arn,
            },
        ],
    }


@dataclass(frozen=True)
class ConfigRecorderArgs:
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    s3_key_prefix: str | None = None
    # None: create the recorder's role here (the home region); otherwise the role the home region made.
    role_arn: pulumi.Input[str] | None = None
    include_global_resource_types: bool = True
    delivery_frequency: str = "TwentyFour_Hours"
    # What delivery must wait for: the bucket policy and key policy that let Config write.
    after: Sequence[pulumi.Resource] = ()


class ConfigRecorder(pulumi.ComponentResource):
    """Recorder (all supported resource types), delivery channel, recorder turned on."""

    role_arn: pulumi.Output[str]
    recorder_name: pulumi.Output[str]

    def __init__(self, name: str, args: ConfigRecorderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("docustack:audit:ConfigRecorder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role_ready: list[pulumi.Resource] = []
        if args.role_arn is None:
            role = aws.iam.Role(
                f"{name}-role",
                assume_role_policy=policies.service_trust_policy("config.amazonaws.com"),
                opts=child,
            )
            attachment = aws.iam.RolePolicyAttachment(
                f"{name}-role-policy", role=role.name, policy_arn=CONFIG_ROLE_POLICY_ARN, opts=child
            )
            # Config delivers with this role to a bucket in its own account (the Log Archive's recorder); from
            # other accounts it falls back to the config.amazonaws.com principal that the bucket policy grants
            # (https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html).
            delivery = aws.iam.RolePolicy(
                f"{name}-role-delivery",
                role=role.id,
                policy=pulumi.Output.all(args.bucket_name, args.kms_key_arn).apply(
                    lambda values: policies.minify(delivery_policy(values[0], values[1], args.s3_key_prefix))
                ),
                opts=child,
            )
            role_arn: pulumi.Input[str] = role.arn
            role_ready += [attachment, delivery]
        else:
            role_arn = args.role_arn
        recorder = aws.cfg.Recorder(
            f"{name}-recorder",
            name=RECORDER_NAME,
            role_arn=role_arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=RECORD_ALL_SUPPORTED, include_global_resource_types=args.include_global_resource_types
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=role_ready),
        )
        channel = aws.cfg.DeliveryChannel(
            f"{name}-delivery-channel",
            name=RECORDER_NAME,
            s3_bucket_name=args.bucket_name,
            s3_key_prefix=args.s3_key_prefix,
            s3_kms_key_arn=args.kms_key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency=args.delivery_frequency
            ),
            # A channel needs its recorder, and Config checks it can write to the bucket when it is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[recorder, *args.after]),
        )
        aws.cfg.RecorderStatus(
            f"{name}-status",
            name=recorder.name,
            is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]),
        )
        self.role_arn = pulumi.Output.from_input(role_arn)
        self.recorder_name = recorder.name
        self.register_outputs({"role_arn": self.role_arn, "recorder_name": self.recorder_name})
