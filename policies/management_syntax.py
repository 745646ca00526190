"""The grammar of the management policy types: tag policies, AI services opt-out policies and EC2 declarative
policies. Each checker takes a parsed document and returns the problems AWS would refuse it for (an empty list when
there are none), each naming the JSON path of the element and the reason.

What the three types share (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html,
"Inheritance operators"): a policy is a tree of objects whose leaves are *settings*, each an object of inheritance
operators.

- Value-setting operators: ``@@assign`` overwrites what is inherited and applies to any setting; ``@@append`` and
  ``@@remove`` add to or remove from an inherited list and "can be used with only multi-valued settings" (JSON
  arrays).
- The child control operator ``@@operators_allowed_for_child_policies`` lists the value-setting operators child
  policies may use: ``["@@all"]`` (the default), one or more of ``@@assign``/``@@append``/``@@remove``, or
  ``["@@none"]`` (children can change nothing: the value is locked). It may stand on a setting or on the object
  that holds settings.
- Anything else starting with ``@@`` is not an operator of these types. ``@@enforced_for`` is named by the AI
  opt-out page only to say it is not allowed there; in tag policies enforcement is the ``enforced_for`` *setting*.

One value-setting operator per setting: the pages show no setting with two, and which would apply first is not
documented, so a document with two is refused as ambiguous (stricter than AWS may be: UNVERIFIED).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

ASSIGN, APPEND, REMOVE = "@@assign", "@@append", "@@remove"
VALUE_OPERATORS = (ASSIGN, APPEND, REMOVE)
CHILD_CONTROL = "@@operators_allowed_for_child_policies"

Problems = list[str]
ItemCheck = Callable[[Any, str], Iterable[str]]


def _json_path(*parts: str) -> str:
    return "".join(f"[{part!r}]" if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) else f".{part}" for part in parts)


def _child_control_problems(value: Any, where: str, allowed: tuple[str, ...]) -> Problems:
    """``@@operators_allowed_for_child_policies``: ``["@@all"]``, ``["@@none"]`` or a list of allowed operators."""
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        return [f"{where}.{CHILD_CONTROL} must be a non-empty list of operator names"]
    if len(set(value)) != len(value):
        return [f"{where}.{CHILD_CONTROL} repeats an operator"]
    if value in (["@@all"], ["@@none"]):
        return []
    if "@@all" in value or "@@none" in value:
        return [f"{where}.{CHILD_CONTROL}: @@all and @@none stand alone, never with other operators"]
    unknown = [item for item in value if item not in allowed]
    if unknown:
        return [
            f"{where}.{CHILD_CONTROL} allows {unknown}; this policy type allows only {list(allowed)}, @@all or @@none"
        ]
    return []


def _operator_keys_problems(node: dict[str, Any], where: str, forbidden_hint: dict[str, str]) -> Problems:
    problems = []
    for key in node:
        if key.startswith("@@") and key not in (*VALUE_OPERATORS, CHILD_CONTROL):
            hint = forbidden_hint.get(key, "not an inheritance operator of this policy type")
            problems.append(f"{where}: {key!r} is {hint}")
    return problems


def setting_problems(
    node: Any,
    where: str,
    *,
    multi_valued: bool,
    check_item: ItemCheck,
    operators: tuple[str, ...] = VALUE_OPERATORS,
    child_operators: tuple[str, ...] = VALUE_OPERATORS,
    required: bool = False,
    forbidden_hint: dict[str, str] | None = None,
) -> Problems:
    """One setting: an object of inheritance operators whose values ``check_item`` judges one by one.

    A single-valued setting takes only ``@@assign`` with one value; a multi-valued one takes a list under each of
    ``operators``. ``required``: the setting must assign (or change) a value, not only restrict children.
    """
    if not isinstance(node, dict):
        return [f'{where} must be an object of inheritance operators, such as {{"{ASSIGN}": ...}}']
    problems = _operator_keys_problems(node, where, forbidden_hint or {})
    extra = [key for key in node if not key.startswith("@@")]
    if extra:
        problems.append(f"{where} may hold only inheritance operators, not {extra}")
    if CHILD_CONTROL in node:
        problems += _child_control_problems(node[CHILD_CONTROL], where, child_operators)
    present = [op for op in VALUE_OPERATORS if op in node]
    for op in present:
        if op not in operators:
            why = "" if multi_valued else " (a single-valued setting)"
            problems.append(f"{where}: {op} cannot be used here{why}; allowed: {', '.join(operators)}")
    if len(present) > 1:
        problems.append(f"{where} has {present}: one value-setting operator per setting")
    if not node:
        problems.append(f"{where} holds no inheritance operator")
    elif required and not present:
        problems.append(f"{where} needs a value ({' or '.join(operators)})")
    for op in present:
        if op not in operators:
            continue
        value = node[op]
        if multi_valued:
            if not isinstance(value, list) or not value:
                problems.append(f"{where}.{op} must be a non-empty list")
                continue
            for index, item in enumerate(value):
                problems += check_item(item, f"{where}.{op}[{index}]")
            if len({repr(item) for item in value}) != len(value):
                problems.append(f"{where}.{op} repeats a value")
        else:
            problems += check_item(value, f"{where}.{op}")
    return problems


def one_of(*values: str) -> ItemCheck:
    """Exactly one of ``values``, compared case-sensitively (the pages give each value's exact spelling)."""

    def check(item: Any, where: str) -> Iterable[str]:
        if item not in values:
            yield f"{where} is {item!r}; it must be one of {list(values)} (exact case)"

    return check


def _container_problems(
    node: Any, where: str, known: dict[str, Callable[[Any, str], Problems]], *, required: tuple[str, ...] = ()
) -> Problems:
    """An object of named parts (no operators but the child control one), each checked by its own function."""
    if not isinstance(node, dict):
        return [f"{where} must be an object"]
    problems = []
    for key, value in node.items():
        if key == CHILD_CONTROL:
            problems += _child_control_problems(value, where, VALUE_OPERATORS)
        elif key in known:
            problems += known[key](value, f"{where}{_json_path(key)}")
        else:
            problems.append(f"{where} has an unknown key {key!r}; known: {sorted(known)}")
    for key in required:
        if key not in node:
            problems.append(f"{where} needs {key!r}")
    return problems


def _top_level(document: Any, root: str, check: Callable[[Any, str], Problems]) -> Problems:
    if not isinstance(document, dict):
        return ["the document must be a JSON object"]
    extra = sorted(set(document) - {root})
    problems = [f'the document may hold only the key "{root}", not {extra}'] if extra else []
    if root not in document:
        return [*problems, f'the document must start with the key "{root}"']
    return problems + check(document[root], root)


# ---------------------------------------------------------------------------------------------------------------
# Tag policies: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_example-tag-policies.html
# ("Tag policy syntax"; the brief calls it orgs_manage_policies_tag-policies-syntax.html).
#
# { "tags": { "<policy key>": { "tag_key": {"@@assign": "<Exact-Case Key>"},
#                               "tag_value": {"@@assign": ["value", "prefix*"]},
#                               "enforced_for": {"@@assign": ["service:resource-type"]} } } }
#
# - The policy key "must match the value for the tag key, except for the case treatment": it is compared with the
#   tag key case-insensitively, so two policy keys differing only in case name the same tag and are refused as
#   ambiguous. (The pages disagree on the policy key itself: "the policy value is not case sensitive" in 2023,
#   "The policy value is case sensitive" now; whether AWS refuses such a pair is UNVERIFIED.)
# - tag_key's @@assign is the exact capitalization resources must use ("If case treatment isn't defined,
#   lowercase is the default case treatment for tag keys"); tag keys and values are case-sensitive
#   (orgs_manage_policies_tag-policies.html). tag_key is single-valued: only @@assign.
# - tag_value and enforced_for are lists. "You can use only one wildcard per tag value"; in enforced_for a
#   wildcard may not stand for all services or for a resource of every service.
# - enforced_for accepts only the resource types AWS supports enforcement for (ENFORCEMENT_SUPPORTED below).
# - report_required_tag_for (the "Required tag key" capability) is a list of resource types, reported on only.
# ---------------------------------------------------------------------------------------------------------------

# Resource types (and per-service "all supported" forms) that tag policies can enforce on, from
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_supported-resources-enforcement.html.
# That page's table could not be read here (its Markdown source renders the table as "See the AWS documentation
# website"), so this list holds only the entries AWS's own tag-policy pages use in examples; it is PARTIAL and
# UNVERIFIED as a whole. It fails closed: a type AWS supports but that is not listed is refused at config time
# (add it here with its source) rather than accepted and then refused by AWS at `pulumi up`.
ENFORCEMENT_SUPPORTED: dict[str, str] = {
    # The syntax page's example: "enforced_for": {"@@assign": ["secretsmanager:ALL_SUPPORTED"]} (current wording;
    # the 2023 page wrote "secretsmanager:*").
    "secretsmanager:ALL_SUPPORTED": "orgs_manage_policies_example-tag-policies.html",
    "secretsmanager:*": "orgs_manage_policies_example-tag-policies.html (2023)",
    # The inheritance page's examples 1-3: "enforced_for": {"@@assign": ["redshift:*", "dynamodb:table"]}.
    "dynamodb:table": "orgs_manage_policies_inheritance_mgmt.html",
    "redshift:*": "orgs_manage_policies_inheritance_mgmt.html",
}

# AWS tag keys: 1-128 characters, tag values 0-256; letters, digits, spaces and _ . : / = + - @ ; keys beginning
# with aws: are reserved (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html, "Tag naming limits
# and requirements"). A tag value in a tag policy may carry one * wildcard.
TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}", re.UNICODE)
TAG_VALUE = re.compile(r"[\w .:/=+\-@*]{0,256}", re.UNICODE)
TAG_POLICY_KEYS = ("tag_key", "tag_value", "enforced_for", "report_required_tag_for")


