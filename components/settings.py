"""Stack configuration, read once into a typed, validated ``Settings`` object.

Responsible for: parsing every ``spawn-audit:*`` key declared in ``Pulumi.yaml``, deriving the
effective retention of each log store from the shared compliance-profile table, building the
physical names and ARNs that other components need as *plain* strings (so that a real
``pulumi preview`` already knows every policy-relevant input), and refusing bad config with one
``ConfigError`` before any resource is registered.

Controls served: HIPAA 45 CFR 164.316(b)(2)(i) (retention floor), PCI DSS v4.0.1 10.5.1
(12 months, newest 3 months immediately available), 10.2.1 / 10.3 (access logging, restricted
read), SOC 2 CC7.2 (alarms that notify someone). The numbers and clauses themselves live in
``policy/spawn_compliance`` (reached through ``components.compliance``), the tables the policy pack
enforces too.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from components.compliance import clauses, monitoring, profiles

__all__ = ["ConfigError", "Settings", "load"]

PROJECT = "spawn-audit"
_PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"

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

# Why each profile requires access logging; used in error messages.
_ACCESS_LOGGING_SOURCES = clauses.ACCESS_LOGGING

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_BUCKET_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", re.ASCII)
_DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_LAMBDA_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
# ASCII digits only: str.isdigit() and \d also accept "١٢٣" (Arabic-Indic digits), which the Pulumi CLI's
# integer type refuses.
_INTEGER = re.compile(r"^[+-]?[0-9]{1,12}$", re.ASCII)
# The largest day count any key accepts. The S3 API types lifecycle and Object Lock ``Days`` as a
# 32-bit Integer (S3 API reference, LifecycleExpiration / DefaultRetention), and numbers reach the
# policy pack as protobuf doubles; this program's own bound is 100 years, far beyond any regulatory
# retention, so that every count stays exact and no typo (10^9 days of Object Lock) slips through.
MAX_DAYS = 36500


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


def _printable(text: str) -> str:
    """``text`` with what cannot be encoded as UTF-8 (bytes the shell passed that were not UTF-8, as
    surrogates) spelled as escapes, so that a message about it can always be printed and logged."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _abbreviate(text: str, limit: int = 40) -> str:
    """A long value shortened for a one-line message (a 5,000-digit number stays readable)."""
    return text if len(text) <= limit else f"{text[:20]}...({len(text)} characters)"


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

    def shown(self, key: str, raw: str) -> str:
        """``= <value>`` for a message, or that the value is secret and not shown."""
        if pulumi.runtime.is_config_secret(_key(key)):
            return "(a secret; value not shown)"
        return f"= {_printable(json.dumps(_abbreviate(raw), ensure_ascii=False))}"

    def string(self, key: str) -> str:
        return self.raw(key) or ""

    def integer(self, key: str, maximum: int = MAX_DAYS) -> int | None:
        """A whole number of ASCII digits, at most ``maximum`` (negative values are left to the
        caller, whose message names the key's own meaning of 0 and below)."""
        raw = self.raw(key)
        if raw is None:
            return None
        text = raw.strip()
        if not _INTEGER.match(text):
            if re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):
                self.fail(f"{PROJECT}:{key} {self.shown(key, text)} is too large; use at most {maximum}")
            else:
                self.fail(f"{PROJECT}:{key} {self.shown(key, raw)} is not a whole number (ASCII digits 0-9); "
                          f"use at most {maximum}")
            return None
        value = int(text)
        if value > maximum:
            self.fail(f"{PROJECT}:{key} = {value} is too large; use at most {maximum}")
            return None
        return value

    def boolean(self, key: str) -> bool:
        raw = self.raw(key)
        if raw not in ("true", "false"):
            if raw is not None:
                self.fail(f"{PROJECT}:{key} {self.shown(key, raw)} is not a boolean; allowed: true, false")
            return False
        return raw == "true"

    def strings(self, key: str) -> list[str]:
        raw = self.raw(key)
        if raw is None:
            return []
        try:
            value = json.loads(raw)
        except ValueError:  # also a number too long for int(), not only malformed JSON
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{PROJECT}:{key} {self.shown(key, raw)} is not an array of strings")
            return []
        return value


def _key(name: str) -> str:
    return f"{PROJECT}:{name}"


def _profiles_with(req: profiles.Requirements, flag: str) -> list[str]:
    return [p for p in req.profiles if getattr(profiles.PROFILES[p], flag)]


def _floor_reason(req: profiles.Requirements) -> str:
    """'the hipaa floor of 2192 days (45 CFR 164.316(b)(2)(i))' for the profile that sets the floor."""
    floor, binding = profiles.binding_floor(req.profiles, req.audit_period_days,
                                            lambda r: r.retention_floor_days)
    if binding:
        return f"the {binding[0]} floor of {floor} days ({clauses.RETENTION[binding[0]]})"
    return f"the floor of {floor} days"


