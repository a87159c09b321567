"""Stack configuration, read once into a typed, validated ``Settings`` object.

Responsible for: parsing every ``spawn-audit:*`` key declared in ``Pulumi.yaml``, deriving the
effective retention of each log store from the shared compliance-profile table, building the
physical names and ARNs that other components need as *plain* strings (so that a real
``pulumi preview`` already knows every policy-relevant input), and refusing bad config with one
``ConfigError`` before any resource is registered.

Controls served: HIPAA 45 CFR 164.316(b)(2)(i) (retention floor), PCI DSS v4.0.1 10.5.1
(12 months, newest 3 months immediately available), 10.2.1 / 10.3 (access logging, restricted
read), SOC 2 CC7.2 (alarms that notify someone). The numbers themselves live in
``policy/audit_policies/profiles.py``, the table the policy pack enforces too.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pulumi
import pulumi_aws as aws

# The policy pack's table is the single source of truth; this is the one place that makes it
# importable for the program.
_POLICY_DIR = Path(__file__).resolve().parent.parent / "policy"
if str(_POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(_POLICY_DIR))

from audit_policies import monitoring, profiles  # noqa: E402

__all__ = ["ConfigError", "Settings", "load", "monitoring", "profiles"]

PROJECT = "spawn-audit"

ENCRYPTION_MODES = ("kms", "sse-s3")
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
# S3 refuses a lifecycle transition to these classes before day 30 (S3 User Guide,
# "Transitioning objects using Amazon S3 Lifecycle", constraints).
IA_STORAGE_CLASSES = frozenset({"STANDARD_IA", "ONEZONE_IA"})
IA_MINIMUM_TRANSITION_DAYS = 30
# AWS KMS ScheduleKeyDeletion: PendingWindowInDays 7-30.
KMS_DELETION_WINDOW = (7, 30)
# Derived names append at most 16 characters ("-cloudwatch-logs"); IAM role names stop at 64.
TRAIL_NAME_MAX = 48

# Why each profile sets its retention floor; used in error messages.
_FLOOR_SOURCES = {
    "hipaa": "45 CFR 164.316(b)(2)(i)",
    "pci-dss": "PCI DSS v4.0.1 10.5.1",
    "soc2": "SOC 2 policy: auditPeriodDays {audit} + 90",
}
_ACCESS_LOGGING_SOURCES = {"hipaa": "45 CFR 164.312(b)", "pci-dss": "PCI DSS v4.0.1 10.2.1"}

_ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# CloudTrail trail names: letters, digits, '.', '_', '-'; start and end with a letter or digit;
# no two separators in a row (CloudTrail API reference, CreateTrail Name).
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*$")
_BUCKET_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Bucket names without dots: dotted names break TLS on virtual-hosted-style requests.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_ARTIFACT_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LOG_GROUP_NAME = re.compile(r"^[A-Za-z0-9._/#-]{1,512}$")
_DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_LAMBDA_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_INTEGER = re.compile(r"^[+-]?\d+$")


class ConfigError(pulumi.RunError):
    """Stack config that the program refuses; the message names the key, the value and what is allowed.

    A ``pulumi.RunError``: Pulumi stops the program and prints the message alone, without a traceback.
    """


@dataclass(frozen=True)
class Settings:
    """Everything the components need, as plain values (nothing here is a ``pulumi.Output``)."""

    stack: str
    account_id: str
    partition: str
    region: str
    dns_suffix: str

    requirements: profiles.Requirements
    archive_retention_days: int
    archive_storage_class: str
    archive_transition_days: int | None  # None: objects expire before a transition would happen
    log_group_retention_days: int
    encryption: str
    access_logging: bool
    access_log_retention_days: int
    object_lock_mode: str | None
    object_lock_retention_days: int
    force_destroy: bool
    protect: bool

    trail_name: str
    bucket_name: str
    access_log_bucket_name: str
    log_group_name: str
    app_audit_log_group_name: str | None  # None: no application audit log group

    auditor_role_arns: tuple[str, ...]
    break_glass_role_arn: str | None
    alarm_emails: tuple[str, ...]
    alarm_https_endpoints: tuple[str, ...]
    alarm_controls: tuple[monitoring.MonitoringControl, ...]  # the enabled ones
    trail_sns_notification: bool
    insights: bool
    organization_id: str | None  # set only for an organization trail
    data_event_dynamodb_tables: tuple[str, ...]
    data_event_lambda_functions: tuple[str, ...]
    data_event_s3_buckets: tuple[str, ...]
    kms_deletion_window_days: int

    # --- derived values -------------------------------------------------------------------------
    @property
    def profiles(self) -> tuple[str, ...]:
        return self.requirements.profiles

    @property
    def kms(self) -> bool:
        return self.encryption == "kms"

    @property
    def organization_trail(self) -> bool:
        return self.organization_id is not None

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account_id if account else ''}:{resource}")

    @property
    def trail_arn(self) -> str:
        return self.arn("cloudtrail", f"trail/{self.trail_name}")

    @property
    def bucket_arn(self) -> str:
        return self.arn("s3", self.bucket_name, region=False, account=False)

    @property
    def access_log_bucket_arn(self) -> str:
        return self.arn("s3", self.access_log_bucket_name, region=False, account=False)

    def log_group_arn(self, name: str) -> str:
        """The ARN without the ``:*`` suffix (the form KMS encryption context uses)."""
        return self.arn("logs", f"log-group:{name}")

    @property
    def log_group_names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.log_group_name, self.app_audit_log_group_name) if n)

    @property
    def delivery_role_name(self) -> str:
        return f"{self.trail_name}-cloudwatch-logs"

    @property
    def delivery_role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.delivery_role_name}"

    @property
    def alarm_topic_name(self) -> str:
        return f"{self.trail_name}-security-alarms"

    @property
    def alarm_topic_arn(self) -> str:
        return self.arn("sns", self.alarm_topic_name)

    @property
    def delivery_topic_name(self) -> str:
        return f"{self.trail_name}-log-delivery"

    @property
    def delivery_topic_arn(self) -> str:
        return self.arn("sns", self.delivery_topic_name)

    @property
    def key_alias(self) -> str:
        return f"alias/{self.trail_name}"

    @property
    def logs_service_principal(self) -> str:
        return f"logs.{self.region}.{self.dns_suffix}"

    @property
    def tags(self) -> dict[str, str]:
        # S3 tag values allow no commas, hence the space-separated profile list.
        return {
            "spawn-audit:stack": self.stack,
            "spawn-audit:compliance-profiles": " ".join(self.profiles) or "sandbox",
        }


# --- reading ------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as it would be written in stack config (JSON spelling)."""
    return json.dumps(value)