def _tag_key_text(item: Any, where: str) -> Iterable[str]:
    if not isinstance(item, str) or not TAG_KEY.fullmatch(item):
        yield f"{where} is {item!r}: a tag key is 1-128 letters, digits, spaces or _ . : / = + - @"
    elif item.lower().startswith("aws:"):
        yield f"{where} is {item!r}: tag keys beginning with aws: are reserved for AWS"


def _tag_value_text(item: Any, where: str) -> Iterable[str]:
    if not isinstance(item, str) or not TAG_VALUE.fullmatch(item):
        yield f"{where} is {item!r}: a tag value is 0-256 letters, digits, spaces or _ . : / = + - @"
    elif item.count("*") > 1:
        yield f"{where} is {item!r}: a tag value may carry only one * wildcard"


def _enforced_for_item(item: Any, where: str) -> Iterable[str]:
    if not isinstance(item, str):
        yield f"{where} must be a string such as 'dynamodb:table'"
    elif item.startswith("*") or item == "ALL_SUPPORTED":
        yield f"{where} is {item!r}: a wildcard cannot name all services or a resource of every service"
    elif item not in ENFORCEMENT_SUPPORTED:
        yield (
            f"{where} is {item!r}: not a resource type tag policies can enforce on "
            f"(supported here: {sorted(ENFORCEMENT_SUPPORTED)}; policies.management_syntax.ENFORCEMENT_SUPPORTED)"
        )


