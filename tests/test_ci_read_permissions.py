"""The read-only CI roles read configuration, never data, and cover everything a preview and `docustack verify` call.

Three things keep the allow-lists of components/ci_read_permissions.py honest:

- every stack's program, run under the mocks, registers in each account only resource types whose reads the
  relevant role grants (a new resource type fails here until its read actions are declared);
- ``docustack verify``, run against the moto foundation with a botocore hook recording every operation, calls
  nothing the relevant role's policy does not allow (a new check fails here until its actions are declared);
- no role grants a known data-reading action, and none carries a managed policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pulumi_aws as aws
import pytest
from botocore.client import BaseClient
from conftest import filled_in_config
from moto_foundation import LiveFoundation, build_account_stack, run_verify, sign_in

from components.ci_read_permissions import (
    BUCKET_LIST_ACTION,
    READ_ACTIONS,
    ROLE_TYPES,
    VERIFY_ACTIONS,
    MissingReadActions,
    read_actions_for,
    role_read_actions,
)
from components.github_ci_roles import preview_read_only_policy
from components.member_read_only_role import member_read_only_policy
from components.member_read_only_stack_set import baseline_member_read_only_policy
from docustack import plan
from docustack.offline import Plan, run_program
from docustack.settings import CONFIG_KEY
from docustack.state_backend_spec import StateBackendSpec
from docustack.verify import framework

STATE_BUCKET = "arn:aws:s3:::docustack-pulumi-state-111122223333"
STATE_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_BUCKETS = "arn:aws:s3:::docustack-log-archive-*"

# Actions that read data (records, items, messages, secrets, environment variables, traces, object contents).
# None may be granted to a role a pull request's code can use. Extend this list; never shorten it.
KNOWN_DATA_READS = (
    "s3:GetObject",  # allowed only under the state bucket's .pulumi/ prefix, checked separately
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectTorrent",
    "s3:ListBucketVersions",
    "s3express:CreateSession",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PartiQLSelect",
    "dynamodb:GetRecords",
    "dynamodb:ExportTableToPointInTime",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:ListFunctions",
    "lambda:GetLayerVersion",
    "apigateway:GET",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:GetLogRecord",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "ssm:GetDocument",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "healthlake:ReadResource",
    "healthlake:SearchWithGet",
    "healthlake:SearchWithPost",
    "healthlake:GetCapabilities",
    "xray:GetTraceSummaries",
    "xray:BatchGetTraces",
    "xray:GetTraceGraph",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "firehose:DescribeDeliveryStream",
    "athena:GetQueryResults",
    "glacier:GetJobOutput",
    "ec2:GetConsoleOutput",
    "ec2:GetConsoleScreenshot",
    "ec2:GetPasswordData",
    "rds:DownloadDBLogFilePortion",
    "rds-data:ExecuteStatement",
    "kms:Decrypt",  # allowed only on the state key, checked separately
    "cloudtrail:LookupEvents",
    "cloudtrail:GetQueryResults",
    "config:SelectResourceConfig",
    "config:SelectAggregateResourceConfig",
    "config:GetResourceConfigHistory",
    "config:BatchGetResourceConfig",
    "config:GetAggregateResourceConfig",
    "guardduty:GetFindings",
    "securityhub:GetFindings",
    "codecommit:GetFile",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "cognito-idp:ListUsers",
    "iam:GetCredentialReport",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
)


def policies_by_role() -> dict[str, dict[str, Any]]:
    return {
        "account": preview_read_only_policy("account", STATE_BUCKET, STATE_KEY),
        "management": preview_read_only_policy("management", STATE_BUCKET, STATE_KEY),
        "member": member_read_only_policy([LOG_BUCKETS]),
        "baseline-member": baseline_member_read_only_policy(),
    }


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def allows(document: Mapping[str, Any], action: str, resource: str = "*") -> bool:
    """An identity policy's decision without conditions: an explicit deny wins, else some allow must match.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    decision = False
    for statement in _as_list(document["Statement"]):
        assert "Condition" not in statement and "NotAction" not in statement  # this evaluator handles neither
        if not any(_glob(a, case_sensitive=False).match(action) for a in _as_list(statement["Action"])):
            continue
        if "NotResource" in statement:
            matched = not any(_glob(r, case_sensitive=True).match(resource) for r in _as_list(statement["NotResource"]))
        else:
            matched = any(_glob(r, case_sensitive=True).match(resource) for r in _as_list(statement["Resource"]))
        if matched and statement["Effect"] == "Deny":
            return False
        decision = decision or (matched and statement["Effect"] == "Allow")
    return decision