class _Reader:
    """Parses raw config strings; collects every problem instead of stopping at the first."""

    def __init__(self, config: pulumi.Config) -> None:
        self.config = config
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def raw(self, key: str) -> str | None:
        value = self.config.get(key)
        if value is None:
            self.fail(f"{PROJECT}:{key} is not set; Pulumi.yaml declares its default, so this program "
                      f"must run as project {PROJECT}")
        return value

    def string(self, key: str) -> str:
        return self.raw(key) or ""

    def integer(self, key: str) -> int | None:
        raw = self.raw(key)
        if raw is None:
            return None
        if not _INTEGER.match(raw.strip()):
            self.fail(f"{PROJECT}:{key} = {_show(raw)} is not a whole number")
            return None
        return int(raw)

    def boolean(self, key: str) -> bool:
        raw = self.raw(key)
        if raw not in ("true", "false"):
            if raw is not None:
                self.fail(f"{PROJECT}:{key} = {_show(raw)} is not a boolean; allowed: true, false")
            return False
        return raw == "true"

    def strings(self, key: str) -> list[str]:
        raw = self.raw(key)
        if raw is None:
            return []
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{PROJECT}:{key} = {_show(raw)} is not an array of strings")
            return []
        return value


def _key(name: str) -> str:
    return f"{PROJECT}:{name}"


def _profiles_with(req: profiles.Requirements, flag: str) -> list[str]:
    return [p for p in req.profiles if getattr(profiles.PROFILES[p], flag)]