# "Required tag key" reporting (orgs_manage_policies_tag-policies-enforcement.html): the block AWS's Resource Groups
# Tagging API reads required tag keys from, "marked as required in the report_required_tag_for block of the
# effective tag policy" (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_RequiredTag.html).
# It only reports, never refuses a request, so a resource type is checked for its service:type shape only; which
# types AWS reports on is UNVERIFIED here.
REPORTED_RESOURCE_TYPE = re.compile(r"[a-z0-9-]+:(?:[A-Za-z0-9-]+|\*|ALL_SUPPORTED)")


def _reported_for_item(item: Any, where: str) -> Iterable[str]:
    if not isinstance(item, str) or not REPORTED_RESOURCE_TYPE.fullmatch(item):
        yield f"{where} is {item!r}: it must be a resource type such as 'ec2:instance' (service:resource-type)"


def _tag_rule_problems(policy_key: str, rule: Any, where: str) -> Problems:
    problems = list(_tag_key_text(policy_key, f"{where} (the policy key)"))
    checks = {
        "tag_key": lambda node, at: setting_problems(
            node, at, multi_valued=False, check_item=_tag_key_text, operators=(ASSIGN,)
        ),
        "tag_value": lambda node, at: setting_problems(node, at, multi_valued=True, check_item=_tag_value_text),
        "enforced_for": lambda node, at: setting_problems(node, at, multi_valued=True, check_item=_enforced_for_item),
        "report_required_tag_for": lambda node, at: setting_problems(
            node, at, multi_valued=True, check_item=_reported_for_item
        ),
    }
    problems += _container_problems(rule, where, checks)
    if isinstance(rule, dict):
        tag_key = rule.get("tag_key")
        assigned = tag_key.get(ASSIGN) if isinstance(tag_key, dict) else None
        if isinstance(assigned, str) and assigned.lower() != policy_key.lower():
            problems.append(
                f"{where}.tag_key.@@assign is {assigned!r}: it must be the policy key {policy_key!r} "
                "in the capitalization resources must use (only the case may differ)"
            )
    return problems