def granted_actions(document: Mapping[str, Any]) -> set[str]:
    return {a for s in document["Statement"] if s["Effect"] == "Allow" for a in _as_list(s["Action"])}


# --- the allow-lists as data -------------------------------------------------------------------------------


def test_every_covered_type_declares_its_read_actions() -> None:
    for role, types in ROLE_TYPES.items():
        # raises MissingReadActions for a type without an entry; the baseline member role covers no stack's types
        assert read_actions_for(types) or (role == "baseline-member" and not types)
    with pytest.raises(MissingReadActions, match=r"aws:lambda/function:Function"):
        read_actions_for(["aws:s3/bucket:Bucket", "aws:lambda/function:Function"])


@pytest.mark.parametrize("role", ["account", "management", "member", "baseline-member"])
def test_no_role_grants_a_data_read(role: str) -> None:
    document = policies_by_role()[role]
    granted = granted_actions(document)
    assert not [a for a in granted if "*" in a or "?" in a], "an allow-list names every action, no wildcard"
    # Beyond the state's object reads and decryption (scoped and checked below), only Describe/Get/List calls.
    # budgets:ViewBudget is how AWS Budgets names the read of a budget, its notifications and subscribers
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbudgetservice.html).
    reads = granted - {"s3:GetObject", "kms:Decrypt", "budgets:ViewBudget"}
    assert all(re.fullmatch(r"[a-z0-9-]+:(Describe|Get|List)[A-Za-z0-9]*", a) for a in reads), sorted(reads)
    data_reads = [a for a in KNOWN_DATA_READS if allows(document, a, "arn:aws:s3:::some-bucket/patients.csv")]
    assert data_reads == []
    # The reads a deny list missed before: none granted on any resource.
    for action in ("dynamodb:PartiQLSelect", "lambda:GetFunctionConfiguration", "apigateway:GET", "xray:GetTraceGraph"):
        assert not allows(document, action), action


@pytest.mark.parametrize("role", ["account", "management"])
def test_the_state_is_readable_and_nothing_else_in_s3(role: str) -> None:
    document = policies_by_role()[role]
    assert allows(document, "s3:GetObject", f"{STATE_BUCKET}/.pulumi/stacks/docustack/dev.json")
    assert allows(document, "s3:GetObject", f"{STATE_BUCKET}/.pulumi/meta.yaml")
    assert allows(document, "s3:ListBucket", STATE_BUCKET)
    assert allows(document, "kms:Decrypt", STATE_KEY)
    assert not allows(document, "s3:GetObject", f"{STATE_BUCKET}/exports/patients.csv")
    assert not allows(document, "s3:GetObject", "arn:aws:s3:::docustack-log-archive-111122223333/AWSLogs/x.json.gz")
    assert not allows(document, "s3:GetObjectVersion", f"{STATE_BUCKET}/.pulumi/stacks/docustack/dev.json")
    assert not allows(document, "s3:ListBucket", "arn:aws:s3:::docustack-phi-exports")
    assert not allows(document, "kms:Decrypt", STATE_KEY.replace("1234abcd", "99999999"))
    assert not [a for a in granted_actions(document) if a.split(":")[1].startswith(("Put", "Delete", "Create"))]