def _check_arns(r: _Reader, key: str, values: list[str], partition: str) -> None:
    for value in values:
        problem = role_arn_problem(value, partition)
        if problem:
            r.fail(f"{_key(key)} = {_show(values)} contains {_show(value)}, which {problem}")


def _check_bucket_prefix(r: _Reader, prefix: str, *names: str) -> None:
    """The prefix, and every bucket name made from it, as S3 accepts them (no dots: dotted names break
    TLS on virtual-hosted-style requests)."""
    for name in names:
        problem = bucket_name_problem(name, dots=False)
        if problem is None and not _BUCKET_PREFIX.match(prefix):
            problem = "does not start and end with a letter or digit"
        if problem:
            r.fail(f"{_key('bucketNamePrefix')} = {_show(prefix)} gives the bucket name {_show(name)}, which "
                   f"{problem} (the prefix may have at most {63 - len(names[-1]) + len(prefix)} characters)")
            return


def _read_https_endpoints(r: _Reader, key: str) -> list[str]:
    """HTTPS subscription endpoints often carry a token in their path or query: whatever is wrong, the
    message names the entry by its position and never shows the value."""
    raw = r.raw(key)
    if raw is None:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        r.fail(f"{_key(key)} {r.shown(key, raw)} is not an array of strings")
        return []
    for i, url in enumerate(value, 1):
        problem = https_endpoint_problem(url)
        if problem:
            r.fail(f"{_key(key)} entry {i} of {len(value)} {problem}; use https://<host>/<path> (the "
                   f"value is not shown: an endpoint may carry a token)")
    return value


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
        match = _ROLE_ARN_PARTS.match(value)
        account = match["account"] if match else None
        if account is not None and account != account_id:
            r.fail(f"{_key(key)} = {_show(shown)} names {_show(value)}, a role of account {account}; "
                   f"allowed: roles of this stack's account {account_id} (the log key and bucket grant "
                   f"nothing to another account, so that role could not read the logs)")
    if req is not None and req.auditor_only_reads and not auditors:
        by = ", ".join(_profiles_with(req, "auditor_only_reads"))
        r.fail(f"{_key('auditorRoleArns')} = [] leaves nobody to read the logs, and {by} denies reads to "
               f"every other principal ({clauses.PCI_READ_ACCESS}); list at least one IAM role ARN of "
               f"account {account_id}")


def _check_names(r: _Reader, key: str, values: list[str], pattern: re.Pattern[str], what: str) -> None:
    for value in values:
        if not pattern.match(value):
            r.fail(f"{_key(key)} = {_show(values)} contains {_show(value)}, which is not {what}")


# --- names the receiving AWS service accepts ------------------------------------------------------
# Each check returns None, or what is wrong in words that fit after "... = <value> ".

# The trail name is also the prefix of the delivery role, the two SNS topics, the alarms, metric
# filters, saved queries and the KMS alias, so it takes the intersection of their rules:
# - CloudTrail CreateTrail Name: 3-128 of letters, digits, '.', '_', '-', starting and ending with a
#   letter or digit, no two of '.', '_', '-' in a row, not an IP address;
# - SNS CreateTopic Name: up to 256 of letters, digits, '-' and '_' (no '.');
# - KMS CreateAlias AliasName: alias/ then letters, digits, '/', '_', '-' (no '.');
# - IAM CreateRole RoleName: at most 64 characters, so with "-cloudwatch-logs" the trail has 48.
_TRAIL_NAME_SAFE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[_-](?=[A-Za-z0-9]))*$", re.ASCII)
_IP_ADDRESS = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$", re.ASCII)


def trail_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= TRAIL_NAME_MAX:
        return f"is {len(name)} characters long; use 3 to {TRAIL_NAME_MAX}"
    if "." in name:
        return ("contains '.', which SNS topic names and KMS alias names do not allow (the trail name "
                "prefixes both); use letters, digits, '_' or '-'")
    if not _TRAIL_NAME_SAFE.match(name):
        return ("is not a usable trail name; use letters, digits, '_' or '-', starting and ending with a "
                "letter or digit, no two separators in a row (CloudTrail CreateTrail)")
    return None


# S3 User Guide, "General purpose bucket naming rules".
_S3_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_S3_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str, *, dots: bool) -> str | None:
    """Why S3 would refuse ``name`` for a general purpose bucket (``dots``: allow '.')."""
    allowed = "lowercase letters, digits, '.' and '-'" if dots else "lowercase letters, digits and '-'"
    pattern = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$" if dots else r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; S3 bucket names have 3 to 63"
    if not re.match(pattern, name, re.ASCII):
        return f"is not an S3 bucket name; use {allowed}, starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "has two adjacent periods or a period beside a hyphen; S3 refuses both"
    if _IP_ADDRESS.match(name):
        return "is formatted as an IP address; S3 refuses that"
    for prefix in _S3_FORBIDDEN_PREFIXES:
        if name.startswith(prefix):
            return f"starts with {prefix!r}, a prefix S3 reserves"
    for suffix in _S3_FORBIDDEN_SUFFIXES:
        if name.endswith(suffix):
            return f"ends with {suffix!r}, a suffix S3 reserves"
    return None