def tag_policy_problems(document: Any) -> Problems:
    """The tag policy grammar of orgs_manage_policies_example-tag-policies.html (see the comment above)."""

    def tags(node: Any, where: str) -> Problems:
        if not isinstance(node, dict):
            return [f"{where} must be an object of policy keys"]
        problems: Problems = []
        seen: dict[str, str] = {}
        for key, rule in node.items():
            if key == CHILD_CONTROL:
                problems += _child_control_problems(rule, where, VALUE_OPERATORS)
                continue
            if key.startswith("@@"):
                problems.append(f"{where}: {key!r} is not an inheritance operator of this policy type")
                continue
            if key.lower() in seen:
                problems.append(
                    f"{where}: policy keys {seen[key.lower()]!r} and {key!r} differ only in case; "
                    "policy keys are not case-sensitive, so both name the same tag"
                )
            seen.setdefault(key.lower(), key)
            problems += _tag_rule_problems(key, rule, f"{where}{_json_path(key)}")
        if not seen:
            problems.append(f"{where} must define at least one tag")
        return problems

    return _top_level(document, "tags", tags)


# ---------------------------------------------------------------------------------------------------------------
# AI services opt-out policies: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_ai-opt-out_syntax.html
#
# { "services": { "default": { "opt_out_policy": { "@@operators_allowed_for_child_policies": ["@@none"],
#                                                  "@@assign": "optOut" } } } }
#
# - "services" is the fixed outermost element; under it, one key per AI service, or "default" for all current
#   and future AI services. The list of service names grows (2023: codeguruprofiler ... translate; later aiops,
#   awssupplychain, chimesdkvoiceanalytics, cloudwatch and more), so a name is checked for its shape (lowercase
#   letters and digits), not against a copy of the list; whether AWS refuses an unknown name is UNVERIFIED.
# - "opt_out_policy" "must be present" under each service and "is the only key you can place under a service
#   name key"; it "can contain only the @@assign operator" with "optOut" or "optIn", case exactly so ("The
#   policies do not work if you use unexpected capitalization").
# - "You can't use the @@append and @@remove inheritance operators"; "You can't use the @@enforced_for operator".
# - @@operators_allowed_for_child_policies takes "@@assign" or "@@none" (and the general "@@all").
# ---------------------------------------------------------------------------------------------------------------

AI_SERVICE_NAME = re.compile(r"[a-z][a-z0-9]*")
AI_OPT_OUT_HINTS = {
    "@@enforced_for": "not allowed in AI services opt-out policies (the AI opt-out syntax page)",
}


def ai_opt_out_problems(document: Any) -> Problems:
    """The AI services opt-out grammar of orgs_manage_policies_ai-opt-out_syntax.html (see the comment above)."""

    def opt_out_policy(node: Any, where: str) -> Problems:
        problems = setting_problems(
            node,
            where,
            multi_valued=False,
            check_item=one_of("optOut", "optIn"),
            operators=(ASSIGN,),
            child_operators=(ASSIGN,),
            required=True,
            forbidden_hint=AI_OPT_OUT_HINTS,
        )
        return problems

    def service(node: Any, where: str) -> Problems:
        if not isinstance(node, dict):
            return [f"{where} must be an object holding opt_out_policy"]
        problems: Problems = []
        for key, value in node.items():
            if key == CHILD_CONTROL:
                problems += _child_control_problems(value, where, (ASSIGN,))
            elif key == "opt_out_policy":
                problems += opt_out_policy(value, f"{where}.opt_out_policy")
            elif key.startswith("@@"):
                problems.append(f"{where}: {key!r} is {AI_OPT_OUT_HINTS.get(key, 'not an operator of this type')}")
            else:
                problems.append(f"{where} has {key!r}: opt_out_policy is the only key under a service name")
        if "opt_out_policy" not in node:
            problems.append(f"{where} needs opt_out_policy")
        return problems

    def services(node: Any, where: str) -> Problems:
        if not isinstance(node, dict):
            return [f"{where} must be an object of AI service names"]
        problems: Problems = []
        names = 0
        for key, value in node.items():
            if key == CHILD_CONTROL:
                problems += _child_control_problems(value, where, (ASSIGN,))
            elif key.startswith("@@"):
                problems.append(f"{where}: {key!r} is {AI_OPT_OUT_HINTS.get(key, 'not an operator of this type')}")
            elif not AI_SERVICE_NAME.fullmatch(key):
                problems.append(f"{where}: {key!r} is not an AI service name (lowercase letters and digits) or default")
            else:
                names += 1
                problems += service(value, f"{where}.{key}")
        if not names:
            problems.append(f"{where} must name at least one service or default")
        return problems

    return _top_level(document, "services", services)


