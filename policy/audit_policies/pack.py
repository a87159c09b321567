"""Every policy of the spawn-audit-compliance pack, in the order the pack and CONTROLS.md list them.

Imported by ``policy/__main__.py`` (which starts the Analyzer server) and by the tests and generators,
which must never import ``__main__``.
"""

from __future__ import annotations

from audit_policies import access, cloudtrail, cloudwatch, evidence, kms, s3, sns

PACK_NAME = "spawn-audit-compliance"
PACK_DESCRIPTION = (
    "HIPAA, PCI DSS v4.0.1 and SOC 2 controls for AWS CloudTrail audit logging: the trail, its S3 "
    "bucket, its CloudWatch log group, KMS keys, SNS topics and CIS 4.x monitoring alarms."
)

ALL_POLICIES = [
    *cloudtrail.POLICIES,
    *cloudtrail.STACK_POLICIES,
    *s3.POLICIES,
    *access.POLICIES,
    *kms.POLICIES,
    *cloudwatch.POLICIES,
    *sns.POLICIES,
    *evidence.POLICIES,
]

POLICIES_BY_NAME = {p.name: p for p in ALL_POLICIES}
if len(POLICIES_BY_NAME) != len(ALL_POLICIES):
    raise ValueError("duplicate policy names in the pack")
