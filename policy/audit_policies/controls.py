"""The one table of clauses and metadata behind every policy in the pack.

Each policy name maps to the regulation clauses and benchmark controls it serves, its documentation URL
and its remediation steps. Violation messages cite from here (``cite``), the policies' tags and
framework come from here, and ``policy/CONTROLS.md`` is generated from here. Regulation clause
identifiers come from the shared clause table (``spawn_compliance.clauses``), so each is written once.
Nothing in this module imports ``pulumi_policy``.

Sources for the identifiers:

* HIPAA Security Rule, 45 CFR Part 164 Subpart C (164.308 administrative, 164.312 technical
  safeguards, 164.316(b)(2)(i) six-year retention of documentation).
* PCI DSS v4.0.1, requirement 10 (audit logs), 4.2.1 (strong cryptography in transit) and 3.7.4
  (cryptographic key changes at the end of the cryptoperiod).
* SOC 2: AICPA Trust Services Criteria (2017, revised points of focus 2022), CC6.x and CC7.x.
* CIS Amazon Web Services Foundations Benchmark v4.0.1: 2.1.1 (deny HTTP), 2.1.2 (MFA Delete),
  2.1.4 (S3 Block Public Access), 3.1-3.6 (CloudTrail, KMS rotation), 4.1-4.15 (monitoring).
* AWS Security Hub control reference (CloudTrail.1-9, S3.5/6/8/9/12/14/15/20, KMS.4, CloudWatch.1-16,
  SNS.1) and AWS Config managed rule ``cloudtrail-security-trail-enabled``.
"""

from __future__ import annotations

from dataclasses import dataclass

from spawn_compliance import clauses as c
from spawn_compliance import monitoring

_SH = "https://docs.aws.amazon.com/securityhub/latest/userguide"


@dataclass(frozen=True)
class Clauses:
    """What one policy serves. Every tuple holds identifiers exactly as messages cite them."""

    hipaa: tuple[str, ...] = ()
    pci_dss: tuple[str, ...] = ()
    soc2: tuple[str, ...] = ()
    cis: tuple[str, ...] = ()  # CIS AWS Foundations Benchmark v4.0.1 recommendation numbers
    security_hub: tuple[str, ...] = ()  # AWS Security Hub control ids
    aws_config: tuple[str, ...] = ()  # AWS Config managed rules
    url: str = ""
    remediation: str = ""


# A policy that makes a control mandatory under the profiles that require it has a twin, named
# "<policy>-required", that serves the same clauses with the same remediation.
REQUIRED_TWINS: tuple[str, ...] = (
    "aws-cloudtrail-trail-kms-encryption", "aws-cloudwatch-log-group-kms-encryption",
    "aws-sns-topic-kms-encryption",
)

_MONITORING_SH = tuple(ctl.security_hub_id for ctl in monitoring.CIS_CONTROLS if ctl.security_hub_id)