# CloudWatch Logs CreateLogGroup: 1-512 of [.-_/#A-Za-z0-9]; names can't start with "aws/".
_LOG_GROUP_CHARS = re.compile(r"^[A-Za-z0-9._/#-]{1,512}$", re.ASCII)


def log_group_name_problem(name: str) -> str | None:
    if not _LOG_GROUP_CHARS.match(name):
        return "is not a CloudWatch Logs group name; use 1 to 512 of A-Z a-z 0-9 . _ - / #"
    if name.startswith("aws/"):
        return "starts with 'aws/', which CloudWatch Logs reserves; start with '/' or another word"
    return None


# IAM identifiers: arn:<partition>:iam::<account>:role<path><name>, path "/" or "/.../" of printable
# ASCII (at most 512), name 1-64 of [\w+=,.@-] (IAM API reference, Role: Path, RoleName).
_ROLE_ARN_PARTS = re.compile(
    r"^arn:(?P<partition>aws(?:-[a-z]+)*):iam::(?P<account>[0-9]{12}):role"
    r"(?P<path>/(?:[!-~]*/)?)(?P<name>[A-Za-z0-9+=,.@_-]*)$", re.ASCII)


def role_arn_problem(arn: str, partition: str) -> str | None:
    match = _ROLE_ARN_PARTS.match(arn)
    if not match:
        return "is not an IAM role ARN; expected arn:<partition>:iam::<12-digit account>:role/<name>"
    if len(match["path"]) > 512:
        return "has a role path longer than the 512 characters IAM allows"
    if not match["name"]:
        return ("names no role after its path; expected arn:<partition>:iam::<account>:role/[<path>/]<name> "
                "with a name of 1 to 64 characters")
    if len(match["name"]) > 64:
        return f"has a role name of {len(match['name'])} characters; IAM allows 1 to 64"
    if match["partition"] != partition:
        return (f"is in partition {match['partition']!r}, but this stack deploys to partition "
                f"{partition!r}; IAM does not accept principals from another partition")
    return None


def https_endpoint_problem(url: str) -> str | None:
    """Why SNS would refuse ``url`` as an https subscription endpoint; never repeats the URL."""
    if any(c.isspace() or not c.isprintable() for c in url):
        return "contains whitespace or control characters"
    try:
        parsed = urlsplit(url)
        host = parsed.hostname
        parsed.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a well-formed URL"
    if parsed.scheme != "https" or not host:
        return "is not an https:// URL with a host name"
    return None


# --- keys the program does not declare ------------------------------------------------------------

def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def declared_keys(project_file: Path = _PROJECT_FILE) -> tuple[str, ...]:
    """The keys ``Pulumi.yaml`` declares in the project's namespace (without it)."""
    import yaml  # a dependency of the pulumi SDK

    # libyaml's safe loader where PyYAML has it (its wheels do): the same documents, parsed about ten
    # times faster, on every run of the program.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(project_file.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - safe
    except (OSError, ValueError, yaml.YAMLError):
        return ()
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        return ()
    return tuple(str(k).split(":", 1)[1] if str(k).startswith(PROJECT + ":") else str(k)
                 for k in config if ":" not in str(k) or str(k).startswith(PROJECT + ":"))


def undeclared_key_warnings(keys: list[str], declared: tuple[str, ...]) -> list[str]:
    """A "did you mean" line for each config key in the project's namespace, or in a namespace one
    edit away from it, that the project does not declare. Values are never shown (they may be secret)."""
    warnings = []
    for full in sorted({_printable(k) for k in keys}):
        namespace, sep, name = full.partition(":")
        if not sep:
            continue
        if namespace == PROJECT:
            if name in declared:
                continue
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.75)
            hint = f"did you mean {_key(close[0])}?" if close else "see Pulumi.yaml for the declared keys"
            warnings.append(f"{full} is not a key this program declares and is ignored; {hint}")
        elif _edit_distance(namespace, PROJECT) == 1:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.75)
            target = _key(close[0]) if close else f"{PROJECT}:{name}"
            warnings.append(f"{full} is in namespace {namespace!r}, which no program reads, and is ignored; "
                            f"did you mean {target}?")
    return warnings


def _config_keys() -> list[str]:
    """Every config key set for this run, as the SDK sees them (explicit, then PULUMI_CONFIG)."""
    from pulumi.runtime import config as runtime_config

    return sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))


# --- one reader per concern ---------------------------------------------------------------------
# Each reader reads its keys through the shared ``_Reader``, which collects every problem, and returns
# the plain values it is responsible for; ``None`` stands for a value that a reported problem left
# underived. ``load`` calls the readers in a fixed order, which is the order of the problems in the
# ``ConfigError`` message.