def _floor_reason(req: profiles.Requirements) -> str:
    """'the hipaa floor of 2192 days (45 CFR 164.316(b)(2)(i))' for the profile that sets the floor."""
    for name in req.profiles:
        own = profiles.requirements([name], req.audit_period_days).retention_floor_days
        if own == req.retention_floor_days:
            source = _FLOOR_SOURCES[name].format(audit=req.audit_period_days)
            return f"the {name} floor of {req.retention_floor_days} days ({source})"
    return f"the floor of {req.retention_floor_days} days"


def _check_arns(r: _Reader, key: str, values: list[str]) -> None:
    for value in values:
        if not _ROLE_ARN.match(value):
            r.fail(f"{_key(key)} = {_show(values)} contains {_show(value)}, which is not an IAM role ARN; "
                   f"expected arn:<partition>:iam::<12-digit account>:role/<name>")


def _check_readers(r: _Reader, auditors: list[str], break_glass: str, account_id: str,
                   req: profiles.Requirements | None) -> None:
    """The auditor and break-glass roles belong to the stack's account, and a profile that limits reads to
    named auditors has at least one.

    A role of another account is refused rather than half-granted: the key policy lets only this
    account's roles decrypt (``kms:CallerAccount``), and the policy pack fails any bucket-policy grant to
    another account, so such an auditor could never read the logs.
    """
    named = [("auditorRoleArns", v, auditors) for v in auditors]
    named += [("breakGlassRoleArn", break_glass, break_glass)] if break_glass else []
    for key, value, shown in named:
        account = value.split(":")[4] if _ROLE_ARN.match(value) else None
        if account is not None and account != account_id:
            r.fail(f"{_key(key)} = {_show(shown)} names {_show(value)}, a role of account {account}; "
                   f"allowed: roles of this stack's account {account_id} (the log key and bucket grant "
                   f"nothing to another account, so that role could not read the logs)")
    if req is not None and req.auditor_only_reads and not auditors:
        by = ", ".join(_profiles_with(req, "auditor_only_reads"))
        r.fail(f"{_key('auditorRoleArns')} = [] leaves nobody to read the logs, and {by} denies reads to "
               f"every other principal (PCI DSS v4.0.1 10.3.1); list at least one IAM role ARN of account "
               f"{account_id}")


def _check_names(r: _Reader, key: str, values: list[str], pattern: re.Pattern[str], what: str) -> None:
    for value in values:
        if not pattern.match(value):
            r.fail(f"{_key(key)} = {_show(values)} contains {_show(value)}, which is not {what}")