# ---------------------------------------------------------------------------------------------------------------
# EC2 declarative policies: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_syntax.html
#
# { "ec2_attributes": { "exception_message": {"@@assign": "..."},
#                       "<attribute>": { "<field>": {"@@assign": "<value>"} } } }
#
# "Declarative policies always start with a fixed key name for the given AWS service" (ec2_attributes); under it
# exception_message and the supported attributes, each with the fields and values that page lists:
# vpc_block_public_access, serial_console_access, image_block_public_access, allowed_images_settings,
# instance_metadata_defaults, snapshot_block_public_access.
# ---------------------------------------------------------------------------------------------------------------


def _assign(check: ItemCheck, *, required: bool = False) -> Callable[[Any, str], Problems]:
    """A single-valued declarative field. Like any setting it may only restrict child policies
    (``{"@@operators_allowed_for_child_policies": ["@@none"]}``, the inheritance page's Policy H shape) without
    assigning a value; an empty object is refused."""

    def field(node: Any, where: str) -> Problems:
        return setting_problems(
            node, where, multi_valued=False, check_item=check, operators=(ASSIGN,), required=required
        )

    return field


def _list_field(check: ItemCheck) -> Callable[[Any, str], Problems]:
    def field(node: Any, where: str) -> Problems:
        return setting_problems(node, where, multi_valued=True, check_item=check)

    return field


def _integer_between(low: int, high: int, *, text: bool) -> ItemCheck:
    """An integer in [low, high]; ``text``: also as a string of digits, as the IMDS example writes "4"."""

    def check(item: Any, where: str) -> Iterable[str]:
        value = item
        if text and isinstance(item, str) and re.fullmatch(r"-?[0-9]+", item):
            value = int(item)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            yield f"{where} is {item!r}: it must be an integer from {low} to {high}"

    return check


def _string(min_length: int, max_length: int, pattern: str = r".*") -> ItemCheck:
    def check(item: Any, where: str) -> Iterable[str]:
        if not isinstance(item, str) or not min_length <= len(item) <= max_length or not re.fullmatch(pattern, item):
            yield f"{where} is {item!r}: it must be a string of {min_length}-{max_length} characters"

    return check


def _image_provider(item: Any, where: str) -> Iterable[str]:
    # "A comma-separated list of 12 digit account IDs or owner alias of amazon, aws_marketplace, aws_backup_vault."
    if not (isinstance(item, str) and (re.fullmatch(r"[0-9]{12}", item) or item in IMAGE_PROVIDER_ALIASES)):
        yield f"{where} is {item!r}: a 12-digit account ID or one of {list(IMAGE_PROVIDER_ALIASES)}"


IMAGE_PROVIDER_ALIASES = ("amazon", "aws_marketplace", "aws_backup_vault")
MAX_DAYS = 2147483647
ENABLED_DISABLED = ("enabled", "disabled")
PREFERENCE = ("no_preference", "enabled", "disabled")