def test_the_member_role_reads_no_log_object_and_decrypts_nothing() -> None:
    document = policies_by_role()["member"]
    assert allows(document, "s3:ListBucket", "arn:aws:s3:::docustack-log-archive-111122223333")
    assert allows(document, "s3:GetBucketPolicy", "arn:aws:s3:::docustack-log-archive-111122223333")
    assert not allows(document, "s3:GetObject", "arn:aws:s3:::docustack-log-archive-111122223333/AWSLogs/x.json.gz")
    assert not allows(document, "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/anything")
    assert not allows(document, "s3:ListBucket", "arn:aws:s3:::docustack-pulumi-state-111122223333")


def test_each_role_policy_fits_iams_inline_quota() -> None:
    # Inline policies of one role: at most 10,240 characters in all, whitespace not counted
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    assume = 200  # the management role's assume-member-read-only policy
    for role, document in policies_by_role().items():
        assert len(json.dumps(document, separators=(",", ":"))) + assume < 10_240, role


def test_the_allow_lists_name_only_real_actions() -> None:
    import parliament

    for role, document in policies_by_role().items():
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert [f"{f.issue}: {f.detail}" for f in findings if f.issue != "RESOURCE_STAR"] == [], role


# --- what the program registers ----------------------------------------------------------------------------


def types_by_role(registered: Plan, management: bool) -> dict[str, set[str]]:
    """The AWS resource types a stack registers, by the read-only role that previews them: the stack's own
    account (its provider assumes nothing) or a member account (its provider assumes <prefix>-readonly)."""
    resources = registered.resources
    providers = {r.urn: r for r in resources if r.type.startswith("pulumi:providers:")}
    found: dict[str, set[str]] = {}
    for resource in resources:
        if not resource.type.startswith("aws:"):
            continue
        provider = providers[resource.provider_urn]
        assumed = provider.inputs.get("assumeRoles")
        if isinstance(assumed, str):  # provider inputs reach the mocks JSON-encoded
            assumed = json.loads(assumed)
        if assumed:
            [assume] = assumed
            assert assume["roleArn"].endswith(":role/docustack-readonly"), "a preview assumes only the read-only role"
            role = "member"
        else:
            role = "management" if management else "account"
        found.setdefault(role, set()).add(resource.type)
    return found


def uncovered(registered: Plan, management: bool) -> dict[str, list[str]]:
    """By role, the types registered in its account that its allow-list does not cover."""
    found = types_by_role(registered, management)
    return {
        role: sorted(types - set(ROLE_TYPES[role])) for role, types in found.items() if types - set(ROLE_TYPES[role])
    }


def test_every_registered_type_is_covered_by_its_roles_allow_list(stack_plans: dict[str, plan.StackPlan]) -> None:
    assert set(stack_plans) >= {"management", "dev"}
    for stack, stack_plan in stack_plans.items():
        registered = types_by_role(stack_plan.plan, management=stack == "management")
        assert registered
        assert uncovered(stack_plan.plan, management=stack == "management") == {}, stack
        for role, types in registered.items():
            # ...and so the role's policy grants every read of every registered type.
            document = policies_by_role()[role]
            for action in read_actions_for(types):
                assert allows(document, action), (stack, role, action)


def test_a_new_resource_type_fails_the_coverage_test() -> None:
    """The check above must be able to fail: a type the program registers but no role covers is named, in the
    account it lands in."""

    def program() -> None:
        own = aws.Provider("dev-account", region="us-east-1", allowed_account_ids=["216482851263"])
        member = aws.Provider(
            "audit-us-east-1",
            region="us-east-1",
            allowed_account_ids=["990490799440"],
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn="arn:aws:iam::990490799440:role/docustack-readonly")],
        )
        aws.s3.Bucket("covered", opts=pulumi.ResourceOptions(provider=own))
        aws.sqs.Queue("new-type", opts=pulumi.ResourceOptions(provider=own))
        aws.sns.Topic("new-member-type", opts=pulumi.ResourceOptions(provider=member))

    registered = run_program(program, stack="dev")
    assert uncovered(registered, management=False) == {
        "account": ["aws:sqs/queue:Queue"],
        "member": ["aws:sns/topic:Topic"],
    }
    assert "aws:sqs/queue:Queue" not in READ_ACTIONS