def _read_profiles(r: _Reader) -> profiles.Requirements | None:
    """``complianceProfiles`` and ``auditPeriodDays``: what the chosen profiles require together."""
    profile_list = r.strings("complianceProfiles")
    unknown = [p for p in profile_list if p not in profiles.PROFILE_NAMES]
    for name in unknown:
        r.fail(f"{_key('complianceProfiles')} = {_show(profile_list)} contains unknown profile "
               f"{_show(name)}; allowed: {', '.join(profiles.PROFILE_NAMES)} (or [] for a sandbox)")
    audit_period = r.integer("auditPeriodDays")
    if audit_period is not None and audit_period <= 0:
        r.fail(f"{_key('auditPeriodDays')} = {audit_period} is not a number of days above 0; "
               f"use 1 or more (default {profiles.DEFAULT_AUDIT_PERIOD_DAYS})")
    if unknown or audit_period is None or audit_period <= 0:
        return None
    try:
        return profiles.requirements(profile_list, audit_period)
    except profiles.ProfileError:
        longest = profiles.CLOUDWATCH_LOGS_RETENTION_DAYS[-1]
        r.fail(f"{_key('auditPeriodDays')} = {audit_period} makes the soc2 retention "
               f"{audit_period + profiles.SOC2_RETENTION_MARGIN_DAYS} days, longer than CloudWatch Logs "
               f"can keep the trail's log group ({longest}); use at most "
               f"{longest - profiles.SOC2_RETENTION_MARGIN_DAYS}")
        return None


@dataclass(frozen=True)
class _LifecycleKeys:
    """The lifecycle keys of the log stores as given (day counts parsed, nothing checked yet)."""

    archive_retention: int | None
    storage_class: str
    transition: int | None
    log_group_retention: int | None
    access_log_retention: int | None
    lock_mode: str
    lock_days: int | None


def _read_lifecycle_keys(r: _Reader) -> _LifecycleKeys:
    """Parse every lifecycle key before any rule about them is checked (so a malformed number is
    reported before what the other keys' rules find)."""
    return _LifecycleKeys(
        archive_retention=r.integer("archiveRetentionDays"),
        storage_class=r.string("archiveStorageClass"),
        transition=r.integer("archiveTransitionDays"),
        log_group_retention=r.integer("logGroupRetentionDays"),
        access_log_retention=r.integer("accessLogRetentionDays"),
        lock_mode=r.string("objectLockMode"),
        lock_days=r.integer("objectLockRetentionDays"),
    )


def _archive_retention(r: _Reader, req: profiles.Requirements | None, days: int | None) -> int | None:
    """``archiveRetentionDays``: the archive's expiration day, at or above the profiles' floor."""
    if req is None or days is None:
        return None
    if days < 0:
        r.fail(f"{_key('archiveRetentionDays')} = {days} is negative; use a number of days, "
               f"or 0 for the profile default ({req.retention_default_days})")
        return None
    if days == 0:
        return req.retention_default_days
    if days < req.retention_floor_days:
        r.fail(f"{_key('archiveRetentionDays')} = {days} is below {_floor_reason(req)}; use "
               f"{req.retention_floor_days} or more, or 0 for the profile default "
               f"({req.retention_default_days})")
        return None
    return days


def _archive_transition(r: _Reader, req: profiles.Requirements | None, storage_class: str, days: int | None,
                        retention: int | None) -> int | None:
    """``archiveStorageClass`` and ``archiveTransitionDays``: the day the archive moves to that class,
    outside the immediately-available window when the class needs a restore (None: no transition, or a
    reported problem)."""
    if storage_class not in profiles.ARCHIVE_STORAGE_CLASSES:
        r.fail(f"{_key('archiveStorageClass')} = {_show(storage_class)} is not an S3 archive storage "
               f"class; allowed: {', '.join(profiles.ARCHIVE_STORAGE_CLASSES)}")
        return None
    if req is None or days is None:
        return None
    needs_restore = storage_class in profiles.RESTORE_REQUIRED_STORAGE_CLASSES
    window = req.immediately_available_days if needs_restore else 0
    minimum = IA_MINIMUM_TRANSITION_DAYS if storage_class in IA_STORAGE_CLASSES else 1
    default = max(profiles.DEFAULT_TRANSITION_DAYS, window, minimum)
    if days < 0:
        r.fail(f"{_key('archiveTransitionDays')} = {days} is negative; use a day number, "
               f"or 0 for the default ({default})")
    elif days == 0:
        # The default moves aside when the objects expire first: there is nothing to archive.
        return default if retention is None or default < retention else None
    elif days < window:
        _, owners = profiles.binding_floor(req.profiles, req.audit_period_days,
                                           lambda one: one.immediately_available_days)
        no_restore = ", ".join(c for c in profiles.ARCHIVE_STORAGE_CLASSES
                               if c not in profiles.RESTORE_REQUIRED_STORAGE_CLASSES)
        r.fail(f"{_key('archiveTransitionDays')} = {days} moves logs to {storage_class}, which "
               f"needs a restore, inside the {' and '.join(owners)} immediately-available window of "
               f"{window} days ({clauses.IMMEDIATE_ACCESS}); use {window} or more, a class that needs no "
               f"restore ({no_restore}), or 0 for the default ({default})")
    elif days < minimum:
        r.fail(f"{_key('archiveTransitionDays')} = {days} is below the {minimum}-day minimum "
               f"S3 requires before a transition to {storage_class}; use {minimum} or more")
    elif retention is not None and days >= retention:
        r.fail(f"{_key('archiveTransitionDays')} = {days} is at or after the expiration on day "
               f"{retention} (archiveRetentionDays); use a value below {retention}, or 0 for the "
               f"default")
    else:
        return days
    return None