def _criteria(node: Any, where: str) -> Problems:
    fields = {
        "allowed_image_providers": _list_field(_image_provider),
        # "Names can include wildcards (? and *). Length: 1-128 characters."
        "image_names": _list_field(_string(1, 128)),
        # "Length: 1-25 characters Valid characters: Letters (A-Z, a-z) and numbers (0-9)"
        "marketplace_product_codes": _list_field(_string(1, 25, r"[A-Za-z0-9]+")),
        "creation_date_condition": lambda n, at: _container_problems(
            n, at, {"maximum_days_since_created": _assign(_integer_between(0, MAX_DAYS, text=False))}
        ),
        "deprecation_time_condition": lambda n, at: _container_problems(
            n, at, {"maximum_days_since_deprecated": _assign(_integer_between(0, MAX_DAYS, text=False))}
        ),
    }
    return _container_problems(node, where, fields)


def _image_criteria(node: Any, where: str) -> Problems:
    # "Support up to 10 criteria with the name from criteria_1 to criteria_10".
    return _container_problems(node, where, {f"criteria_{n}": _criteria for n in range(1, 11)})


EC2_ATTRIBUTES: dict[str, Callable[[Any, str], Problems]] = {
    # "Under ec2_attributes, you can use exception_message to set a custom error message."
    # Its length limit is on the custom error message page, not read here: only a non-empty string is required.
    "exception_message": _assign(_string(1, MAX_DAYS)),
    "vpc_block_public_access": lambda node, where: _container_problems(
        node,
        where,
        {
            "internet_gateway_block": lambda n, at: _container_problems(
                n,
                at,
                {
                    "mode": _assign(one_of("off", "block_ingress", "block_bidirectional")),
                    "exclusions_allowed": _assign(one_of(*ENABLED_DISABLED)),
                },
                # "mode": { // (required)", "exclusions_allowed": { // (required)" in the page's policy contents
                # (the annotations are in its translated versions, e.g. docs.aws.amazon.com/ko_kr/...).
                required=("mode", "exclusions_allowed"),
            )
        },
    ),
    "serial_console_access": lambda node, where: _container_problems(
        node, where, {"status": _assign(one_of(*ENABLED_DISABLED))}, required=("status",)
    ),
    # AMIs: "unblocked" or "block_new_sharing" (there is no block-all mode for images).
    "image_block_public_access": lambda node, where: _container_problems(
        node, where, {"state": _assign(one_of("unblocked", "block_new_sharing"))}, required=("state",)
    ),
    "allowed_images_settings": lambda node, where: _container_problems(
        node,
        where,
        {"state": _assign(one_of("enabled", "disabled", "audit_mode")), "image_criteria": _image_criteria},
    ),
    "instance_metadata_defaults": lambda node, where: _container_problems(
        node,
        where,
        {
            "http_tokens": _assign(one_of("no_preference", "required", "optional")),
            # "Integer value from -1 to 64 ... To indicate no preference, specify -1." (the page's example: "4")
            "http_put_response_hop_limit": _assign(_integer_between(-1, 64, text=True)),
            "http_endpoint": _assign(one_of(*PREFERENCE)),
            "instance_metadata_tags": _assign(one_of(*PREFERENCE)),
        },
    ),
    "snapshot_block_public_access": lambda node, where: _container_problems(
        node,
        where,
        {"state": _assign(one_of("block_all_sharing", "block_new_sharing", "unblocked"))},
        required=("state",),
    ),
}


def declarative_ec2_problems(document: Any) -> Problems:
    """The EC2 declarative policy grammar of orgs_manage_policies_declarative_syntax.html."""

    def attributes(node: Any, where: str) -> Problems:
        problems = _container_problems(node, where, EC2_ATTRIBUTES)
        if isinstance(node, dict) and not set(node) & (set(EC2_ATTRIBUTES) - {"exception_message"}):
            problems.append(f"{where} must set at least one attribute")
        return problems

    return _top_level(document, "ec2_attributes", attributes)


def setting_paths(node: Any, path: str = "") -> dict[str, Any]:
    """Key path (``tags/data-classification/tag_value``) -> the inheritance operators found on that object, for every
    object of a management policy that holds operators; a value that is not an object is its own element. Two
    documents that set the same operators on the same paths say the same thing, whatever their key order."""
    if not isinstance(node, dict):
        return {path: node}
    found: dict[str, Any] = {}
    operators = {key: value for key, value in node.items() if key.startswith("@@")}
    if operators:
        found[path] = operators
    for key, value in node.items():
        if not key.startswith("@@"):
            found.update(setting_paths(value, f"{path}/{key}" if path else key))
    return found
