"""KMS key rotation for customer managed symmetric keys (aws:kms/key:Key).

Controls served: CIS v4.0.1 3.6, Security Hub KMS.4, PCI DSS 3.7.4 (key changes at the end of the
cryptoperiod), HIPAA 164.312(a)(2)(iv), SOC 2 CC6.1. Automatic rotation exists only for symmetric
encryption keys in the AWS KMS key store, so asymmetric, HMAC and custom-key-store keys are out of scope
(AWS KMS Developer Guide, "Rotating AWS KMS keys").
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, settings
from audit_policies.props import as_bool, is_set, is_unknown

KEY = "aws:kms/key:Key"


def _rotatable(props: dict) -> bool | Any:
    """True for a symmetric encryption key in the AWS KMS key store; an Unknown when that is unknown."""
    spec = props.get("customerMasterKeySpec")
    usage = props.get("keyUsage")
    for value in (spec, usage):
        if is_unknown(value):
            return value
    if spec not in (None, "SYMMETRIC_DEFAULT") or usage not in (None, "ENCRYPT_DECRYPT"):
        return False
    return not (is_set(props.get("customKeyStoreId")) or is_set(props.get("xksKeyId")))


def _rotation(ctx: base.Context, props: dict, _args: Any) -> None:
    enabled = as_bool(props.get("enableKeyRotation"))
    if enabled is True:
        return
    rotatable = _rotatable(props)
    if rotatable is False:
        return
    pending = enabled if is_unknown(enabled) else rotatable if is_unknown(rotatable) else None
    if pending is not None:
        ctx.findings.defer(pending)
        return
    ctx.findings.violation(f"Set enableKeyRotation to true {ctx.cite()}.")


POLICIES = [
    base.resource_policy(
        name="aws-kms-key-rotation",
        description="Customer managed symmetric KMS keys must have automatic key rotation enabled.",
        service="kms", resource_types=(KEY,), level=EnforcementLevel.MANDATORY, severity=Severity.MEDIUM,
        check=_rotation, config=settings.PROFILE_PROPERTIES,
        applies=base.flag_required("encryption_at_rest"),
    ),
]