def _log_group_retention(r: _Reader, req: profiles.Requirements | None, days: int | None,
                         retention: int | None) -> int | None:
    """``logGroupRetentionDays``: a retention CloudWatch Logs accepts, at or above the profiles' minimum."""
    if req is None or retention is None or days is None:
        return None
    valid_log_days = profiles.CLOUDWATCH_LOGS_RETENTION_DAYS
    longest = valid_log_days[-1]
    default = profiles.round_up_log_retention(max(profiles.LOG_GROUP_MIN_RETENTION_DAYS, retention)) \
        if retention <= longest else longest
    minimum = req.log_group_min_retention_days
    if days == 0:
        return default
    if days not in valid_log_days:
        r.fail(f"{_key('logGroupRetentionDays')} = {days} is not a retention CloudWatch Logs "
               f"accepts; allowed: {', '.join(str(d) for d in valid_log_days if d >= minimum)}, or 0 "
               f"for the default ({default})")
        return None
    if days < minimum:
        who = f"the {' and '.join(req.profiles)} minimum" if req.profiles else "the minimum"
        r.fail(f"{_key('logGroupRetentionDays')} = {days} is below {who} of {minimum} days for "
               f"the trail's log group; use one of "
               f"{', '.join(str(d) for d in valid_log_days if d >= minimum)}, or 0 for the default "
               f"({default})")
        return None
    return days


def _read_encryption(r: _Reader) -> str:
    """``encryption``: one of ``ENCRYPTION_MODES``."""
    encryption = r.string("encryption")
    if encryption not in ENCRYPTION_MODES:
        r.fail(f"{_key('encryption')} = {_show(encryption)} is not an encryption mode; "
               f"allowed: {', '.join(ENCRYPTION_MODES)}")
    return encryption


def _read_access_logging(r: _Reader, req: profiles.Requirements | None, days: int | None,
                         retention: int | None) -> tuple[bool, int | None]:
    """``accessLogging`` (required by some profiles) and ``accessLogRetentionDays`` (checked with
    ``days``, at or above the profiles' floor): whether access is logged, and for how long."""
    access_logging = r.boolean("accessLogging")
    if req is not None:
        required_by = _profiles_with(req, "access_logging")
        if not access_logging and required_by:
            sources = "; ".join(f"{p}: {_ACCESS_LOGGING_SOURCES[p]}" for p in required_by)
            r.fail(f"{_key('accessLogging')} = false is not allowed under {', '.join(required_by)} "
                   f"(access to the audit logs must itself be logged; {sources}); use true")
    if req is None or retention is None or days is None:
        return access_logging, None
    if days < 0:
        r.fail(f"{_key('accessLogRetentionDays')} = {days} is negative; use a number of days, "
               f"or 0 for the archive's retention ({retention})")
        return access_logging, None
    if days == 0:
        return access_logging, retention
    if days < req.retention_floor_days:
        r.fail(f"{_key('accessLogRetentionDays')} = {days} is below {_floor_reason(req)}; use "
               f"{req.retention_floor_days} or more, or 0 for the archive's retention ({retention})")
        return access_logging, None
    return access_logging, days


def _object_lock(r: _Reader, mode: str, days: int | None, retention: int | None) -> int:
    """``objectLockMode`` and ``objectLockRetentionDays`` (checked with ``mode`` and ``days``): the
    default retention of locked objects, 0 when Object Lock is off."""
    if mode not in ("", *OBJECT_LOCK_MODES):
        r.fail(f"{_key('objectLockMode')} = {_show(mode)} is not an S3 Object Lock mode; "
               f"allowed: \"\" (off), {', '.join(OBJECT_LOCK_MODES)}")
    if days is None:
        return 0
    if days < 0:
        r.fail(f"{_key('objectLockRetentionDays')} = {days} is negative; use a number of days, "
               f"or 0 for the expiration day")
    elif days and not mode:
        r.fail(f"{_key('objectLockRetentionDays')} = {days} has no effect while objectLockMode "
               f"is \"\"; set objectLockMode to GOVERNANCE or COMPLIANCE, or use 0")
    elif retention is not None and days > retention:
        r.fail(f"{_key('objectLockRetentionDays')} = {days} is beyond the expiration on day "
               f"{retention} (archiveRetentionDays); use at most {retention}, or 0 for the "
               f"expiration day")
    elif mode and retention is not None:
        return days or retention
    return 0


