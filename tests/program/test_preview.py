"""Design 1: every policy-relevant input is known at preview (a real preview leaves IDs/ARNs unknown).

``preview=True`` reproduces a preview of a create: outputs echo inputs and computed outputs are
unknown. Only the ARNs of new KMS keys (and the key id of the alias) may be unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from program_support import ok

from offline_preview.runner import UNKNOWN

ALLOWED_UNKNOWN = {
    ("aws:cloudtrail/trail:Trail", ".kmsKeyId"),
    ("aws:cloudwatch/logGroup:LogGroup", ".kmsKeyId"),
    ("aws:sns/topic:Topic", ".kmsMasterKeyId"),
    ("aws:kms/alias:Alias", ".targetKeyId"),
    ("aws:athena/workgroup:Workgroup",
     ".configuration.resultConfiguration.encryptionConfiguration.kmsKeyArn"),
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
     ".rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId"),
}


def _unknown_paths(value: Any, path: str = "") -> Iterator[str]:
    if value == UNKNOWN:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unknown_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unknown_paths(item, f"{path}[{i}]")


@pytest.mark.parametrize(("stack", "overrides"), [
    ("dev", {}), ("prod", {}),
    ("prod", {"trailSnsNotification": True, "insights": True, "dataEventS3Buckets": ["spawn-artifacts"],
              "organizationTrail": True, "organizationId": "o-a1b2c3d4e5"}),
], ids=["dev", "prod", "prod-every-option"])
def test_inputs_are_known_at_preview(stack: str, overrides: dict[str, Any]) -> None:
    run = ok(stack, overrides, preview=True)
    unknown = {(r.type, p) for r in run.resources for p in _unknown_paths(r.inputs)}
    assert unknown <= ALLOWED_UNKNOWN, unknown - ALLOWED_UNKNOWN
    if stack == "dev":
        assert unknown == set()
    # The preview really is a preview: computed outputs such as the trail's ARN are unknown.
    assert run.outputs["trailArn"] == UNKNOWN