_CONTROLS: dict[str, Clauses] = {
    # --- CloudTrail trail ----------------------------------------------------------------------------
    "aws-cloudtrail-trail-log-file-validation": Clauses(
        hipaa=(c.HIPAA_INTEGRITY,), pci_dss=(c.PCI_CHANGE_DETECTION,), soc2=(c.SOC2_MONITORING,),
        cis=("3.2",), security_hub=("CloudTrail.4",), aws_config=("cloudtrail-security-trail-enabled",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-4",
        remediation="Set enableLogFileValidation to true on the trail so CloudTrail writes signed digest "
                    "files that prove log files were not changed after delivery.",
    ),
    "aws-cloudtrail-trail-multi-region": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOGS_ENABLED,), soc2=(c.SOC2_MONITORING,),
        cis=("3.1",), security_hub=("CloudTrail.1",), aws_config=("cloudtrail-security-trail-enabled",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-1",
        remediation="Set isMultiRegionTrail to true on a trail that records management events, so "
                    "activity in every region, including regions enabled later, is recorded.",
    ),
    "aws-cloudtrail-trail-global-service-events": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOGS_ENABLED,), soc2=(c.SOC2_MONITORING,),
        aws_config=("cloudtrail-security-trail-enabled",),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "cloudtrail-concepts.html#cloudtrail-concepts-global-service-events",
        remediation="Remove includeGlobalServiceEvents=false (or set it to true) so IAM, STS and "
                    "CloudFront events are recorded.",
    ),
    "aws-cloudtrail-trail-management-events": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOGS_ENABLED, c.PCI_ADMIN_ACTIONS), soc2=(c.SOC2_MONITORING,),
        cis=("3.1",), security_hub=("CloudTrail.1",), aws_config=("cloudtrail-security-trail-enabled",),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html",
        remediation="Make the stack's multi-region trails together record read and write management "
                    "events from every source: on one trail, omit event selectors, or use eventSelectors "
                    "with readWriteType All, includeManagementEvents true and no "
                    "excludeManagementEventSources, or advanced selectors on eventCategory Management "
                    "without eventSource exclusions (readOnly may split reads and writes over selectors "
                    "or trails).",
    ),
    "aws-cloudtrail-trail-logging-enabled": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOGS_ENABLED,), soc2=(c.SOC2_MONITORING,),
        cis=("3.1",), security_hub=("CloudTrail.3",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-3",
        remediation="Remove enableLogging=false (or set it to true); a stopped trail records nothing.",
    ),
    "aws-cloudtrail-trail-cloudwatch-logs": Clauses(
        hipaa=(c.HIPAA_REVIEW,), pci_dss=(c.PCI_BACKED_UP, c.PCI_AUTOMATED_REVIEW), soc2=(c.SOC2_MONITORING,),
        security_hub=("CloudTrail.5",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-5",
        remediation="Set cloudWatchLogsGroupArn to '<log group arn>:*' and cloudWatchLogsRoleArn to a role "
                    "that cloudtrail.amazonaws.com can assume with logs:CreateLogStream and "
                    "logs:PutLogEvents on that log group.",
    ),
    "aws-cloudtrail-trail-kms-encryption": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        cis=("3.5",), security_hub=("CloudTrail.2",), aws_config=("cloudtrail-security-trail-enabled",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-2",
        remediation="Set kmsKeyId to a customer managed KMS key whose key policy lets "
                    "cloudtrail.amazonaws.com GenerateDataKey* for this trail.",
    ),
    "aws-cloudtrail-trail-sns-notification": Clauses(
        soc2=(c.SOC2_EVALUATION,),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/configure-sns-notifications-for-cloudtrail.html",
        remediation="Set snsTopicName to a topic whose policy lets cloudtrail.amazonaws.com publish, so "
                    "log-file delivery can be observed.",
    ),
    "aws-cloudtrail-trail-tags": Clauses(
        soc2=(c.SOC2_LOGICAL_ACCESS,), security_hub=("CloudTrail.9",),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-9",
        remediation="Add tags to the trail (for example owner and data-classification) so ownership and "
                    "scope are visible to reviewers.",
    ),
    # --- S3 bucket a trail writes to ----------------------------------------------------------------
    "aws-s3-bucket-public-access-block": Clauses(
        hipaa=(c.HIPAA_ACCESS,), pci_dss=(c.PCI_READ_ACCESS,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        cis=("2.1.4",), security_hub=("CloudTrail.6", "S3.8"),
        url=f"{_SH}/s3-controls.html#s3-8",
        remediation="Add an aws.s3.BucketPublicAccessBlock for the log bucket with blockPublicAcls, "
                    "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
    ),
    "aws-s3-bucket-encryption": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
        remediation="Add an aws.s3.BucketServerSideEncryptionConfiguration for the log bucket whose rule "
                    "sets applyServerSideEncryptionByDefault.sseAlgorithm to aws:kms (with kmsMasterKeyId) "
                    "or AES256.",
    ),
    "aws-s3-bucket-versioning": Clauses(
        hipaa=(c.HIPAA_INTEGRITY,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_MONITORING,),
        security_hub=("S3.14",),
        url=f"{_SH}/s3-controls.html#s3-14",
        remediation="Add an aws.s3.BucketVersioning for the log bucket with versioningConfiguration.status "
                    "Enabled, so an overwritten or deleted log file can be recovered.",
    ),
    "aws-s3-bucket-tls-only": Clauses(
        hipaa=(c.HIPAA_TRANSMISSION,), pci_dss=(c.PCI_TRANSMISSION,), soc2=(c.SOC2_TRANSMISSION,),
        cis=("2.1.1",), security_hub=("S3.5",),
        url=f"{_SH}/s3-controls.html#s3-5",
        remediation="Add to the bucket policy a statement with Effect Deny, Principal \"*\", Action s3:*, "
                    "Resource the bucket ARN and '<bucket ARN>/*', and Condition "
                    "{\"Bool\": {\"aws:SecureTransport\": \"false\"}}.",
    ),
    "aws-s3-bucket-access-logging": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOG_ACCESS,),
        cis=("3.4",), security_hub=("CloudTrail.7", "S3.9"),
        url=f"{_SH}/cloudtrail-controls.html#cloudtrail-7",
        remediation="Add an aws.s3.BucketLogging for the log bucket whose targetBucket is a separate "
                    "access-log bucket, so every read of the audit logs is itself recorded.",
    ),
    "aws-s3-bucket-ownership-enforced": Clauses(
        hipaa=(c.HIPAA_ACCESS,), pci_dss=(c.PCI_READ_ACCESS,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        security_hub=("S3.12",),
        url=f"{_SH}/s3-controls.html#s3-12",
        remediation="Add an aws.s3.BucketOwnershipControls for the log bucket with rule.objectOwnership "
                    "BucketOwnerEnforced and remove ACL settings (acl, grants, BucketAcl).",
    ),
    "aws-s3-bucket-lifecycle-retention": Clauses(
        hipaa=(c.HIPAA_RETENTION,), pci_dss=(c.PCI_RETENTION,), soc2=(c.SOC2_MONITORING,),
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html",
        remediation="Raise expiration.days and noncurrentVersionExpiration.noncurrentDays in the bucket's "
                    "lifecycle rules to at least the retention floor, or remove the expiration.",
    ),
    "aws-s3-bucket-lifecycle-immediate-access": Clauses(
        pci_dss=(c.PCI_RETENTION,),
        url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html",
        remediation="Move transitions to GLACIER or DEEP_ARCHIVE to at least the immediately-available "
                    "window, or transition to a class that needs no restore (STANDARD_IA, GLACIER_IR).",
    ),
    "aws-s3-bucket-object-lock": Clauses(
        hipaa=(c.HIPAA_INTEGRITY,), pci_dss=(c.PCI_PROTECTED,), security_hub=("S3.15",),
        url=f"{_SH}/s3-controls.html#s3-15",
        remediation="Create the log bucket with objectLockEnabled true and add an "
                    "aws.s3.BucketObjectLockConfiguration with a default retention "
                    "(GOVERNANCE or COMPLIANCE).",
    ),
    "aws-s3-bucket-mfa-delete": Clauses(
        hipaa=(c.HIPAA_INTEGRITY,), cis=("2.1.2",), security_hub=("S3.20",),
        url=f"{_SH}/s3-controls.html#s3-20",
        remediation="Enable MFA Delete with the root account (versioningConfiguration.mfaDelete Enabled and "
                    "the mfa argument); it cannot be enabled by a role.",
    ),
    "aws-s3-bucket-policy-no-outside-access": Clauses(
        hipaa=(c.HIPAA_ACCESS, c.HIPAA_INTEGRITY), pci_dss=(c.PCI_READ_ACCESS, c.PCI_PROTECTED),
        soc2=(c.SOC2_LOGICAL_ACCESS,), security_hub=("S3.6",),
        url=f"{_SH}/s3-controls.html#s3-6",
        remediation="Remove bucket-policy statements that grant another account, every principal (*) or the "
                    "whole organization (aws:PrincipalOrgID) s3:GetObject, s3:DeleteObject, s3:PutObject or "
                    "bucket policy/lifecycle/versioning changes, or narrow them with aws:PrincipalAccount or "
                    "aws:PrincipalArn to this account; give each service principal an aws:SourceArn (the "
                    "trail's ARN) or aws:SourceAccount condition. Replicate the bucket only to a bucket of "
                    "this account.",
    ),
    "aws-s3-bucket-reads-limited-to-auditors": Clauses(
        pci_dss=(c.PCI_READ_ACCESS,),
        url="https://docs.aws.amazon.com/IAM/latest/UserGuide/"
            "reference_policies_condition-keys.html#condition-keys-principalarn",
        remediation="Add to the log bucket's policy a statement with Effect Deny, Principal \"*\", Action "
                    "s3:GetObject and s3:GetObjectVersion, Resource '<bucket ARN>/*', and Condition "
                    "{\"ArnNotLike\": {\"aws:PrincipalArn\": [auditor and break-glass role ARNs]}, "
                    "\"BoolIfExists\": {\"aws:PrincipalIsAWSService\": \"false\"}}; in spawn-audit, "
                    "list the roles in auditorRoleArns and breakGlassRoleArn.",
    ),
    # --- KMS ----------------------------------------------------------------------------------------
    "aws-kms-key-rotation": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_KEY_CHANGE,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        cis=("3.6",), security_hub=("KMS.4",),
        url=f"{_SH}/kms-controls.html#kms-4",
        remediation="Set enableKeyRotation to true on the customer managed symmetric key.",
    ),
    "aws-kms-key-policy-no-outside-access": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION, c.HIPAA_ACCESS), pci_dss=(c.PCI_READ_ACCESS, c.PCI_PROTECTED),
        soc2=(c.SOC2_LOGICAL_ACCESS,),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html",
        remediation="Remove key-policy statements that let another account, every principal (*) or the whole "
                    "organization use (kms:Decrypt, kms:GenerateDataKey*, kms:CreateGrant) or administer "
                    "(kms:PutKeyPolicy, kms:ScheduleKeyDeletion, kms:DisableKey) the trail's key; give each "
                    "service principal aws:SourceArn/aws:SourceAccount or the service's encryption-context "
                    "ARN condition naming this account. Give KMS grants on the key only to this account's "
                    "principals.",
    ),
    "aws-cloudwatch-log-group-no-outside-export": Clauses(
        hipaa=(c.HIPAA_ACCESS,), pci_dss=(c.PCI_READ_ACCESS,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CrossAccountSubscriptions.html",
        remediation="Point every subscription filter on the trail's log group at a destination (Kinesis "
                    "stream, Firehose stream, Lambda function or log destination) of this account, or "
                    "remove it.",
    ),
    "aws-kms-key-enabled": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_LOGS_ENABLED,), soc2=(c.SOC2_MONITORING,),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html",
        remediation="Remove isEnabled=false (or set it to true) on the trail's KMS key; CloudTrail cannot "
                    "deliver log files encrypted with a disabled key.",
    ),
    # --- CloudWatch Logs ----------------------------------------------------------------------------
    "aws-cloudwatch-log-group-retention": Clauses(
        hipaa=(c.HIPAA_RETENTION,), pci_dss=(c.PCI_RETENTION,), soc2=(c.SOC2_MONITORING,),
        security_hub=("CloudWatch.16",),
        url=f"{_SH}/cloudwatch-controls.html#cloudwatch-16",
        remediation="Set retentionInDays on the trail's log group to at least the required days (a value "
                    "CloudWatch Logs accepts), or to 0 / unset for never expire.",
    ),
    "aws-cloudwatch-log-group-kms-encryption": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        url="https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        remediation="Set kmsKeyId on the trail's log group to a KMS key whose policy lets "
                    "logs.<region>.amazonaws.com use it.",
    ),
    # --- SNS ----------------------------------------------------------------------------------------
    "aws-sns-topic-kms-encryption": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), soc2=(c.SOC2_LOGICAL_ACCESS,), security_hub=("SNS.1",),
        url=f"{_SH}/sns-controls.html#sns-1",
        remediation="Set kmsMasterKeyId on the topic to a customer managed key that "
                    "cloudwatch.amazonaws.com and cloudtrail.amazonaws.com may use (the AWS managed "
                    "alias/aws/sns suits only topics no AWS service publishes to: CloudWatch alarms cannot).",
    ),
    "aws-sns-topic-policy-no-outside-access": Clauses(
        hipaa=(c.HIPAA_REVIEW,), pci_dss=(c.PCI_AUTOMATED_REVIEW,),
        soc2=(c.SOC2_MONITORING, c.SOC2_EVALUATION),
        url="https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html",
        remediation="Remove topic-policy statements that let another account, every principal (*) or the "
                    "whole organization publish to, subscribe to or administer the alarm topic; limit the "
                    "cloudwatch.amazonaws.com grant with aws:SourceArn (this account's alarms) and "
                    "aws:SourceAccount.",
    ),
    # --- Athena (SQL over the archive) ---------------------------------------------------------------
    # Query results are copies of audit-log data; AWS Config's athena-workgroup-* managed rules and
    # AWS Control Tower CT.ATHENA.PR.2 state the workgroup checks.
    "aws-athena-workgroup-enforce-configuration": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        aws_config=("athena-workgroup-encrypted-at-rest",),
        url="https://docs.aws.amazon.com/athena/latest/ug/workgroups-settings-override.html",
        remediation="Set configuration.enforceWorkgroupConfiguration to true (or leave it out: the API "
                    "default is true) so the workgroup's result location and encryption apply to every "
                    "query.",
    ),
    "aws-athena-workgroup-results-encrypted": Clauses(
        hipaa=(c.HIPAA_ENCRYPTION,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        aws_config=("athena-workgroup-encrypted-at-rest",),
        url="https://docs.aws.amazon.com/config/latest/developerguide/athena-workgroup-encrypted-at-rest.html",
        remediation="Set configuration.resultConfiguration.encryptionConfiguration.encryptionOption to "
                    "SSE_KMS with kmsKeyArn set to the audit key (SSE_S3 where KMS is not required).",
    ),
    "aws-athena-workgroup-results-bucket-protected": Clauses(
        hipaa=(c.HIPAA_ACCESS, c.HIPAA_ENCRYPTION), pci_dss=(c.PCI_READ_ACCESS, c.PCI_PROTECTED),
        soc2=(c.SOC2_LOGICAL_ACCESS,), cis=("2.1.1", "2.1.4"),
        security_hub=("S3.5", "S3.8", "S3.12", "S3.14"),
        url="https://docs.aws.amazon.com/athena/latest/ug/querying.html",
        remediation="Give the bucket named in the workgroup's outputLocation an "
                    "aws.s3.BucketPublicAccessBlock with all four flags, default encryption, versioning, a "
                    "bucket policy denying aws:SecureTransport false, and BucketOwnerEnforced ownership.",
    ),
    "aws-athena-workgroup-engine-version-3": Clauses(
        hipaa=(c.HIPAA_REVIEW,), pci_dss=(c.PCI_DAILY_REVIEW,), soc2=(c.SOC2_EVALUATION,),
        url="https://docs.aws.amazon.com/athena/latest/ug/querying-glacier.html",
        remediation="Set configuration.engineVersion.selectedEngineVersion to \"Athena engine version 3\" "
                    "so restored GLACIER and DEEP_ARCHIVE log files can be queried.",
    ),
    "aws-athena-workgroup-cloudwatch-metrics": Clauses(
        soc2=(c.SOC2_MONITORING,), aws_config=("athena-workgroup-logging-enabled",),
        url="https://docs.aws.amazon.com/config/latest/developerguide/athena-workgroup-logging-enabled.html",
        remediation="Set configuration.publishCloudwatchMetricsEnabled to true.",
    ),
    "aws-athena-workgroup-bytes-scanned-cutoff": Clauses(
        soc2=(c.SOC2_CAPACITY,),
        url="https://docs.aws.amazon.com/athena/latest/ug/workgroups-setting-control-limits-cloudwatch.html",
        remediation="Set configuration.bytesScannedCutoffPerQuery to the most one query may scan "
                    "(at least 10 MB).",
    ),
    # --- Stack --------------------------------------------------------------------------------------
    "aws-cloudtrail-stack-security-trail": Clauses(
        hipaa=(c.HIPAA_AUDIT, c.HIPAA_INTEGRITY), pci_dss=(c.PCI_LOGS_ENABLED, c.PCI_CHANGE_DETECTION),
        soc2=(c.SOC2_MONITORING,), cis=("3.1", "3.2"), security_hub=("CloudTrail.1", "CloudTrail.4"),
        aws_config=("cloudtrail-security-trail-enabled",),
        url="https://docs.aws.amazon.com/config/latest/developerguide/cloudtrail-security-trail-enabled.html",
        remediation="Make one trail satisfy every trail rule at once: multi-region, global service events, "
                    "all management events, logging on, log file validation, CloudWatch Logs delivery and, "
                    "where required, KMS encryption.",
    ),
    "aws-cloudwatch-stack-monitoring-alarms": Clauses(
        hipaa=(c.HIPAA_REVIEW,), pci_dss=(c.PCI_AUTOMATED_REVIEW,),
        soc2=(c.SOC2_MONITORING, c.SOC2_EVALUATION),
        cis=tuple(ctl.cis_id for ctl in monitoring.CIS_CONTROLS if ctl.cis_id),
        security_hub=_MONITORING_SH + ("CloudWatch.15",),
        url=f"{_SH}/cloudwatch-controls.html",
        remediation="For each control, add an aws.cloudwatch.LogMetricFilter with the prescribed pattern on "
                    "a log group the trail delivers to, an aws.cloudwatch.MetricAlarm on its metric, and an "
                    "alarm action to an SNS topic that has an aws.sns.TopicSubscription.",
    ),
    # --- Evidence stores (stack) ---------------------------------------------------------------------
    "aws-s3-bucket-single-configuration": Clauses(
        hipaa=(c.HIPAA_INTEGRITY, c.HIPAA_ACCESS), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_LOGICAL_ACCESS,),
        url="https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html",
        remediation="Keep one resource per bucket for each singleton configuration (BucketPolicy, "
                    "BucketPublicAccessBlock, BucketVersioning, BucketServerSideEncryptionConfiguration, "
                    "BucketLifecycleConfiguration, BucketLogging, BucketObjectLockConfiguration, "
                    "BucketOwnershipControls, BucketAcl) and no inline argument for the same thing: each "
                    "Put* call replaces the bucket's whole configuration.",
    ),
    "aws-cloudtrail-trail-bucket-unverifiable": Clauses(
        hipaa=(c.HIPAA_AUDIT,), pci_dss=(c.PCI_PROTECTED,), soc2=(c.SOC2_MONITORING,),
        url="https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html",
        remediation="Declare the trail's bucket and its configuration in the same stack, or run the pack "
                    "on the stack that declares them and keep that evidence with this one.",
    ),
    "aws-cloudtrail-stack-evidence-protected": Clauses(
        hipaa=(c.HIPAA_RETENTION, c.HIPAA_INTEGRITY), pci_dss=(c.PCI_PROTECTED, c.PCI_RETENTION),
        soc2=(c.SOC2_MONITORING,),
        url="https://www.pulumi.com/docs/iac/concepts/options/protect/",
        remediation="Create the trails, their buckets and access-log buckets, log groups and KMS keys with "
                    "pulumi.ResourceOptions(protect=True) (spawn-audit: protectResources true), and the "
                    "trail log groups with deletion_protection_enabled=True.",
    ),
}