def _read_protection(r: _Reader, req: profiles.Requirements | None) -> tuple[bool, bool]:
    """``forceDestroy`` and ``protectResources``, which a profile requires false and true."""
    force_destroy = r.boolean("forceDestroy")
    if req is not None and force_destroy and req.profiles:
        r.fail(f"{_key('forceDestroy')} = true is not allowed under {', '.join(req.profiles)}: "
               f"pulumi destroy would delete retained audit logs; use false")
    protect = r.boolean("protectResources")
    if req is not None and not protect and req.profiles:
        r.fail(f"{_key('protectResources')} = false is not allowed under {', '.join(req.profiles)}: "
               f"pulumi destroy could delete the trail, its buckets, key and log groups, the audit "
               f"evidence; use true")
    return force_destroy, protect


@dataclass(frozen=True)
class _Names:
    trail: str
    bucket: str
    access_log_bucket: str
    log_group: str
    app_audit_log_group: str | None  # None: no application audit log group


def _read_names(r: _Reader, stack: str, account_id: str) -> _Names:
    """``trailName``, ``bucketNamePrefix``, ``logGroupName`` and the application audit log group
    (``appAuditLogGroup``, ``appAuditLogGroupName``): names the receiving services accept."""
    trail_name = r.string("trailName")
    problem = trail_name_problem(trail_name)
    if problem:
        r.fail(f"{_key('trailName')} = {_show(trail_name)} {problem}")
    prefix = r.string("bucketNamePrefix")
    stack_part = re.sub(r"[^a-z0-9-]", "-", stack.lower())
    bucket_name = f"{prefix}-{account_id}-{stack_part}"
    access_log_bucket_name = f"{prefix}-access-{account_id}-{stack_part}"
    _check_bucket_prefix(r, prefix, bucket_name, access_log_bucket_name)
    log_group_name = r.string("logGroupName")
    problem = log_group_name_problem(log_group_name)
    if problem:
        r.fail(f"{_key('logGroupName')} = {_show(log_group_name)} {problem}")
    app_log_group = r.boolean("appAuditLogGroup")
    app_log_group_name = r.string("appAuditLogGroupName")
    if app_log_group:
        problem = log_group_name_problem(app_log_group_name)
        if problem:
            r.fail(f"{_key('appAuditLogGroupName')} = {_show(app_log_group_name)} {problem}")
        elif app_log_group_name == log_group_name:
            r.fail(f"{_key('appAuditLogGroupName')} = {_show(app_log_group_name)} is the trail's log group; "
                   f"use a different name")
    return _Names(trail=trail_name, bucket=bucket_name, access_log_bucket=access_log_bucket_name,
                  log_group=log_group_name, app_audit_log_group=app_log_group_name if app_log_group else None)


def _read_readers(r: _Reader, req: profiles.Requirements | None, partition: str,
                  account_id: str) -> tuple[tuple[str, ...], str | None]:
    """``auditorRoleArns`` and ``breakGlassRoleArn``: roles of this account that may read the logs
    (duplicates dropped), and the one that may delete log objects (None: nobody)."""
    auditors = r.strings("auditorRoleArns")
    _check_arns(r, "auditorRoleArns", auditors, partition)
    break_glass = r.string("breakGlassRoleArn")
    problem = role_arn_problem(break_glass, partition) if break_glass else None
    if problem:
        r.fail(f"{_key('breakGlassRoleArn')} = {_show(break_glass)} {problem}; or use \"\" so that "
               f"nobody may delete log objects")
    _check_readers(r, auditors, break_glass, account_id, req)
    return tuple(dict.fromkeys(auditors)), break_glass or None


@dataclass(frozen=True)
class _Alarms:
    emails: tuple[str, ...]
    https_endpoints: tuple[str, ...]
    controls: tuple[monitoring.MonitoringControl, ...]  # the enabled ones


def _read_alarms(r: _Reader, req: profiles.Requirements | None) -> _Alarms:
    """``alarmEmails``, ``alarmHttpsEndpoints`` and ``disabledAlarms``: the alarms and who they notify,
    which a monitoring profile requires (duplicates dropped)."""
    emails = r.strings("alarmEmails")
    for email in emails:
        if not _EMAIL.match(email):
            r.fail(f"{_key('alarmEmails')} = {_show(emails)} contains {_show(email)}, which is not an "
                   f"e-mail address (name@domain)")
    endpoints = _read_https_endpoints(r, "alarmHttpsEndpoints")
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
                   f"without a subscribed destination, which {', '.join(monitored_by)} requires "
                   f"({clauses.ALARMS}, automated monitoring); add at least one e-mail address or HTTPS "
                   f"endpoint")
        if monitored_by and disabled:
            r.fail(f"{_key('disabledAlarms')} = {_show(disabled)} switches alarms off, which "
                   f"{', '.join(monitored_by)} does not allow ({clauses.ALARMS}: every alarm exists and "
                   f"notifies); use []")
    return _Alarms(emails=tuple(dict.fromkeys(emails)), https_endpoints=tuple(dict.fromkeys(endpoints)),
                   controls=tuple(c for c in monitoring.ALL_CONTROLS if c.key not in disabled))