def _role_named(stack_plan: plan.StackPlan, role_name: str) -> list[str]:
    return [r.urn for r in stack_plan.plan.by_type("aws:iam/role:Role") if r.inputs.get("name") == role_name]


def test_no_read_only_role_has_a_managed_policy_and_each_has_its_allow_list(
    stack_plans: dict[str, plan.StackPlan],
) -> None:
    for stack, stack_plan in stack_plans.items():
        resources = stack_plan.plan
        read_only = {"docustack-github-preview", "docustack-readonly"}
        attached = [
            (r.name, r.inputs["policyArn"])
            for r in resources.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if r.inputs["role"] in read_only
        ]
        assert attached == [], stack
        inline = {
            (r.inputs["role"], r.inputs["name"]): json.loads(r.inputs["policy"])
            for r in resources.by_type("aws:iam/rolePolicy:RolePolicy")
            if r.inputs["role"] in read_only
        }
        kind = "management" if stack == "management" else "account"
        own = inline[("docustack-github-preview", "read-only")]
        [read] = [s for s in own["Statement"] if s["Sid"] == "ReadConfiguration"]
        assert read["Action"] == role_read_actions(kind), stack
        if stack == "management":
            member = inline[("docustack-readonly", "read-only")]
            assert member == member_read_only_policy([LOG_BUCKETS])
            assert _role_named(stack_plan, "docustack-readonly")


# --- what docustack verify calls ---------------------------------------------------------------------------

# botocore operation -> the IAM actions it needs, where the action is not "<signing name>:<operation>".
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html (HeadBucket needs
# s3:ListBucket; GetBucketEncryption s3:GetEncryptionConfiguration; GetBucketLifecycleConfiguration
# s3:GetLifecycleConfiguration; GetObjectLockConfiguration s3:GetBucketObjectLockConfiguration; S3 Control's
# GetPublicAccessBlock s3:GetAccountPublicAccessBlock). Extend it when a check calls such an operation.
OPERATION_ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "GetBucketEncryption"): ("s3:GetEncryptionConfiguration",),
    ("s3", "GetBucketLifecycleConfiguration"): ("s3:GetLifecycleConfiguration",),
    ("s3", "GetBucketLifecycle"): ("s3:GetLifecycleConfiguration",),
    ("s3", "GetObjectLockConfiguration"): ("s3:GetBucketObjectLockConfiguration",),
    ("s3", "GetBucketCors"): ("s3:GetBucketCORS",),
    ("s3", "GetBucketAccelerateConfiguration"): ("s3:GetAccelerateConfiguration",),
    ("s3", "GetBucketReplication"): ("s3:GetReplicationConfiguration",),
    ("s3", "GetPublicAccessBlock"): ("s3:GetBucketPublicAccessBlock",),
    ("s3control", "GetPublicAccessBlock"): ("s3:GetAccountPublicAccessBlock",),
    # Budgets' reads all need budgets:ViewBudget
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbudgetservice.html).
    ("budgets", "DescribeBudgets"): ("budgets:ViewBudget",),
    ("budgets", "DescribeNotificationsForBudget"): ("budgets:ViewBudget",),
    ("budgets", "DescribeSubscribersForNotification"): ("budgets:ViewBudget",),
    # "No permissions are required to perform this operation."
    # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)
    ("sts", "GetCallerIdentity"): (),
}


def iam_actions(service: str, signing_name: str, operation: str) -> tuple[str, ...]:
    return OPERATION_ACTIONS.get((service, operation), (f"{signing_name}:{operation}",))