def load(config: pulumi.Config | None = None) -> Settings:
    """Read and validate the stack's config; raise one ``ConfigError`` listing every problem."""
    config = config or pulumi.Config(PROJECT)
    r = _Reader(config)
    stack = pulumi.get_stack()
    identity = aws.get_caller_identity()
    partition = aws.get_partition()
    region = aws.get_region().region

    # --- profiles and retention ---------------------------------------------------------------
    profile_list = r.strings("complianceProfiles")
    unknown = [p for p in profile_list if p not in profiles.PROFILE_NAMES]
    for name in unknown:
        r.fail(f"{_key('complianceProfiles')} = {_show(profile_list)} contains unknown profile "
               f"{_show(name)}; allowed: {', '.join(profiles.PROFILE_NAMES)} (or [] for a sandbox)")
    audit_period = r.integer("auditPeriodDays")
    if audit_period is not None and audit_period <= 0:
        r.fail(f"{_key('auditPeriodDays')} = {audit_period} is not a number of days above 0; "
               f"use 1 or more (default {profiles.DEFAULT_AUDIT_PERIOD_DAYS})")
    req: profiles.Requirements | None = None
    if not unknown and audit_period is not None and audit_period > 0:
        try:
            req = profiles.requirements(profile_list, audit_period)
        except profiles.ProfileError:
            longest = profiles.CLOUDWATCH_LOGS_RETENTION_DAYS[-1]
            r.fail(f"{_key('auditPeriodDays')} = {audit_period} makes the soc2 retention "
                   f"{audit_period + profiles.SOC2_RETENTION_MARGIN_DAYS} days, longer than CloudWatch Logs "
                   f"can keep the trail's log group ({longest}); use at most "
                   f"{longest - profiles.SOC2_RETENTION_MARGIN_DAYS}")

    retention_raw = r.integer("archiveRetentionDays")
    storage_class = r.string("archiveStorageClass")
    transition_raw = r.integer("archiveTransitionDays")
    log_group_raw = r.integer("logGroupRetentionDays")
    access_log_raw = r.integer("accessLogRetentionDays")
    lock_mode = r.string("objectLockMode")
    lock_days_raw = r.integer("objectLockRetentionDays")

    retention = None
    if req is not None and retention_raw is not None:
        if retention_raw < 0:
            r.fail(f"{_key('archiveRetentionDays')} = {retention_raw} is negative; use a number of days, "
                   f"or 0 for the profile default ({req.retention_default_days})")
        elif retention_raw == 0:
            retention = req.retention_default_days
        elif retention_raw < req.retention_floor_days:
            r.fail(f"{_key('archiveRetentionDays')} = {retention_raw} is below {_floor_reason(req)}; use "
                   f"{req.retention_floor_days} or more, or 0 for the profile default "
                   f"({req.retention_default_days})")
        else:
            retention = retention_raw

    if storage_class not in profiles.ARCHIVE_STORAGE_CLASSES:
        r.fail(f"{_key('archiveStorageClass')} = {_show(storage_class)} is not an S3 archive storage "
               f"class; allowed: {', '.join(profiles.ARCHIVE_STORAGE_CLASSES)}")

    transition: int | None = None
    if req is not None and transition_raw is not None and storage_class in profiles.ARCHIVE_STORAGE_CLASSES:
        needs_restore = storage_class in profiles.RESTORE_REQUIRED_STORAGE_CLASSES
        window = req.immediately_available_days if needs_restore else 0
        minimum = IA_MINIMUM_TRANSITION_DAYS if storage_class in IA_STORAGE_CLASSES else 1
        default = max(profiles.DEFAULT_TRANSITION_DAYS, window, minimum)
        if transition_raw < 0:
            r.fail(f"{_key('archiveTransitionDays')} = {transition_raw} is negative; use a day number, "
                   f"or 0 for the default ({default})")
        elif transition_raw == 0:
            # The default moves aside when the objects expire first: there is nothing to archive.
            transition = default if retention is None or default < retention else None
        elif transition_raw < window:
            owners = [p for p in req.profiles if profiles.PROFILES[p].immediately_available_days == window]
            no_restore = ", ".join(c for c in profiles.ARCHIVE_STORAGE_CLASSES
                                   if c not in profiles.RESTORE_REQUIRED_STORAGE_CLASSES)
            r.fail(f"{_key('archiveTransitionDays')} = {transition_raw} moves logs to {storage_class}, which "
                   f"needs a restore, inside the {' and '.join(owners)} immediately-available window of "
                   f"{window} days (PCI DSS v4.0.1 10.5.1); use {window} or more, a class that needs no "
                   f"restore ({no_restore}), or 0 for the default ({default})")
        elif transition_raw < minimum:
            r.fail(f"{_key('archiveTransitionDays')} = {transition_raw} is below the {minimum}-day minimum "
                   f"S3 requires before a transition to {storage_class}; use {minimum} or more")
        elif retention is not None and transition_raw >= retention:
            r.fail(f"{_key('archiveTransitionDays')} = {transition_raw} is at or after the expiration on day "
                   f"{retention} (archiveRetentionDays); use a value below {retention}, or 0 for the "
                   f"default")
        else:
            transition = transition_raw

    valid_log_days = profiles.CLOUDWATCH_LOGS_RETENTION_DAYS
    log_group_days = None
    if req is not None and retention is not None and log_group_raw is not None:
        longest = valid_log_days[-1]
        default = profiles.round_up_log_retention(max(profiles.LOG_GROUP_MIN_RETENTION_DAYS, retention)) \
            if retention <= longest else longest
        minimum = req.log_group_min_retention_days
        if log_group_raw == 0:
            log_group_days = default
        elif log_group_raw not in valid_log_days:
            r.fail(f"{_key('logGroupRetentionDays')} = {log_group_raw} is not a retention CloudWatch Logs "
                   f"accepts; allowed: {', '.join(str(d) for d in valid_log_days if d >= minimum)}, or 0 "
                   f"for the default ({default})")
        elif log_group_raw < minimum:
            who = f"the {' and '.join(req.profiles)} minimum" if req.profiles else "the minimum"
            r.fail(f"{_key('logGroupRetentionDays')} = {log_group_raw} is below {who} of {minimum} days for "
                   f"the trail's log group; use one of "
                   f"{', '.join(str(d) for d in valid_log_days if d >= minimum)}, or 0 for the default "
                   f"({default})")
        else:
            log_group_days = log_group_raw

    encryption = r.string("encryption")
    if encryption not in ENCRYPTION_MODES:
        r.fail(f"{_key('encryption')} = {_show(encryption)} is not an encryption mode; "
               f"allowed: {', '.join(ENCRYPTION_MODES)}")

    access_logging = r.boolean("accessLogging")
    access_log_days = None
    if req is not None:
        required_by = _profiles_with(req, "access_logging")
        if not access_logging and required_by:
            sources = "; ".join(f"{p}: {_ACCESS_LOGGING_SOURCES[p]}" for p in required_by)
            r.fail(f"{_key('accessLogging')} = false is not allowed under {', '.join(required_by)} "
                   f"(access to the audit logs must itself be logged; {sources}); use true")
    if req is not None and retention is not None and access_log_raw is not None:
        if access_log_raw < 0:
            r.fail(f"{_key('accessLogRetentionDays')} = {access_log_raw} is negative; use a number of days, "
                   f"or 0 for the archive's retention ({retention})")
        elif access_log_raw == 0:
            access_log_days = retention
        elif access_log_raw < req.retention_floor_days:
            r.fail(f"{_key('accessLogRetentionDays')} = {access_log_raw} is below {_floor_reason(req)}; use "
                   f"{req.retention_floor_days} or more, or 0 for the archive's retention ({retention})")
        else:
            access_log_days = access_log_raw

    if lock_mode not in ("", *OBJECT_LOCK_MODES):
        r.fail(f"{_key('objectLockMode')} = {_show(lock_mode)} is not an S3 Object Lock mode; "
               f"allowed: \"\" (off), {', '.join(OBJECT_LOCK_MODES)}")
    lock_days = 0
    if lock_days_raw is not None:
        if lock_days_raw < 0:
            r.fail(f"{_key('objectLockRetentionDays')} = {lock_days_raw} is negative; use a number of days, "
                   f"or 0 for the expiration day")
        elif lock_days_raw and not lock_mode:
            r.fail(f"{_key('objectLockRetentionDays')} = {lock_days_raw} has no effect while objectLockMode "
                   f"is \"\"; set objectLockMode to GOVERNANCE or COMPLIANCE, or use 0")
        elif retention is not None and lock_days_raw > retention:
            r.fail(f"{_key('objectLockRetentionDays')} = {lock_days_raw} is beyond the expiration on day "
                   f"{retention} (archiveRetentionDays); use at most {retention}, or 0 for the "
                   f"expiration day")
        elif lock_mode and retention is not None:
            lock_days = lock_days_raw or retention

    force_destroy = r.boolean("forceDestroy")
    if req is not None and force_destroy and req.profiles:
        r.fail(f"{_key('forceDestroy')} = true is not allowed under {', '.join(req.profiles)}: "
               f"pulumi destroy would delete retained audit logs; use false")
    protect = r.boolean("protectResources")
    if req is not None and not protect and req.profiles:
        r.fail(f"{_key('protectResources')} = false is not allowed under {', '.join(req.profiles)}: "
               f"pulumi destroy could delete the trail, its buckets, key and log groups, the audit "
               f"evidence; use true")

    # --- names --------------------------------------------------------------------------------
    trail_name = r.string("trailName")
    if not (3 <= len(trail_name) <= TRAIL_NAME_MAX and _TRAIL_NAME.match(trail_name)):
        r.fail(f"{_key('trailName')} = {_show(trail_name)} is not a usable trail name; use 3 to "
               f"{TRAIL_NAME_MAX} letters, digits, '.', '_' or '-', starting and ending with a letter or "
               f"digit, no two separators in a row")
    prefix = r.string("bucketNamePrefix")
    stack_part = re.sub(r"[^a-z0-9-]", "-", stack.lower())
    bucket_name = f"{prefix}-{identity.account_id}-{stack_part}"
    access_log_bucket_name = f"{prefix}-access-{identity.account_id}-{stack_part}"
    if not (_BUCKET_PREFIX.match(prefix) and _BUCKET_NAME.match(access_log_bucket_name)):
        r.fail(f"{_key('bucketNamePrefix')} = {_show(prefix)} does not give valid bucket names "
               f"({bucket_name}, {access_log_bucket_name}); use lowercase letters, digits and '-', "
               f"starting and ending with a letter or digit, at most "
               f"{63 - len(access_log_bucket_name) + len(prefix)} characters")
    log_group_name = r.string("logGroupName")
    if not _LOG_GROUP_NAME.match(log_group_name):
        r.fail(f"{_key('logGroupName')} = {_show(log_group_name)} is not a CloudWatch Logs group name; "
               f"use 1 to 512 of A-Z a-z 0-9 . _ - / #")
    app_log_group = r.boolean("appAuditLogGroup")
    app_log_group_name = r.string("appAuditLogGroupName")
    if app_log_group:
        if not _LOG_GROUP_NAME.match(app_log_group_name):
            r.fail(f"{_key('appAuditLogGroupName')} = {_show(app_log_group_name)} is not a CloudWatch Logs "
                   f"group name; use 1 to 512 of A-Z a-z 0-9 . _ - / #")
        elif app_log_group_name == log_group_name:
            r.fail(f"{_key('appAuditLogGroupName')} = {_show(app_log_group_name)} is the trail's log group; "
                   f"use a different name")

    # --- access -------------------------------------------------------------------------------
    auditors = r.strings("auditorRoleArns")
    _check_arns(r, "auditorRoleArns", auditors)
    break_glass = r.string("breakGlassRoleArn")
    if break_glass and not _ROLE_ARN.match(break_glass):
        r.fail(f"{_key('breakGlassRoleArn')} = {_show(break_glass)} is not an IAM role ARN; expected "
               f"arn:<partition>:iam::<12-digit account>:role/<name>, or \"\" so that nobody may delete "
               f"log objects")
    _check_readers(r, auditors, break_glass, identity.account_id, req)

    # --- alarms -------------------------------------------------------------------------------
    emails = r.strings("alarmEmails")
    for email in emails:
        if not _EMAIL.match(email):
            r.fail(f"{_key('alarmEmails')} = {_show(emails)} contains {_show(email)}, which is not an "
                   f"e-mail address (name@domain)")
    endpoints = r.strings("alarmHttpsEndpoints")
    for url in endpoints:
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.hostname or any(c.isspace() for c in url):
            r.fail(f"{_key('alarmHttpsEndpoints')} = {_show(endpoints)} contains {_show(url)}, which is not "
                   f"an https:// URL")
    disabled = r.strings("disabledAlarms")
    keys = [c.key for c in monitoring.ALL_CONTROLS]
    for key in disabled:
        if key not in keys:
            r.fail(f"{_key('disabledAlarms')} = {_show(disabled)} contains unknown alarm {_show(key)}; "
                   f"allowed: {', '.join(keys)}")
    if req is not None:
        monitored_by = _profiles_with(req, "monitoring_alarms")
        if monitored_by and not emails and not endpoints:
            r.fail(f"{_key('alarmEmails')} = [] and {_key('alarmHttpsEndpoints')} = [] leave the alarms "
                   f"without a subscribed destination, which {', '.join(monitored_by)} requires (SOC 2 "
                   f"CC7.2, automated monitoring); add at least one e-mail address or HTTPS endpoint")
        if monitored_by and disabled:
            r.fail(f"{_key('disabledAlarms')} = {_show(disabled)} switches alarms off, which "
                   f"{', '.join(monitored_by)} does not allow (SOC 2 CC7.2: every alarm exists and "
                   f"notifies); use []")

    # --- trail --------------------------------------------------------------------------------
    sns_notification = r.boolean("trailSnsNotification")
    insights = r.boolean("insights")
    organization_trail = r.boolean("organizationTrail")
    organization_id = r.string("organizationId")
    if organization_id and not _ORGANIZATION_ID.match(organization_id):
        r.fail(f"{_key('organizationId')} = {_show(organization_id)} is not an AWS Organizations id; "
               f"expected o- and 10 to 32 lowercase letters or digits")
    elif organization_trail and not organization_id:
        r.fail(f"{_key('organizationTrail')} = true needs {_key('organizationId')} (o-...), which is \"\"; "
               f"set it to the organization's id")
    tables = r.strings("dataEventDynamodbTables")
    _check_names(r, "dataEventDynamodbTables", tables, _DYNAMODB_TABLE,
                 "a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)")
    functions = r.strings("dataEventLambdaFunctions")
    _check_names(r, "dataEventLambdaFunctions", functions, _LAMBDA_FUNCTION,
                 "a Lambda function name (1 to 64 of A-Z a-z 0-9 _ -)")
    artifact_buckets = r.strings("dataEventS3Buckets")
    _check_names(r, "dataEventS3Buckets", artifact_buckets, _ARTIFACT_BUCKET,
                 "an S3 bucket name (3 to 63 lowercase letters, digits, '.' or '-')")
    for own in (bucket_name, access_log_bucket_name):
        if own in artifact_buckets:
            # Logging object events of the log bucket records every log delivery: a feedback loop.
            r.fail(f"{_key('dataEventS3Buckets')} = {_show(artifact_buckets)} contains this stack's own "
                   f"log bucket {_show(own)}; list only spawn's artifact buckets")

    deletion_window = r.integer("kmsDeletionWindowDays")
    low, high = KMS_DELETION_WINDOW
    if deletion_window is not None and not low <= deletion_window <= high:
        r.fail(f"{_key('kmsDeletionWindowDays')} = {deletion_window} is outside the {low} to {high} days "
               f"AWS KMS accepts; use {low} to {high}")

    if r.errors:
        raise ConfigError("\n".join(r.errors))
    assert req is not None and retention is not None and log_group_days is not None
    assert access_log_days is not None and deletion_window is not None

    if req.sandbox:
        pulumi.log.warn(f"{_key('complianceProfiles')} is []: stack {stack} is a sandbox and no regulatory "
                        f"retention floor applies")

    return Settings(
        stack=stack,
        account_id=identity.account_id,
        partition=partition.partition,
        region=region,
        dns_suffix=partition.dns_suffix,
        requirements=req,
        archive_retention_days=retention,
        archive_storage_class=storage_class,
        archive_transition_days=transition,
        log_group_retention_days=log_group_days,
        encryption=encryption,
        access_logging=access_logging,
        access_log_retention_days=access_log_days if access_logging else 0,
        object_lock_mode=lock_mode or None,
        object_lock_retention_days=lock_days,
        force_destroy=force_destroy,
        protect=protect,
        trail_name=trail_name,
        bucket_name=bucket_name,
        access_log_bucket_name=access_log_bucket_name,
        log_group_name=log_group_name,
        app_audit_log_group_name=app_log_group_name if app_log_group else None,
        auditor_role_arns=tuple(dict.fromkeys(auditors)),
        break_glass_role_arn=break_glass or None,
        alarm_emails=tuple(dict.fromkeys(emails)),
        alarm_https_endpoints=tuple(dict.fromkeys(endpoints)),
        alarm_controls=tuple(c for c in monitoring.ALL_CONTROLS if c.key not in disabled),
        trail_sns_notification=sns_notification,
        insights=insights,
        organization_id=organization_id if organization_trail else None,
        data_event_dynamodb_tables=tuple(dict.fromkeys(tables)),
        data_event_lambda_functions=tuple(dict.fromkeys(functions)),
        data_event_s3_buckets=tuple(dict.fromkeys(artifact_buckets)),
        kms_deletion_window_days=deletion_window,
    )
