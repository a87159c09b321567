"""The access rules on a second, independently written program (``fixtures/policy_shapes``).

The program writes its policies differently from spawn-audit's (split TLS deny, ``aws:SourceAccount``
instead of ``aws:SourceArn``, a separate ``aws.kms.KeyPolicy``, AWS's console-default decrypt statement,
``s3:GetObject*`` with ``ArnNotEquals``, an inline topic policy, a trail naming its key by alias), and
passes the pack under the pci-dss config as written. Each named variant changes one thing: a weakened
grant is a mandatory violation of exactly the rule that judges it, with the fix in the message; a grant
that a deny removes (Deny over Allow) still passes. Every preview is the command's own ``main`` run in
the test's process with the real pack served in-process (``run_cli_in_process``): the policies'
outcome is under test here, not the process or the gRPC transport.
"""

from __future__ import annotations

import subprocess

import pytest
from preview_helpers import FIXTURES, REPO, run_cli_in_process
from test_preview_mandatory_catches import _shown, mandatory_policies, violations

SHAPES = FIXTURES / "policy_shapes"
PCI_CONFIG = REPO / "policy" / "config" / "pci-dss.json"

FAILING = {
    "tls-objects-spare-the-account": (
        "aws-s3-bucket-tls-only",
        "Add to the bucket policy of bucket 'shapes-logs' a statement with Effect Deny"),
    "organization-may-delete": (
        "aws-s3-bucket-policy-no-outside-access",
        "delete (s3:DeleteObject, s3:DeleteObjectVersion: every principal of organization o-shapesexample, "
        "through statement 'OrgDelete')"),
    "key-decrypt-for-everyone": (
        "aws-kms-key-policy-no-outside-access",
        "use (kms:Decrypt, kms:ReEncryptFrom: every principal (*), through statement 'DecryptLogFiles')"),
    "reads-for-every-role": (
        "aws-s3-bucket-reads-limited-to-auditors",
        "now also readable by: s3:GetObject, s3:GetObjectVersion: arn:aws:iam::123456789012:role/*"),
    "topic-subscribe-for-another-account": (
        "aws-sns-topic-policy-no-outside-access",
        "subscribe to (sns:Subscribe: principals of account 999988887777, "
        "through statement 'OtherSubscribe')"),
}
PASSING = ("organization-read-is-denied",)


@pytest.fixture(scope="module")
def results() -> dict[str | None, subprocess.CompletedProcess[str]]:
    def run(variant: str | None) -> subprocess.CompletedProcess[str]:
        args = ["preview", "--stack", "test", "--cwd", str(SHAPES), "--policy-pack", str(REPO / "policy"),
                "--policy-pack-config", str(PCI_CONFIG)]
        if variant:
            args += ["--config-path", "--config", f"variants[0]={variant}"]
        return run_cli_in_process(*args)

    return {key: run(key) for key in [None, *PASSING, *FAILING]}


@pytest.mark.parametrize("variant", [None, *PASSING])
def test_compliant_shapes_pass(results, variant):
    result = results[variant]
    assert result.returncode == 0, _shown(result)
    assert mandatory_policies(result) == set(), _shown(result)


@pytest.mark.parametrize("variant", sorted(FAILING))
def test_weakened_grant_is_caught(results, variant):
    policy, fix = FAILING[variant]
    result = results[variant]
    assert result.returncode == 1, _shown(result)
    assert mandatory_policies(result) == {policy}, _shown(result)
    assert any(fix in v.text for v in violations(result.stdout) if v.policy == policy), _shown(result)
