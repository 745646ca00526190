"""The StateBackend component: exactly the bucket and key settings of the shared spec, protected, adoptable."""

from __future__ import annotations

import json

import pytest

from components import StateBackend, StateBackendArgs
from docustack import state_backend_spec as spec_module
from docustack.offline import Plan, run_program
from docustack.state_backend_spec import StateBackendSpec

SPEC = StateBackendSpec(prefix="docustack", stack="dev", account_id="111122223333", region="us-east-1")
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def plan_backend(args: StateBackendArgs) -> Plan:
    return run_program(lambda: StateBackend("dev-state", args), stack="dev")


@pytest.fixture(scope="module")
def adopted() -> Plan:
    return plan_backend(StateBackendArgs(spec=SPEC, adopt_key_id=KEY_ID))


def test_bucket_policy_is_exactly_tls_only(adopted: Plan) -> None:
    policy = adopted.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"]
    assert policy == (
        '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*",'
        '"Action":"s3:*","Resource":["arn:aws:s3:::docustack-pulumi-state-111122223333",'
        '"arn:aws:s3:::docustack-pulumi-state-111122223333/*"],'
        '"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'
    )


def test_key_policy_leaves_access_to_the_accounts_iam_policies(adopted: Plan) -> None:
    key = adopted.one("aws:kms/key:Key")
    assert json.loads(key.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    alias = adopted.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == "alias/docustack-pulumi-state"
    assert alias.inputs["targetKeyId"] == key.outputs["keyId"]


def test_bucket_settings_are_the_specs(adopted: Plan) -> None:
    bucket = adopted.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == "docustack-pulumi-state-111122223333" == SPEC.bucket_name
    key_arn = adopted.one("aws:kms/key:Key").outputs["arn"]
    for resource in adopted.resources:
        if resource.type.startswith("aws:s3/bucket") and resource.type != "aws:s3/bucket:Bucket":
            assert resource.inputs["bucket"] == bucket.outputs["id"], resource.name

    versioning = adopted.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": spec_module.VERSIONING_STATUS}
    encryption = adopted.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = SPEC.encryption_rule(key_arn)
    assert encryption.inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                "kmsMasterKeyId": key_arn,
            },
            "bucketKeyEnabled": rule["BucketKeyEnabled"],
        }
    ]
    public_access = adopted.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert {k: public_access[k[0].lower() + k[1:]] for k in spec_module.PUBLIC_ACCESS_BLOCK} == (
        spec_module.PUBLIC_ACCESS_BLOCK
    )
    assert all(spec_module.PUBLIC_ACCESS_BLOCK.values())
    ownership = adopted.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    lifecycle = adopted.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    expected = SPEC.lifecycle_rule()
    assert lifecycle.inputs["rules"] == [
        {
            "id": expected["ID"],
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrentVersionExpiration": {"noncurrentDays": 90},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ]


def test_bucket_key_and_alias_are_protected_and_adopted(adopted: Plan) -> None:
    imports = {r.type: r.import_id for r in adopted.resources if r.protect}
    assert imports == {
        "aws:kms/key:Key": KEY_ID,
        "aws:kms/alias:Alias": "alias/docustack-pulumi-state",
        "aws:s3/bucket:Bucket": "docustack-pulumi-state-111122223333",
    }
    component = adopted.one("docustack:state:StateBackend")
    assert all(r.parent == component.urn for r in adopted.resources if r.custom)


def test_without_a_key_id_everything_is_created_and_still_protected() -> None:
    plan = plan_backend(StateBackendArgs(spec=SPEC))
    assert not [r.name for r in plan.resources if r.import_id]
    assert {r.type for r in plan.resources if r.protect} == {
        "aws:kms/key:Key",
        "aws:kms/alias:Alias",
        "aws:s3/bucket:Bucket",
    }


def test_terraform_lock_table_is_off_by_default_and_encrypted_when_on(adopted: Plan) -> None:
    assert adopted.by_type("aws:dynamodb/table:Table") == []
    plan = plan_backend(StateBackendArgs(spec=SPEC, adopt_key_id=KEY_ID, terraform_lock_table=True))
    table = plan.one("aws:dynamodb/table:Table")
    assert table.inputs["name"] == "docustack-terraform-locks"
    assert table.inputs["hashKey"] == "LockID"
    assert table.inputs["attributes"] == [{"name": "LockID", "type": "S"}]
    assert table.inputs["serverSideEncryption"] == {
        "enabled": True,
        "kmsKeyArn": plan.one("aws:kms/key:Key").outputs["arn"],
    }


def test_login_url_carries_the_sse_header_settings() -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/" + KEY_ID
    assert SPEC.login_url(arn) == (
        "s3://docustack-pulumi-state-111122223333?region=us-east-1&ssetype=aws:kms"
        f"&kmskeyid=arn%3Aaws%3Akms%3Aus-east-1%3A111122223333%3Akey%2F{KEY_ID}"
    )
    assert SPEC.secrets_provider == "awskms://alias/docustack-pulumi-state?region=us-east-1"
