"""The pack enforces its configured profiles (the floor) plus the profiles the stack declares with the
tag spawn-audit:compliance-profiles; every result names what it enforced and where that came from.

The baseline is the recorded program (``policy_fixtures``), which declares hipaa, pci-dss and soc2 on
every resource it tags; tests about what a declaration adds start from it without that declaration.
The last test breaks the recorded program's archive transition the way a hand edit of the program would
and sends the registrations through the Analyzer servicer with the HIPAA pack config alone; then does the
same to prod as it ships (``complianceProfiles: [hipaa]``), recorded as well.
"""

from __future__ import annotations

import json
from pathlib import Path

from audit_policies import declared, matrix
from policy_fixtures import (
    ARCHIVE,
    DECLARATION_TAG,
    KEY_R,
    TRAIL_R,
    archive,
    compliant_stack,
    find,
    records_as_fixtures,
    undeclared,
)
from policy_harness import R, configured
from recorded import run_program  # shared by the tests of this process

M = "mandatory"
TAG = declared.TAG_KEY
assert TAG == DECLARATION_TAG
HIPAA = json.loads((matrix.POLICY_DIR / "config" / "hipaa.json").read_text())
IMMEDIATE = "aws-s3-bucket-lifecycle-immediate-access"
REPO = Path(__file__).resolve().parents[2]


def glacier_at_day_30(stack: list[R]) -> list[R]:
    rule = find(stack, archive("lifecycle")).props["rules"][0]
    rule["transitions"] = [{"days": 30, "storageClass": "GLACIER"}]
    return stack


def tag(stack: list[R], name: str, value: str) -> list[R]:
    find(stack, name).props.setdefault("tags", {})[TAG] = value
    return stack


def test_hipaa_config_alone_allows_an_early_glacier_transition():
    # The control: without a declaration, the pci-dss window is not enforced under hipaa.json.
    result = configured(HIPAA).preview(glacier_at_day_30(undeclared(compliant_stack())))
    assert result.summary() == []
    assert "aws-s3-bucket-lifecycle-immediate-access" in result.not_applicable


def test_a_declared_profile_raises_the_bar():
    stack = tag(glacier_at_day_30(undeclared(compliant_stack())), ARCHIVE, "hipaa pci-dss")
    result = configured(HIPAA).preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(IMMEDIATE, M)]
    assert result.diagnostics[0].message == (
        "Move the GLACIER transition of lifecycle rule 'spawn-audit-log-retention' on bucket "
        "'spawn-audit-archive-bucket' to day 92 or later: the newest 92 days of logs must stay immediately "
        "available under pci-dss (PCI DSS 10.5.1); is day 30.")
    assert result.diagnostics[0].profiles == (
        f"hipaa (pack config and stack tag {TAG} on 'spawn-audit-archive-bucket'), "
        f"pci-dss (stack tag {TAG} on 'spawn-audit-archive-bucket').")


def test_a_declaration_on_a_resource_reaches_that_resources_own_policies():
    stack = tag(undeclared(compliant_stack()), TRAIL_R, "soc2")
    find(stack, TRAIL_R).props["enableLogFileValidation"] = False
    sandbox = json.loads((matrix.POLICY_DIR / "config" / "sandbox.json").read_text())
    names = [(d.policy, d.level) for d in configured(sandbox).preview(stack).diagnostics]
    assert ("aws-cloudtrail-trail-log-file-validation", M) in names


def test_a_stack_cannot_lower_the_floor():
    stack = compliant_stack()
    for r in stack:
        if "tags" in r.props or r.type.endswith(("Bucket", "Trail", "Key", "LogGroup", "Topic")):
            tag(stack, r.name, "sandbox")
    find(stack, archive("lifecycle")).props["rules"][0]["expiration"] = {"days": 30}
    result = configured(HIPAA).preview(stack)
    retention = result.of("aws-s3-bucket-lifecycle-retention")
    assert [d.level for d in retention] == [M]
    assert retention[0].profiles == "hipaa (pack config)."


def test_an_unknown_declared_profile_is_a_violation_naming_the_tag():
    result = configured(HIPAA).preview(tag(compliant_stack(), ARCHIVE, "hipaa gdpr"))
    found = result.of("aws-s3-bucket-lifecycle-retention")
    assert [d.level for d in found] == [M]
    assert found[0].message == (
        f"Invalid stack declaration for aws-s3-bucket-lifecycle-retention: tag {TAG} of resource "
        f"'spawn-audit-archive-bucket' declares unknown profile \"gdpr\"; allowed: hipaa, pci-dss, soc2 or "
        "sandbox.")


def test_every_profile_aware_result_names_its_profiles():
    stack = undeclared(compliant_stack())
    find(stack, TRAIL_R).props["enableLogFileValidation"] = False
    result = configured(HIPAA).preview(stack)
    assert result.diagnostics
    for d in result.diagnostics:
        assert d.profiles == "hipaa (pack config).", d


def test_prod_declaring_pci_dss_fails_a_pci_breaking_transition_under_hipaa_config():
    stack = compliant_stack()  # prod declaring hipaa, pci-dss and soc2
    lifecycle = find(stack, archive("lifecycle"))
    assert lifecycle.props["rules"][0]["transitions"] == [{"days": 92, "storageClass": "GLACIER"}]
    assert configured(HIPAA).preview(stack).of(IMMEDIATE) == []  # the program itself complies

    # A hand edit of the program (the program's own validation refuses this in config).
    glacier_at_day_30(stack)
    result = configured(HIPAA).preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [(IMMEDIATE, M)]
    finding = result.of(IMMEDIATE)[0]
    assert "to day 92 or later" in finding.message and "under pci-dss (PCI DSS 10.5.1); is day 30" in \
        finding.message
    # The program tags every resource it can; a stack policy names the first declaration in stack order
    # (the KMS key's).
    assert finding.profiles == (
        f"hipaa (pack config and stack tag {TAG} on '{KEY_R}'), pci-dss (stack tag {TAG} on '{KEY_R}'), "
        f"soc2 (stack tag {TAG} on '{KEY_R}').")

    # The same edit on prod as it is (complianceProfiles: [hipaa]) is not a pci-dss violation.
    hipaa_only = records_as_fixtures(run_program(REPO, "prod", preview=True))
    glacier_at_day_30(hipaa_only)
    assert configured(HIPAA).preview(hipaa_only).of(IMMEDIATE) == []
