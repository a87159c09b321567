"""SNS topic encryption at rest (aws:sns/topic:Topic).

Controls served: Security Hub SNS.1, HIPAA 164.312(a)(2)(iv), SOC 2 CC6.1. Alarm and trail
notifications can carry resource names and principals, so topics should be encrypted with KMS.

Two policies, because an enforcement level is static per policy: an ADVISORY hygiene check on every
topic, and a MANDATORY check that applies only when a chosen profile (``kms_encryption``) or the
``requireKms`` setting asks for KMS (otherwise it reports "not applicable").
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, settings
from audit_policies.props import is_set

TOPIC = "aws:sns/topic:Topic"


def _topic_kms(ctx: base.Context, props: dict, _args: Any) -> None:
    # An unknown key (e.g. key.arn during preview) is present, hence compliant.
    if not is_set(props.get("kmsMasterKeyId")):
        ctx.findings.violation(f"Set kmsMasterKeyId on the topic to a KMS key {ctx.cite()}.")


POLICIES = [
    base.resource_policy(
        name="aws-sns-topic-kms-encryption",
        description="SNS topics should be encrypted at rest with a KMS key.",
        service="sns", resource_types=(TOPIC,), level=EnforcementLevel.ADVISORY, severity=Severity.LOW,
        check=_topic_kms,
    ),
    base.resource_policy(
        name="aws-sns-topic-kms-encryption-required",
        description="SNS topics must be encrypted at rest with a KMS key when the profile or the "
                    "requireKms setting asks for KMS.",
        service="sns", resource_types=(TOPIC,), level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
        check=_topic_kms, config={**settings.PROFILE_PROPERTIES, **settings.REQUIRE_KMS},
        applies=base.kms_required,
    ),
]