def request_resource(service: str, params: Mapping[str, Any]) -> str:
    """The ARN a call acts on where the policies scope it (S3 buckets and objects, the role to assume); "*"
    otherwise."""
    if service == "sts" and "RoleArn" in params:
        return str(params["RoleArn"])
    if service == "s3" and "Bucket" in params:
        return f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
    return "*"


RECORD_EVENT = "test-ci-read-permissions-call"


class CallRecorder:
    """Every operation verify sends, by the role it runs as: the stack's own session, or a member session.

    Each session gets a botocore event hook that records the call with the session's role. The event is emitted
    by a wrapper around the client's API call installed last, just before verify runs, so operations that the
    moto foundation answers with a stub (APIs moto lacks) are recorded too."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, str]] = []
        # Which read-only role a member session runs as, by account: the management stack's own <prefix>-readonly
        # in the Log Archive and Audit accounts ("member"), the member read-only StackSet's everywhere else
        # ("baseline-member"). verify_with_recorder sets it from the live organization.
        self.member_role_of: Callable[[str], str] = lambda _account_id: "member"

    def attach(self, session: boto3.Session, role: str) -> boto3.Session:
        def record(client: BaseClient, operation_name: str, params: Mapping[str, Any], **_: Any) -> None:
            model = client.meta.service_model
            resource = request_resource(model.service_name, params)
            self.calls.append((role, model.service_name, model.signing_name, operation_name, resource))

        session.events.register(RECORD_EVENT, record, unique_id="test-ci-read-permissions-recorder")
        return session

    @staticmethod
    def announce_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
        original = BaseClient._make_api_call

        def announced(client: BaseClient, operation_name: str, params: dict) -> Any:
            service = client.meta.service_model.service_name
            client.meta.events.emit(
                f"{RECORD_EVENT}.{service}.{operation_name}",
                client=client,
                operation_name=operation_name,
                params=params,
            )
            return original(client, operation_name, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", announced)

    def actions(self, role: str) -> set[str]:
        return {
            action
            for called_as, service, signing, operation, _ in self.calls
            if called_as == role
            for action in iam_actions(service, signing, operation)
        }

    def unallowed(self, documents: Mapping[str, Mapping[str, Any]]) -> list[str]:
        problems = set()
        for role, service, signing, operation, resource in self.calls:
            for action in iam_actions(service, signing, operation):
                if not allows(documents[role], action, resource):
                    problems.add(f"{role}: {service}.{operation} needs {action} on {resource}")
        return sorted(problems)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[CallRecorder]:
    recorder = CallRecorder()
    original = framework.read_only_session

    def recorded_member_session(
        session: boto3.Session, caller: Any, account_id: str, role_name: str, **kwargs: Any
    ) -> boto3.Session:
        # A session through any other role (the access role verify falls back to) is not the scheduled path's.
        role = recorder.member_role_of(account_id) if role_name == "docustack-readonly" else f"role {role_name}"
        return recorder.attach(original(session, caller, account_id, role_name, **kwargs), role)

    monkeypatch.setattr(framework, "read_only_session", recorded_member_session)
    yield recorder


def verify_with_recorder(
    live: Any, project_dir: Path, stack: str, role: str, recorder: CallRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto_foundation

    original = moto_foundation.session
    settings = live.settings
    if settings.organization is not None and settings.organization.audit_services is not None:
        own = {
            live.account_ids[settings.organization.log_archive_account],
            live.account_ids[settings.organization.audit_services.audit_account],
        }
        recorder.member_role_of = lambda account_id: "member" if account_id in own else "baseline-member"
    # run_verify takes the stack's session from here.
    monkeypatch.setattr(moto_foundation, "session", lambda: recorder.attach(original(), role))
    recorder.announce_every_call(monkeypatch)
    run_verify(live, project_dir, stack)


def state_arns(settings: Any, stack: str) -> tuple[str, str]:
    spec = StateBackendSpec.from_settings(settings, stack)
    account = settings.account
    return (
        f"arn:aws:s3:::{spec.bucket_name}",
        f"arn:aws:kms:{account.region}:{account.id}:key/{settings.state_backend.key_id}",
    )


def management_documents(settings: Any) -> dict[str, dict[str, Any]]:
    """The management role's policies as the program renders them, with its step into the member role."""
    from components.github_ci_roles import assume_member_read_only_policy

    bucket, key = state_arns(settings, "management")
    own = preview_read_only_policy("management", bucket, key)
    assume = assume_member_read_only_policy(f"arn:aws:iam::*:role/{settings.member_read_only_role_name}")
    # allows() reads no conditions: the step's condition (the role's account is in the caller's organization, true
    # of every account moto's organization has) is evaluated in tests/test_member_read_only_stack_set.py.
    steps = [{k: v for k, v in statement.items() if k != "Condition"} for statement in assume["Statement"]]
    log_buckets = f"arn:aws:s3:::{settings.log_archive_bucket_pattern()}"
    return {
        "management": {"Statement": own["Statement"] + steps},
        "member": member_read_only_policy([log_buckets]),
        "baseline-member": baseline_member_read_only_policy(),
    }


