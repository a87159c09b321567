"""The compliance-profile table: the single source of truth for retention and required controls.

The Pulumi program (``components/settings.py``) derives its defaults and floors from this table and
the policy pack enforces the same numbers, so a stack that the program accepts is a stack the pack
passes. This module is pure standard library so that both can import it.

Sources (each figure is cited where it is defined):

* HIPAA Security Rule, 45 CFR 164.316(b)(2)(i): documentation retained 6 years from creation.
  6 years is 2192 days when two leap days fall inside them. spawn's own documentation says
  "6 years (2555 days)"; 2555 days is 7 years. The 2555-day figure stays the *default* (more is
  allowed), the floor is the regulation's 2192 days.
* PCI DSS v4.0.1 requirement 10.5.1: audit log history retained for at least 12 months, with at
  least the most recent three months immediately available for analysis. Three calendar months
  span at most 92 days, so no transition to a storage class that needs a restore before day 92.
* SOC 2 (AICPA Trust Services Criteria) sets no number; spawn's policy is the audit period plus
  90 days, with ``auditPeriodDays`` from stack config (default 365).
* CloudWatch Logs ``PutRetentionPolicy`` accepts only the values in
  ``CLOUDWATCH_LOGS_RETENTION_DAYS`` (AWS CloudWatch Logs API reference).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, fields

PROFILE_NAMES: tuple[str, ...] = ("hipaa", "pci-dss", "soc2")

# CloudWatch Logs API reference, PutRetentionPolicy: retentionInDays "Valid Values".
CLOUDWATCH_LOGS_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)

# The trail's log group keeps at least a year under any profile (and in the sandbox): CloudWatch
# Logs is where investigations start, and a year covers PCI DSS 10.5.1 and CIS log review.
LOG_GROUP_MIN_RETENTION_DAYS = 365

# S3 storage classes an archive may transition to, and those whose objects need a restore before
# they can be read (S3 User Guide, "Understanding and managing Amazon S3 storage classes").
ARCHIVE_STORAGE_CLASSES: tuple[str, ...] = (
    "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE",
)
RESTORE_REQUIRED_STORAGE_CLASSES: frozenset[str] = frozenset({"GLACIER", "DEEP_ARCHIVE"})

DEFAULT_AUDIT_PERIOD_DAYS = 365
SOC2_RETENTION_MARGIN_DAYS = 90
# Sandbox (no profile): the short default the dev stack uses; there is no regulatory floor.
SANDBOX_DEFAULT_RETENTION_DAYS = 90
# spawn's documentation: transition to GLACIER at day 90.
DEFAULT_TRANSITION_DAYS = 90
DEFAULT_ARCHIVE_STORAGE_CLASS = "GLACIER"


@dataclass(frozen=True, kw_only=True)
class Controls:
    """The controls a profile turns on; combined across profiles, one that any profile requires."""

    log_file_validation: bool
    encryption_at_rest: bool
    kms_encryption: bool
    tls_only: bool
    public_access_blocked: bool
    access_logging: bool
    restricted_read_access: bool
    # Reads of the log files limited to the named auditor and break-glass roles by a bucket-policy
    # deny, so that an IAM policy granting s3:GetObject elsewhere in the account cannot read them.
    auditor_only_reads: bool
    monitoring_alarms: bool


@dataclass(frozen=True, kw_only=True)
class Profile(Controls):
    """What one compliance framework requires of the audit trail."""

    name: str
    title: str
    # Minimum days the S3 archive keeps every log file (None: no floor).
    retention_floor_days: int | None
    # Default archive retention when the stack does not set one.
    retention_default_days: int | None
    # Newest days that must stay immediately readable (no restore-class transition before).
    immediately_available_days: int


def _soc2_days(audit_period_days: int) -> int:
    return audit_period_days + SOC2_RETENTION_MARGIN_DAYS


PROFILES: dict[str, Profile] = {
    "hipaa": Profile(
        name="hipaa",
        title="HIPAA Security Rule",
        retention_floor_days=2192,  # 45 CFR 164.316(b)(2)(i): 6 years, counting leap days
        retention_default_days=2555,  # spawn's documented figure (7 years, not 6)
        immediately_available_days=0,
        log_file_validation=True,  # 45 CFR 164.312(c)(1) integrity
        encryption_at_rest=True,  # 45 CFR 164.312(a)(2)(iv) encryption and decryption
        kms_encryption=False,  # SSE-S3 or SSE-KMS both satisfy 164.312(a)(2)(iv)
        tls_only=True,  # 45 CFR 164.312(e)(1) transmission security
        public_access_blocked=True,  # 45 CFR 164.312(a)(1) access control
        access_logging=True,  # 45 CFR 164.312(b) audit controls over the audit store itself
        restricted_read_access=True,  # 45 CFR 164.312(a)(1) access control
        auditor_only_reads=False,  # 164.312(a)(1) asks for access control, not a named-reader list
        monitoring_alarms=False,  # 164.308(a)(1)(ii)(D) asks for review, not automated alarms
    ),
    "pci-dss": Profile(
        name="pci-dss",
        title="PCI DSS v4.0.1",
        retention_floor_days=365,  # req. 10.5.1: at least 12 months
        retention_default_days=365,
        immediately_available_days=92,  # req. 10.5.1: newest 3 months immediately available
        log_file_validation=True,  # req. 10.3.4: change detection on audit logs
        encryption_at_rest=True,  # req. 10.3.2: audit logs protected from modification
        kms_encryption=False,
        tls_only=True,  # req. 10.3 / 4.2.1: strong cryptography in transit
        public_access_blocked=True,  # req. 10.3.1: read access limited to a job-related need
        access_logging=True,  # req. 10.2.1.3: all access to audit logs is itself logged
        restricted_read_access=True,  # req. 10.3.1
        auditor_only_reads=True,  # req. 10.3.1: read access limited to those with a job-related need
        monitoring_alarms=False,  # req. 10.4.1.1 automated review: covered by soc2's alarms when chosen
    ),
    "soc2": Profile(
        name="soc2",
        title="SOC 2 (Trust Services Criteria)",
        retention_floor_days=None,  # computed from auditPeriodDays, see _soc2_days
        retention_default_days=None,
        immediately_available_days=0,
        log_file_validation=True,  # CC7.2 integrity of monitoring evidence
        encryption_at_rest=True,  # CC6.1 logical access / protection of information
        kms_encryption=False,
        tls_only=True,  # CC6.7 transmission of information
        public_access_blocked=True,  # CC6.1
        access_logging=False,
        restricted_read_access=True,  # CC6.1, CC6.3
        auditor_only_reads=False,
        monitoring_alarms=True,  # CC7.2 / CC7.3: automated monitoring and evaluation of events
    ),
}

_BOOLEAN_CONTROLS = tuple(f.name for f in fields(Controls))


@dataclass(frozen=True, kw_only=True)
class Requirements(Controls):
    """The strictest value of each parameter across the chosen profiles."""

    profiles: tuple[str, ...]
    audit_period_days: int
    retention_floor_days: int  # 0 when no profile sets a floor (sandbox)
    retention_default_days: int
    immediately_available_days: int
    log_group_min_retention_days: int

    @property
    def sandbox(self) -> bool:
        return not self.profiles


class ProfileError(ValueError):
    """A profile list or audit period that the table cannot interpret."""


def round_up_log_retention(days: int) -> int:
    """The smallest CloudWatch Logs retention value that keeps ``days`` days (2555 -> 2557)."""
    index = bisect.bisect_left(CLOUDWATCH_LOGS_RETENTION_DAYS, days)
    if index == len(CLOUDWATCH_LOGS_RETENTION_DAYS):
        raise ProfileError(
            f"no CloudWatch Logs retention keeps {days} days; the longest is "
            f"{CLOUDWATCH_LOGS_RETENTION_DAYS[-1]} (or 0, never expire)"
        )
    return CLOUDWATCH_LOGS_RETENTION_DAYS[index]


def requirements(profiles: list[str] | tuple[str, ...],
                 audit_period_days: int = DEFAULT_AUDIT_PERIOD_DAYS) -> Requirements:
    """Combine ``profiles`` by taking the strictest value of each parameter.

    An empty list is a sandbox: no retention floor and no required control.
    """
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        raise ProfileError(
            f"unknown profile {unknown[0]!r}; allowed: {', '.join(PROFILE_NAMES)}"
        )
    if isinstance(audit_period_days, bool) or not isinstance(audit_period_days, int) \
            or audit_period_days <= 0:
        raise ProfileError(
            f"auditPeriodDays must be a whole number of days above 0; is {audit_period_days!r}"
        )
    chosen = [PROFILES[p] for p in dict.fromkeys(profiles)]

    floors = [p.retention_floor_days for p in chosen if p.retention_floor_days is not None]
    defaults = [p.retention_default_days for p in chosen if p.retention_default_days is not None]
    if any(p.name == "soc2" for p in chosen):
        floors.append(_soc2_days(audit_period_days))
        defaults.append(_soc2_days(audit_period_days))
    floor = max(floors, default=0)
    default = max(defaults, default=SANDBOX_DEFAULT_RETENTION_DAYS)
    flags = {name: any(getattr(p, name) for p in chosen) for name in _BOOLEAN_CONTROLS}
    return Requirements(
        profiles=tuple(p.name for p in chosen),
        audit_period_days=audit_period_days,
        retention_floor_days=floor,
        retention_default_days=max(default, floor),
        immediately_available_days=max((p.immediately_available_days for p in chosen), default=0),
        log_group_min_retention_days=round_up_log_retention(max(LOG_GROUP_MIN_RETENTION_DAYS, floor)),
        **flags,
    )


def binding_floor(chosen: list[str] | tuple[str, ...], audit_period_days: int,
                  value_of: Callable[[Requirements], int]) -> tuple[int, tuple[str, ...]]:
    """The effective floor ``value_of`` gives for ``chosen`` profiles, and the profiles that set it.

    Every floor in the table combines by maximum, so the combined value is the highest profile's and
    each profile whose own value equals it is named as its source: ``(2192, ("hipaa",))`` for the
    retention floor of hipaa + pci-dss. A sandbox (no profile) names none.
    """
    combined = value_of(requirements(chosen, audit_period_days))
    binding = tuple(p for p in dict.fromkeys(chosen)
                    if value_of(requirements([p], audit_period_days)) == combined)
    return combined, binding
