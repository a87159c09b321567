"""The one table of regulation clauses that spawn-audit cites, with what each clause asks.

Every clause identifier that a message, a policy's metadata or a document names is defined here once,
spelled exactly as it is cited. The policy pack's per-policy table (``audit_policies.controls``) and
the Pulumi program's config errors (``components.settings``) take their identifiers from here, and
``policy/tools/generate.py`` writes the table into ``policy/CONTROLS.md``.

Sources:

* HIPAA Security Rule, 45 CFR Part 164 Subpart C: 164.308 administrative safeguards, 164.312
  technical safeguards, 164.316(b)(2)(i) time limit for documentation.
* PCI DSS v4.0.1 (June 2024): requirement 10 (log and monitor all access), 4.2.1 (strong cryptography
  in transit), 3.7.4 (key changes at the end of the cryptoperiod).
* SOC 2: AICPA Trust Services Criteria (2017, revised points of focus 2022).

Benchmark and service identifiers (CIS AWS Foundations Benchmark recommendations, Security Hub
controls, AWS Config rules) are not regulation clauses; they stay with each policy in ``controls``.
"""

from __future__ import annotations

# --- HIPAA Security Rule (45 CFR Part 164) -----------------------------------------------------------
HIPAA_REVIEW = "45 CFR 164.308(a)(1)(ii)(D)"
HIPAA_ACCESS = "45 CFR 164.312(a)(1)"
HIPAA_ENCRYPTION = "45 CFR 164.312(a)(2)(iv)"
HIPAA_AUDIT = "45 CFR 164.312(b)"
HIPAA_INTEGRITY = "45 CFR 164.312(c)(1)"
HIPAA_TRANSMISSION = "45 CFR 164.312(e)(1)"
HIPAA_RETENTION = "45 CFR 164.316(b)(2)(i)"

# --- PCI DSS v4.0.1 -----------------------------------------------------------------------------------
PCI_KEY_CHANGE = "PCI DSS 3.7.4"
PCI_TRANSMISSION = "PCI DSS 4.2.1"
PCI_LOGS_ENABLED = "PCI DSS 10.2.1"
PCI_ADMIN_ACTIONS = "PCI DSS 10.2.1.2"
PCI_LOG_ACCESS = "PCI DSS 10.2.1.3"
PCI_READ_ACCESS = "PCI DSS 10.3.1"
PCI_PROTECTED = "PCI DSS 10.3.2"
PCI_BACKED_UP = "PCI DSS 10.3.3"
PCI_CHANGE_DETECTION = "PCI DSS 10.3.4"
PCI_DAILY_REVIEW = "PCI DSS 10.4.1"
PCI_AUTOMATED_REVIEW = "PCI DSS 10.4.1.1"
PCI_RETENTION = "PCI DSS 10.5.1"

# --- SOC 2 Trust Services Criteria --------------------------------------------------------------------
SOC2_LOGICAL_ACCESS = "SOC 2 CC6.1"
SOC2_TRANSMISSION = "SOC 2 CC6.7"
SOC2_MONITORING = "SOC 2 CC7.2"
SOC2_EVALUATION = "SOC 2 CC7.3"
SOC2_CAPACITY = "SOC 2 A1.1"

# What each clause asks, in a few words of its own text (for the generated documentation).
TITLES: dict[str, str] = {
    HIPAA_REVIEW: "Information system activity review: regularly review records such as audit logs",
    HIPAA_ACCESS: "Access control: allow access only to persons or programs granted access rights",
    HIPAA_ENCRYPTION: "Encryption and decryption of electronic protected health information",
    HIPAA_AUDIT: "Audit controls: record and examine activity in information systems",
    HIPAA_INTEGRITY: "Integrity: protect information from improper alteration or destruction",
    HIPAA_TRANSMISSION: "Transmission security: guard against unauthorized access in transit",
    HIPAA_RETENTION: "Time limit: retain required documentation for 6 years",
    PCI_KEY_CHANGE: "Cryptographic keys are changed at the end of their cryptoperiod",
    PCI_TRANSMISSION: "Strong cryptography protects data during transmission",
    PCI_LOGS_ENABLED: "Audit logs are enabled and active for all system components",
    PCI_ADMIN_ACTIONS: "Audit logs capture all actions taken by individuals with administrative access",
    PCI_LOG_ACCESS: "Audit logs capture all access to audit logs",
    PCI_READ_ACCESS: "Read access to audit log files is limited to those with a job-related need",
    PCI_PROTECTED: "Audit log files are protected from modification by individuals",
    PCI_BACKED_UP: "Audit log files are promptly backed up to a central store that is difficult to modify",
    PCI_CHANGE_DETECTION: "File integrity monitoring or change detection is used on audit logs",
    PCI_DAILY_REVIEW: "Security events and critical-system logs are reviewed at least once daily",
    PCI_AUTOMATED_REVIEW: "Automated mechanisms perform audit log reviews",
    PCI_RETENTION: "Audit log history is retained at least 12 months, the newest 3 months immediately "
                   "available",
    SOC2_LOGICAL_ACCESS: "Logical access security over protected information assets",
    SOC2_TRANSMISSION: "Transmission, movement and removal of information is restricted and protected",
    SOC2_MONITORING: "System components are monitored for anomalies indicating malicious acts or errors",
    SOC2_EVALUATION: "Security events are evaluated to determine whether they are incidents",
    SOC2_CAPACITY: "Processing capacity is managed to meet objectives",
}

# The profile-level clauses: why each profile sets a number or requires a control. The numbers
# themselves are in ``spawn_compliance.profiles``.
RETENTION: dict[str, str] = {
    "hipaa": HIPAA_RETENTION,
    "pci-dss": PCI_RETENTION,
    "soc2": f"{SOC2_MONITORING}, audit period + 90 days",
}
IMMEDIATE_ACCESS = PCI_RETENTION
ACCESS_LOGGING: dict[str, str] = {"hipaa": HIPAA_AUDIT, "pci-dss": PCI_LOG_ACCESS}
ALARMS = SOC2_MONITORING

FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("45 CFR ", "HIPAA Security Rule (45 CFR Part 164)"),
    ("PCI DSS ", "PCI DSS v4.0.1"),
    ("SOC 2 ", "SOC 2 Trust Services Criteria"),
)
