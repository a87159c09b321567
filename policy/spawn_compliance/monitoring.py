"""Single table of the CloudWatch metric-filter controls checked by the audit policy pack.

This module is the one place that defines which CloudWatch Logs metric filters (and alarms) must exist on
the CloudTrail log group:

* CIS AWS Foundations Benchmark v4.0.1, section 4 "Monitoring", recommendations 4.1-4.15
  (4.16 "Ensure AWS Security Hub is enabled" is not a metric filter and is not listed here).
  AWS Security Hub checks fourteen of them with the controls CloudWatch.1-CloudWatch.14; CIS 4.15
  (AWS Organizations changes) has no Security Hub control.
* spawn's own two alarms: ``spawn-unmanaged-launch`` and ``spawn-iam-role-change``.

Sources
-------
* AWS Security Hub user guide, "Security Hub controls for Amazon CloudWatch" (CloudWatch.1-14, their
  remediation filter patterns and the CIS requirement each maps to):
  https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
  (text read from
  https://github.com/awsdocs/aws-security-hub-user-guide/blob/main/doc_source/cloudwatch-controls.md
  and https://docs.amazonaws.cn/en_us/securityhub/latest/userguide/cloudwatch-controls.md).
  Security Hub states that each check "fails if the exact metric filters prescribed by CIS are not used.
  Additional fields or terms cannot be added to the metric filters."
* CIS Amazon Web Services Foundations Benchmark v4.0.1, section 4
  (https://www.cisecurity.org/benchmark/amazon_web_services).
  The PDF is behind a CIS login; numbering, titles and filter text were taken from the transcription of
  v4.0.1 in Prowler's compliance table
  https://github.com/prowler-cloud/prowler/blob/master/prowler/compliance/aws/cis_4.0_aws.json
  (that transcription strips double quotes, so quoting below follows the widely reproduced CIS text, e.g.
  ``$.errorMessage = "Failed authentication"``; quoting of plain values does not change semantics and
  ``normalize_pattern`` ignores it).
* CloudWatch Logs filter pattern syntax:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
  (text read from
  https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide/blob/main/doc_source/FilterAndPatternSyntax.md)
* PutMetricFilter API (``filterPattern`` length 0-1024):
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html
  (verified against the botocore service model ``logs/2014-03-28``: shape ``FilterPattern``,
  ``max: 1024``).

Array syntax (matters for spawn-unmanaged-launch)
-------------------------------------------------
The CloudWatch Logs documentation describes JSON selectors as follows (FilterAndPatternSyntax):

    "Property selectors always start with dollar sign ($), which signifies the root of the JSON. Property
    selectors are alphanumeric strings that also support '-' and '_' characters. Array elements are
    denoted with [NUMBER] syntax, and must follow a property. Examples are: $.eventId, $.users[0],
    $.users[0].id, $.requestParameters.instanceId."

    "The SELECTOR must point to a value node (string or number) in the JSON. If it points to an array or
    object, the filter will not be applied because the log format doesn't match the filter. For example,
    both {$.users = 1} and {$.users != 1} will fail to match a log event where users is an array."

Only numeric indexes are documented; a wildcard index such as ``items[*].tags[*].key`` is NOT documented
(practitioners report it does not work, e.g. https://github.com/cds-snc/covid-alert-server/pull/162:
"AWS Cloudwatch can't filter on a variable position ex: ``{$.updates[*].name = ...``"). ``NOT EXISTS`` and
``!=`` apply to one concrete selector, so "no element of the tag list has key X" cannot be expressed by a
single metric filter. Therefore:

* ``spawn-unmanaged-launch.filter_pattern`` counts ALL ``RunInstances`` calls (metric ``launches``);
* ``SPAWN_MANAGED_LAUNCH_PATTERN`` counts ``RunInstances`` calls that carry the ``spawn:managed`` tag key
  at any of the first ``SPAWN_TAG_SPEC_SLOTS`` tag specifications x ``SPAWN_TAG_SLOTS`` tags, spelled out
  with documented ``[NUMBER]`` indexes (metric ``managed_launches``; spawn's original docs only checked
  ``items[0].tags[0]``);
* the alarm is CloudWatch metric math ``launches - managed_launches`` with threshold >= 1. A metric filter
  counts a log event at most once however many ``||`` branches match, so the difference is the number of
  launches without the tag in the enumerated slots. A tag placed beyond the enumerated slots is counted
  as unmanaged, i.e. the approximation errs towards alarming. spawn itself always puts ``spawn:managed``
  in the first tag specification, within the first tags.

Wildcards in values are documented ("You can use the asterisk '*' wildcard character to match any text
at, before, or after a search term. ... Event* will match EventId and EventName"), which
``spawn-iam-role-change`` uses for ``$.requestParameters.roleName = "spawn-*"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class MonitoringControl:
    key: str  # stable kebab-case id used in config, e.g. "unauthorized-api-calls"
    cis_id: str | None  # "4.1" .. "4.15" (CIS v4.0.1); None for spawn's own controls
    security_hub_id: str | None  # "CloudWatch.2" etc.; None where Security Hub has no control
    title: str  # sentence-case, e.g. "Unauthorized API calls"
    metric_name: str  # CamelCase metric name, e.g. "UnauthorizedAPICalls"
    filter_pattern: str  # the filter text CIS v4.0.1 prescribes, verbatim semantics
    accepted_patterns: tuple[str, ...] = ()  # other published forms a checker should also accept
    threshold: int = 1


METRIC_NAMESPACE = "SpawnAudit"

_SH = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html"
_CIS = "https://github.com/prowler-cloud/prowler/blob/master/prowler/compliance/aws/cis_4.0_aws.json"

# Event names shared by several patterns.
_IAM_POLICY_EVENTS = (
    "DeleteGroupPolicy",
    "DeleteRolePolicy",
    "DeleteUserPolicy",
    "PutGroupPolicy",
    "PutRolePolicy",
    "PutUserPolicy",
    "CreatePolicy",
    "DeletePolicy",
    "CreatePolicyVersion",
    "DeletePolicyVersion",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
)
_ROUTE_TABLE_EVENTS = (
    "CreateRoute",
    "CreateRouteTable",
    "ReplaceRoute",
    "ReplaceRouteTableAssociation",
    "DeleteRouteTable",
    "DeleteRoute",
    "DisassociateRouteTable",
)


def _any_event(names: tuple[str, ...], sep: str = " || ", spaced: bool = True) -> str:
    op = " = " if spaced else "="
    return sep.join(f"($.eventName{op}{name})" for name in names)


CIS_CONTROLS: tuple[MonitoringControl, ...] = (
    # CIS v4.0.1 4.1 "Ensure unauthorized API calls are monitored" (Level 2). Source: _CIS.
    # Security Hub CloudWatch.2 (related requirement CIS v1.2.0/3.1). Source: _SH.
    # Note: CIS's text relies on && binding tighter than || (the exclusions apply to AccessDenied* only);
    # it is kept verbatim because Security Hub requires the exact CIS filter.
    MonitoringControl(
        key="unauthorized-api-calls",
        cis_id="4.1",
        security_hub_id="CloudWatch.2",
        title="Unauthorized API calls",
        metric_name="UnauthorizedAPICalls",
        filter_pattern=(
            '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
            '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'
        ),
        accepted_patterns=(
            # Security Hub CloudWatch.2 remediation form (CIS v1.2.0 3.1). Source: _SH.
            '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
        ),
    ),
    # CIS v4.0.1 4.2 "Ensure management console sign-in without MFA is monitored". Source: _CIS.
    # CIS gives two filters; the SSO-aware one (IAMUser + Success) is the one Security Hub CloudWatch.3
    # prescribes (related requirement CIS v1.2.0/3.2). Source: _SH.
    MonitoringControl(
        key="console-signin-without-mfa",
        cis_id="4.2",
        security_hub_id="CloudWatch.3",
        title="Management console sign-in without MFA",
        metric_name="ConsoleSigninWithoutMFA",
        filter_pattern=(
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
            '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
        ),
        accepted_patterns=(
            # CIS v4.0.1 4.2 first form (also CIS v1.2.0 3.2 / v1.4.0 4.2). Source: _CIS.
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        ),
    ),
    # CIS v4.0.1 4.3 "Ensure usage of the 'root' account is monitored". Source: _CIS.
    # Security Hub CloudWatch.1 (CIS v1.2.0/1.1, 3.3; v1.4.0/1.7, 4.3); its remediation text
    # normalizes to the same pattern. Source: _SH.
    MonitoringControl(
        key="root-account-usage",
        cis_id="4.3",
        security_hub_id="CloudWatch.1",
        title="Root account usage",
        metric_name="RootAccountUsage",
        filter_pattern=(
            '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }'
        ),
    ),
    # CIS v4.0.1 4.4 "Ensure IAM policy changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.4 (CIS v1.2.0/3.4, v1.4.0/4.4); same pattern with spaces. Source: _SH.
    MonitoringControl(
        key="iam-policy-changes",
        cis_id="4.4",
        security_hub_id="CloudWatch.4",
        title="IAM policy changes",
        metric_name="IAMPolicyChanges",
        filter_pattern="{" + _any_event(_IAM_POLICY_EVENTS, sep="||", spaced=False) + "}",
    ),
    # CIS v4.0.1 4.5 "Ensure CloudTrail configuration changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.5 (CIS v1.2.0/3.5, v1.4.0/4.5). Source: _SH.
    MonitoringControl(
        key="cloudtrail-config-changes",
        cis_id="4.5",
        security_hub_id="CloudWatch.5",
        title="CloudTrail configuration changes",
        metric_name="CloudTrailChanges",
        filter_pattern=(
            "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
            "($.eventName = StartLogging) || ($.eventName = StopLogging) }"
        ),
    ),
    # CIS v4.0.1 4.6 "Ensure AWS Management Console authentication failures are monitored". Source: _CIS.
    # Security Hub CloudWatch.6 (CIS v1.2.0/3.6, v1.4.0/4.6). Source: _SH.
    MonitoringControl(
        key="console-authentication-failures",
        cis_id="4.6",
        security_hub_id="CloudWatch.6",
        title="Management console authentication failures",
        metric_name="ConsoleAuthenticationFailure",
        filter_pattern='{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    ),
    # CIS v4.0.1 4.7 "Ensure disabling or scheduled deletion of customer created CMKs is monitored".
    # Source: _CIS. Security Hub CloudWatch.7 (CIS v1.2.0/3.7, v1.4.0/4.7). Source: _SH.
    MonitoringControl(
        key="cmk-disable-or-scheduled-deletion",
        cis_id="4.7",
        security_hub_id="CloudWatch.7",
        title="Disabling or scheduled deletion of customer created CMKs",
        metric_name="DisableOrDeleteCMK",
        filter_pattern=(
            "{($.eventSource = kms.amazonaws.com) && "
            "(($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"
        ),
    ),
    # CIS v4.0.1 4.8 "Ensure S3 bucket policy changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.8 (CIS v1.2.0/3.8, v1.4.0/4.8). Source: _SH.
    MonitoringControl(
        key="s3-bucket-policy-changes",
        cis_id="4.8",
        security_hub_id="CloudWatch.8",
        title="S3 bucket policy changes",
        metric_name="S3BucketPolicyChanges",
        filter_pattern=(
            "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
            "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
            "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
            "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
            "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"
        ),
    ),
    # CIS v4.0.1 4.9 "Ensure AWS Config configuration changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.9 (CIS v1.2.0/3.9, v1.4.0/4.9). Source: _SH.
    MonitoringControl(
        key="aws-config-changes",
        cis_id="4.9",
        security_hub_id="CloudWatch.9",
        title="AWS Config configuration changes",
        metric_name="AWSConfigChanges",
        filter_pattern=(
            "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
            "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
            "($.eventName=PutConfigurationRecorder)) }"
        ),
    ),
    # CIS v4.0.1 4.10 "Ensure security group changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.10 (CIS v1.2.0/3.10, v1.4.0/4.10). Source: _SH.
    MonitoringControl(
        key="security-group-changes",
        cis_id="4.10",
        security_hub_id="CloudWatch.10",
        title="Security group changes",
        metric_name="SecurityGroupChanges",
        filter_pattern=(
            "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
            "($.eventName = AuthorizeSecurityGroupEgress) || "
            "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
            "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
        ),
    ),
    # CIS v4.0.1 4.11 "Ensure Network Access Control List (NACL) changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.11 (CIS v1.2.0/3.11, v1.4.0/4.11). Source: _SH.
    MonitoringControl(
        key="nacl-changes",
        cis_id="4.11",
        security_hub_id="CloudWatch.11",
        title="Network access control list (NACL) changes",
        metric_name="NetworkACLChanges",
        filter_pattern=(
            "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
            "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
            "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"
        ),
    ),
    # CIS v4.0.1 4.12 "Ensure changes to network gateways are monitored". Source: _CIS.
    # Security Hub CloudWatch.12 (CIS v1.2.0/3.12, v1.4.0/4.12). Source: _SH.
    MonitoringControl(
        key="network-gateway-changes",
        cis_id="4.12",
        security_hub_id="CloudWatch.12",
        title="Network gateway changes",
        metric_name="NetworkGatewayChanges",
        filter_pattern=(
            "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
            "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
            "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"
        ),
    ),
    # CIS v4.0.1 4.13 "Ensure route table changes are monitored". Source: _CIS (audit step 3 text; note
    # that, by precedence, CIS's eventSource term only binds to CreateRoute). The v4.0.1 remediation step
    # and Security Hub CloudWatch.13 (CIS v1.2.0/3.13, v1.4.0/4.13) use the form without eventSource.
    MonitoringControl(
        key="route-table-changes",
        cis_id="4.13",
        security_hub_id="CloudWatch.13",
        title="Route table changes",
        metric_name="RouteTableChanges",
        filter_pattern="{($.eventSource = ec2.amazonaws.com) && " + _any_event(_ROUTE_TABLE_EVENTS) + " }",
        accepted_patterns=(
            # CIS v4.0.1 4.13 remediation step 1 / CIS v1.x / Security Hub CloudWatch.13. Sources: _CIS, _SH.
            "{ " + _any_event(_ROUTE_TABLE_EVENTS) + " }",
            # Fully parenthesized variant (eventSource applies to every event name); published in Prowler's
            # check metadata for cloudwatch_changes_to_network_route_tables_alarm_configured.
            "{($.eventSource = ec2.amazonaws.com) && (" + _any_event(_ROUTE_TABLE_EVENTS) + ")}",
        ),
    ),
    # CIS v4.0.1 4.14 "Ensure VPC changes are monitored". Source: _CIS.
    # Security Hub CloudWatch.14 (CIS v1.2.0/3.14, v1.4.0/4.14). Source: _SH.
    MonitoringControl(
        key="vpc-changes",
        cis_id="4.14",
        security_hub_id="CloudWatch.14",
        title="VPC changes",
        metric_name="VPCChanges",
        filter_pattern=(
            "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || "
            "($.eventName = ModifyVpcAttribute) || "
            "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
            "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
            "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
            "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"
        ),
    ),
    # CIS v4.0.1 4.15 "Ensure AWS Organizations changes are monitored". Source: _CIS.
    # No Security Hub CloudWatch.N control exists for it (CloudWatch.15-17 are alarm-action / retention
    # controls, not metric filters). Source: _SH.
    MonitoringControl(
        key="organizations-changes",
        cis_id="4.15",
        security_hub_id=None,
        title="AWS Organizations changes",
        metric_name="OrganizationsChanges",
        filter_pattern=(
            "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || "
            "($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || "
            "($.eventName = CreateOrganizationalUnit) || ($.eventName = CreatePolicy) || "
            "($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || "
            "($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || "
            "($.eventName = DetachPolicy) || ($.eventName = DisablePolicyType) || "
            "($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || "
            "($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || "
            "($.eventName = RemoveAccountFromOrganization) || ($.eventName = UpdatePolicy) || "
            "($.eventName = UpdateOrganizationalUnit)) }"
        ),
    ),
)

# --- spawn's own controls ---------------------------------------------------------------------------

SPAWN_MANAGED_TAG_KEY = "spawn:managed"
SPAWN_ROLE_NAME_PATTERN = "spawn-*"  # trailing '*' wildcard on a string value is documented
SPAWN_TAG_SPEC_SLOTS = 2  # tagSpecificationSet.items[0..1]
SPAWN_TAG_SLOTS = 5  # tags[0..4] within each tag specification

# Every RunInstances call (CloudTrail records requestParameters.tagSpecificationSet.items[].tags[].key).
SPAWN_ALL_LAUNCHES_PATTERN = '{ ($.eventSource = "ec2.amazonaws.com") && ($.eventName = "RunInstances") }'

# RunInstances calls carrying the spawn:managed tag key in any enumerated slot. Only "[NUMBER]" array
# indexes are documented (see module docstring), so the slots are spelled out.
SPAWN_MANAGED_LAUNCH_PATTERN = (
    '{($.eventSource="ec2.amazonaws.com")&&($.eventName="RunInstances")&&('
    + "||".join(
        f'($.requestParameters.tagSpecificationSet.items[{i}].tags[{j}].key="{SPAWN_MANAGED_TAG_KEY}")'
        for i in range(SPAWN_TAG_SPEC_SLOTS)
        for j in range(SPAWN_TAG_SLOTS)
    )
    + ")}"
)

# Metric names for the metric-math alarm: unmanaged = SpawnLaunches - SpawnManagedLaunches.
SPAWN_LAUNCHES_METRIC_NAME = "SpawnLaunches"
SPAWN_MANAGED_LAUNCHES_METRIC_NAME = "SpawnManagedLaunches"

# Every IAM call that changes a role and names it in requestParameters.roleName (IAM API Reference,
# "Actions defined by AWS Identity and Access Management", role actions): deleting a spawn role, or
# changing its boundary, tags or settings, is as much a change as attaching a policy to it.
SPAWN_ROLE_EVENTS = (
    "CreateRole",
    "PutRolePolicy",
    "AttachRolePolicy",
    "DeleteRolePolicy",
    "DetachRolePolicy",
    "UpdateAssumeRolePolicy",
    "DeleteRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "TagRole",
    "UntagRole",
)

SPAWN_CONTROLS: tuple[MonitoringControl, ...] = (
    # Alarm = metric math SpawnLaunches - SpawnManagedLaunches >= 1 (see module docstring); the
    # filter_pattern below feeds SpawnLaunches, SPAWN_MANAGED_LAUNCH_PATTERN feeds SpawnManagedLaunches.
    MonitoringControl(
        key="spawn-unmanaged-launch",
        cis_id=None,
        security_hub_id=None,
        title="EC2 launches without the spawn:managed tag",
        metric_name="SpawnUnmanagedLaunch",
        filter_pattern=SPAWN_ALL_LAUNCHES_PATTERN,
    ),
    MonitoringControl(
        key="spawn-iam-role-change",
        cis_id=None,
        security_hub_id=None,
        title="Changes to spawn IAM roles",
        metric_name="SpawnIAMRoleChange",
        filter_pattern=(
            '{ ($.eventSource = "iam.amazonaws.com") && ('
            + " || ".join(f'($.eventName = "{name}")' for name in SPAWN_ROLE_EVENTS)
            + f') && ($.requestParameters.roleName = "{SPAWN_ROLE_NAME_PATTERN}") }}'
        ),
    ),
)

ALL_CONTROLS: tuple[MonitoringControl, ...] = CIS_CONTROLS + SPAWN_CONTROLS

# --- pattern comparison -----------------------------------------------------------------------------

# A quoted value whose content is one of these characters only compares equal to its unquoted form
# ($.eventName="X" == $.eventName=X, "kms.amazonaws.com" == kms.amazonaws.com,
# "AccessDenied*" == AccessDenied*).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.*:-]+")


def normalize_pattern(pattern: str) -> str:
    """Return a canonical form of a filter pattern for equality comparison.

    Strips outer whitespace, removes all whitespace outside double-quoted strings and drops the double
    quotes around values that are plain identifiers (letters, digits, ``_ . * : -``). Whitespace inside
    quoted strings and backslash escapes are preserved. Redundant parentheses are not collapsed.
    """
    out: list[str] = []
    text = pattern.strip()
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            inner = text[i + 1 : min(j, n)]
            out.append(inner if _PLAIN_VALUE.fullmatch(inner) else f'"{inner}"')
            i = j + 1
        elif ch.isspace():
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _build_index() -> dict[str, MonitoringControl]:
    index: dict[str, MonitoringControl] = {}
    for control in ALL_CONTROLS:
        for candidate in (control.filter_pattern, *control.accepted_patterns):
            norm = normalize_pattern(candidate)
            other = index.setdefault(norm, control)
            if other is not control:
                raise ValueError(f"pattern of {control.key!r} collides with {other.key!r}")
    return index


_INDEX = _build_index()


def match_control(pattern: str) -> MonitoringControl | None:
    """Return the control whose filter_pattern or an accepted pattern normalizes equal to ``pattern``."""
    return _INDEX.get(normalize_pattern(pattern))


# PutMetricFilter filterPattern length limit (API reference; botocore shape FilterPattern max=1024).
CLOUDWATCH_FILTER_PATTERN_MAX_CHARS = 1024

for _p in (
    SPAWN_MANAGED_LAUNCH_PATTERN,
    *(p for c in ALL_CONTROLS for p in (c.filter_pattern, *c.accepted_patterns)),
):
    if len(_p) > CLOUDWATCH_FILTER_PATTERN_MAX_CHARS:
        raise ValueError(f"filter pattern exceeds {CLOUDWATCH_FILTER_PATTERN_MAX_CHARS} chars: {_p[:60]}...")