@dataclass(frozen=True)
class _Trail:
    sns_notification: bool
    insights: bool
    organization_id: str | None  # set only for an organization trail
    dynamodb_tables: tuple[str, ...]
    lambda_functions: tuple[str, ...]
    s3_buckets: tuple[str, ...]


def _read_trail(r: _Reader, names: _Names) -> _Trail:
    """``trailSnsNotification``, ``insights``, the organization trail (``organizationTrail``,
    ``organizationId``) and the data events (``dataEvent*``; never the stack's own log buckets,
    duplicates dropped)."""
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
    for value in artifact_buckets:
        problem = bucket_name_problem(value, dots=True)
        if problem:
            r.fail(f"{_key('dataEventS3Buckets')} = {_show(artifact_buckets)} contains {_show(value)}, which "
                   f"{problem}")
    for own in (names.bucket, names.access_log_bucket):
        if own in artifact_buckets:
            # Logging object events of the log bucket records every log delivery: a feedback loop.
            r.fail(f"{_key('dataEventS3Buckets')} = {_show(artifact_buckets)} contains this stack's own "
                   f"log bucket {_show(own)}; list only spawn's artifact buckets")
    return _Trail(sns_notification=sns_notification, insights=insights,
                  organization_id=organization_id if organization_trail else None,
                  dynamodb_tables=tuple(dict.fromkeys(tables)),
                  lambda_functions=tuple(dict.fromkeys(functions)),
                  s3_buckets=tuple(dict.fromkeys(artifact_buckets)))


def _read_kms_deletion_window(r: _Reader) -> int | None:
    """``kmsDeletionWindowDays``: within the window AWS KMS accepts."""
    deletion_window = r.integer("kmsDeletionWindowDays")
    low, high = KMS_DELETION_WINDOW
    if deletion_window is not None and not low <= deletion_window <= high:
        r.fail(f"{_key('kmsDeletionWindowDays')} = {deletion_window} is outside the {low} to {high} days "
               f"AWS KMS accepts; use {low} to {high}")
    return deletion_window


def load(config: pulumi.Config | None = None) -> Settings:
    """Read and validate the stack's config; raise one ``ConfigError`` listing every problem."""
    config = config or pulumi.Config(PROJECT)
    r = _Reader(config)
    stack = pulumi.get_stack()
    identity = aws.get_caller_identity()
    partition = aws.get_partition()
    region = aws.get_region().region

    req = _read_profiles(r)
    lifecycle = _read_lifecycle_keys(r)
    retention = _archive_retention(r, req, lifecycle.archive_retention)
    transition = _archive_transition(r, req, lifecycle.storage_class, lifecycle.transition, retention)
    log_group_days = _log_group_retention(r, req, lifecycle.log_group_retention, retention)
    encryption = _read_encryption(r)
    access_logging, access_log_days = _read_access_logging(r, req, lifecycle.access_log_retention, retention)
    lock_days = _object_lock(r, lifecycle.lock_mode, lifecycle.lock_days, retention)
    force_destroy, protect = _read_protection(r, req)
    names = _read_names(r, stack, identity.account_id)
    auditors, break_glass = _read_readers(r, req, partition.partition, identity.account_id)
    alarms = _read_alarms(r, req)
    trail = _read_trail(r, names)
    deletion_window = _read_kms_deletion_window(r)

    for warning in undeclared_key_warnings(_config_keys(), declared_keys()):
        pulumi.log.warn(warning)
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
        archive_storage_class=lifecycle.storage_class,
        archive_transition_days=transition,
        log_group_retention_days=log_group_days,
        encryption=encryption,
        access_logging=access_logging,
        access_log_retention_days=access_log_days if access_logging else 0,
        object_lock_mode=lifecycle.lock_mode or None,
        object_lock_retention_days=lock_days,
        force_destroy=force_destroy,
        protect=protect,
        trail_name=names.trail,
        bucket_name=names.bucket,
        access_log_bucket_name=names.access_log_bucket,
        log_group_name=names.log_group,
        app_audit_log_group_name=names.app_audit_log_group,
        auditor_role_arns=auditors,
        break_glass_role_arn=break_glass,
        alarm_emails=alarms.emails,
        alarm_https_endpoints=alarms.https_endpoints,
        alarm_controls=alarms.controls,
        trail_sns_notification=trail.sns_notification,
        insights=trail.insights,
        organization_id=trail.organization_id,
        data_event_dynamodb_tables=trail.dynamodb_tables,
        data_event_lambda_functions=trail.lambda_functions,
        data_event_s3_buckets=trail.s3_buckets,
        kms_deletion_window_days=deletion_window,
    )


# --- analytics (Athena over the archive) ----------------------------------------------------------
# Read by its own small reader so that the rest of ``load`` stays as it is; called after ``load``.