def _with_twins(table: dict[str, Clauses]) -> dict[str, Clauses]:
    """``table`` with each twin in ``REQUIRED_TWINS`` placed right after its policy."""
    result: dict[str, Clauses] = {}
    for name, entry in table.items():
        result[name] = entry
        if name in REQUIRED_TWINS:
            result[f"{name}-required"] = entry
    return result


CONTROLS: dict[str, Clauses] = _with_twins(_CONTROLS)

FRAMEWORK_TAGS = {
    "hipaa": "hipaa", "pci_dss": "pci-dss", "soc2": "soc2", "cis": "cis", "security_hub": "security-hub",
}
# Which Clauses field each profile name selects when a message cites clauses.
PROFILE_FIELDS = {"hipaa": "hipaa", "pci-dss": "pci_dss", "soc2": "soc2"}


def clauses(policy_name: str) -> Clauses:
    return CONTROLS[policy_name]


def tags(policy_name: str) -> list[str]:
    entry = CONTROLS[policy_name]
    return [tag for field_name, tag in FRAMEWORK_TAGS.items() if getattr(entry, field_name)]


def cite(policy_name: str, profiles: tuple[str, ...] | None = None) -> str:
    """The parenthesised clause list for a message: benchmarks first, then the chosen profiles' clauses.

    ``profiles`` None cites every regulation (policies that do not depend on the profile).
    """
    entry = CONTROLS[policy_name]
    parts: list[str] = []
    if entry.security_hub:
        parts.append("Security Hub " + ", ".join(entry.security_hub))
    if entry.cis:
        parts.append("CIS " + ", ".join(entry.cis))
    chosen = ("hipaa", "pci-dss", "soc2") if profiles is None else profiles
    for profile in ("hipaa", "pci-dss", "soc2"):
        if profile in chosen:
            parts.extend(getattr(entry, PROFILE_FIELDS[profile]))
    if not parts and entry.aws_config:
        parts.append("AWS Config " + ", ".join(entry.aws_config))
    return "(" + ", ".join(parts) + ")" if parts else ""