def test_verify_of_the_management_stack_calls_only_what_its_roles_allow(
    live_foundation: LiveFoundation, project_dir: Path, recorder: CallRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify_with_recorder(live_foundation, project_dir, "management", "management", recorder, monkeypatch)
    # Operations moto lacks are stubbed by the foundation, and recorded all the same.
    assert ("management", "securityhub", "securityhub", "ListOrganizationAdminAccounts", "*") in recorder.calls
    roles = {role for role, *_ in recorder.calls}
    # Every member account through its read-only role, none through the access role: the scheduled verify (the
    # read-only CI role, which may assume nothing else) reads them all.
    assert roles == {"management", "member", "baseline-member"}, roles
    assert recorder.unallowed(management_documents(live_foundation.settings)) == []
    # VERIFY_ACTIONS holds only what verify calls: no action widens a role for a check that no longer needs it.
    for role in ("management", "member", "baseline-member"):
        assert set(VERIFY_ACTIONS[role]) <= recorder.actions(role), role


def test_verify_of_an_account_stack_calls_only_what_its_role_allows(
    aws: None, monkeypatch: pytest.MonkeyPatch, project_dir: Path, recorder: CallRecorder
) -> None:
    sign_in(monkeypatch, "216482851263")
    live = build_account_stack(filled_in_config("dev")[CONFIG_KEY], "dev")
    verify_with_recorder(live, project_dir, "dev", "account", recorder, monkeypatch)
    bucket, key = state_arns(live.settings, "dev")
    assert recorder.calls
    assert recorder.unallowed({"account": preview_read_only_policy("account", bucket, key)}) == []
    assert set(VERIFY_ACTIONS["account"]) <= recorder.actions("account")


def test_the_recorder_catches_a_call_the_role_does_not_allow() -> None:
    """The verify tests above must be able to fail."""
    recorder = CallRecorder()
    recorder.calls.append(("account", "lambda", "lambda", "GetFunctionConfiguration", "*"))
    recorder.calls.append(("account", "s3", "s3", "GetObject", "arn:aws:s3:::other-bucket/data.csv"))
    recorder.calls.append(("account", "sts", "sts", "GetCallerIdentity", "*"))
    document = preview_read_only_policy("account", STATE_BUCKET, STATE_KEY)
    assert recorder.unallowed({"account": document}) == [
        "account: lambda.GetFunctionConfiguration needs lambda:GetFunctionConfiguration on *",
        "account: s3.GetObject needs s3:GetObject on arn:aws:s3:::other-bucket/data.csv",
    ]
    assert BUCKET_LIST_ACTION == "s3:ListBucket"
    assert role_read_actions("member")