# Storage classes Athena does not read: unless a table sets read_restored_glacier_objects, "Athena
# skips all of the table's S3 Glacier Flexible Retrieval and S3 Glacier Deep Archive objects", and
# with it Athena still reads only restored ones (Athena User Guide, "Query restored Amazon S3
# Glacier objects"). GLACIER_IR is read like STANDARD.
ATHENA_SKIPPED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# Athena's BytesScannedCutoffPerQuery minimum is 10 MB (Athena API reference, WorkGroupConfiguration).
ANALYTICS_CUTOFF_GB_RANGE = (1, 1_000_000)
ANALYTICS_RESULT_DAYS_RANGE = (1, 90)
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION_NAME = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
# Every region CloudTrail can write a multi-region trail's files under (AWS General Reference,
# "AWS service endpoints", commercial partition). us-east-1 holds IAM's and other global events.
DEFAULT_ANALYTICS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1",
    "mx-central-1", "sa-east-1",
)


@dataclass(frozen=True)
class AnalyticsSettings:
    """The analytics stack's plain values (``None`` from ``load_analytics`` when it is off)."""

    database_name: str  # Glue: lowercase letters, digits and '_'
    workgroup_name: str  # Athena: letters, digits, '.', '_', '-'
    results_bucket_name: str
    bytes_scanned_cutoff: int  # bytes
    result_retention_days: int
    regions: tuple[str, ...]
    account_ids: tuple[str, ...]


def load_analytics(s: Settings, config: pulumi.Config | None = None) -> AnalyticsSettings | None:
    """Read the ``analytics*`` keys; raise one ``ConfigError`` listing every problem."""
    r = _Reader(config or pulumi.Config(PROJECT))
    enabled = r.boolean("analyticsEnabled")
    cutoff_gb = r.integer("analyticsBytesScannedCutoffGb")
    result_days = r.integer("analyticsResultRetentionDays")
    regions = r.strings("analyticsRegions")
    accounts = r.strings("analyticsAccountIds")
    prefix = r.string("bucketNamePrefix")
    if not enabled:
        if r.errors:
            raise ConfigError("\n".join(r.errors))
        return None
    low, high = ANALYTICS_CUTOFF_GB_RANGE
    if cutoff_gb is not None and not low <= cutoff_gb <= high:
        r.fail(f"{_key('analyticsBytesScannedCutoffGb')} = {cutoff_gb} is outside {low} to {high}; "
               f"use a whole number of GB in that range")
    low, high = ANALYTICS_RESULT_DAYS_RANGE
    if result_days is not None and not low <= result_days <= high:
        r.fail(f"{_key('analyticsResultRetentionDays')} = {result_days} is outside {low} to {high} days; "
               f"query results are copies of log data and should not outlive their use")
    for region in regions:
        if not _REGION_NAME.match(region):
            r.fail(f"{_key('analyticsRegions')} = {_show(regions)} contains {_show(region)}, which is not a "
                   f"region name (e.g. eu-west-1; no spaces)")
    if regions and "us-east-1" not in regions:
        r.fail(f"{_key('analyticsRegions')} = {_show(regions)} lacks \"us-east-1\", where CloudTrail writes "
               f"IAM's and other global services' events; add it")
    for account in accounts:
        if not _ACCOUNT_ID.match(account):
            r.fail(f"{_key('analyticsAccountIds')} = {_show(accounts)} contains {_show(account)}, which "
                   f"is not a 12-digit account id")
    if accounts and not s.organization_trail:
        r.fail(f"{_key('analyticsAccountIds')} = {_show(accounts)} is for an organization trail's member "
               f"accounts, but {_key('organizationTrail')} is false; use []")
    stack_part = re.sub(r"[^a-z0-9-]", "-", s.stack.lower())
    results_bucket = f"{prefix}-athena-{s.account_id}-{stack_part}"
    # The same rule as the archive's buckets (names without dots).
    _check_bucket_prefix(r, prefix, results_bucket)
    database = re.sub(r"[^a-z0-9_]", "_", s.trail_name.lower())
    if r.errors:
        raise ConfigError("\n".join(r.errors))
    assert cutoff_gb is not None and result_days is not None and _GLUE_NAME.match(database)
    if s.archive_transition_days is not None and s.archive_storage_class in ATHENA_SKIPPED_STORAGE_CLASSES:
        # A warning, not a refusal: GLACIER is the archive's economical default for years of
        # retention, and restored objects stay queryable (the table reads restored objects).
        pulumi.log.warn(
            f"{_key('archiveStorageClass')} is {s.archive_storage_class}: Athena skips objects in that "
            f"class, so analytics queries see only the newest {s.archive_transition_days} days of logs "
            f"(Athena User Guide, \"Query restored Amazon S3 Glacier objects\"); restore older days "
            f"before querying them, or use GLACIER_IR, which Athena reads")
    return AnalyticsSettings(
        database_name=database,
        workgroup_name=s.trail_name,
        results_bucket_name=results_bucket,
        bytes_scanned_cutoff=cutoff_gb * 1024**3,
        result_retention_days=result_days,
        regions=tuple(dict.fromkeys(regions)) or DEFAULT_ANALYTICS_REGIONS,
        account_ids=tuple(dict.fromkeys(accounts)) or (s.account_id,),
    )
