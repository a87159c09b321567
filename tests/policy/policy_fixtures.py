"""The compliant stack: the repository's own program, recorded once under the mock runtime.

The recording is the prod stack declaring hipaa, pci-dss and soc2 together, with the trail's log-delivery
notifications on (``trailSnsNotification``), previewed as ``pulumi preview`` would: it passes the pack
under its default config and under each shipped profile config without a single diagnostic. Every
negative test takes a fresh ``compliant_stack()`` and changes one thing, so the tests judge the stack the
program declares rather than a hand-built copy of it.

``compliant_stack()`` gives the recorded run's custom resources as ``policy_harness.R`` fixtures: names
are Pulumi logical names (``spawn-audit-trail-trail``), ``props`` the inputs the engine sends (values
unknown during preview, such as KMS key ARNs, hold the SDK's unknown sentinel), ``deps`` the property
dependencies by resource name, ``protect`` the resource option; the resources come in the preview
command's stable order. The constants below are read from the recording, not written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from policy_harness import R
from recorded import run_program  # shared by the tests of this process

from offline_preview.render import make_stable
from offline_preview.runner import ProgramRun

REPO = Path(__file__).resolve().parents[2]
STACK = "prod"
OVERRIDES = {"complianceProfiles": ["hipaa", "pci-dss", "soc2"], "trailSnsNotification": True}

TRAIL = "aws:cloudtrail/trail:Trail"

# Logical names in the program (components/): the stack name, then component and resource.
TRAIL_R = "spawn-audit-trail-trail"
KEY_R = "spawn-audit-kms-key"
ARCHIVE = "spawn-audit-archive-bucket"  # the bucket the trail writes to; its settings are ARCHIVE + "-..."
ACCESS_LOGS = "spawn-audit-archive-access-logs"  # the archive's server access-log bucket
LOG_GROUP_R = "spawn-audit-delivery-log-group"  # the trail's CloudWatch Logs group
DELIVERY = "spawn-audit-trail-delivery-topic"  # the trail's log-delivery notifications
ALERTS = "spawn-audit-alarms-topic"  # the alarms' topic
ALERTS_EMAIL = "spawn-audit-alarms-email-0"
RESULTS = "spawn-audit-analytics-results"  # the Athena results bucket
WORKGROUP = "spawn-audit-analytics-workgroup"


def archive(setting: str) -> str:
    """The name of one setting resource of the archive bucket: ``archive("lifecycle")``."""
    return f"{ARCHIVE}-{setting}"


def alarm(control: str) -> str:
    return f"spawn-audit-alarms-{control}-alarm"


def metric_filter(control: str) -> str:
    return f"spawn-audit-alarms-{control}-filter"


def records_as_fixtures(run: ProgramRun) -> list[R]:
    """The custom resources of a recorded program run as fixtures, in the preview command's stable order
    (registrations complete in an order that varies from run to run; program order does not, so neither
    does the order of diagnostics)."""
    assert run.error is None, run.error_traceback
    make_stable(run)
    names = {r.urn: r.name for r in run.resources}
    return [R(r.type, r.name, json.loads(json.dumps(r.inputs)),
              {key: [names[u] for u in urns] for key, urns in r.property_dependencies.items() if urns},
              r.protect)
            for r in run.resources if r.custom]


_recorded: list[tuple[str, str, str, dict[str, list[str]], bool]] = []


def _record() -> list[tuple[str, str, str, dict[str, list[str]], bool]]:
    if not _recorded:
        _recorded.extend((r.type, r.name, json.dumps(r.props), r.deps, r.protect)
                         for r in records_as_fixtures(run_program(REPO, STACK, overrides=OVERRIDES)))
    return _recorded


def compliant_stack() -> list[R]:
    """The recorded stack, a fresh copy for each call."""
    return [R(type_, name, json.loads(props), {k: list(v) for k, v in deps.items()}, protect)
            for type_, name, props, deps, protect in _record()]


def undeclared(stack: list[R]) -> list[R]:
    """``stack`` without the program's profile declaration: no resource carries the tag. Tests of what
    pack config alone enforces (sandbox, one profile) start here, since a declaration raises the bar."""
    for r in stack:
        tags = r.props.get("tags")
        if isinstance(tags, dict):
            assert tags.pop(DECLARATION_TAG, DECLARED_PROFILES) == DECLARED_PROFILES, r.name
    return stack


def find(resources: list[R], name: str) -> R:
    return next(r for r in resources if r.name == name)


def _props(name: str) -> dict:
    return next(json.loads(props) for _, n, props, _, _ in _record() if n == name)


def _statement(document: str, sid: str) -> dict:
    return next(s for s in json.loads(document)["Statement"] if s.get("Sid") == sid)


_TRAIL = _props(TRAIL_R)
ACCOUNT = _TRAIL["cloudWatchLogsRoleArn"].split(":")[4]
REGION = _TRAIL["cloudWatchLogsGroupArn"].split(":")[3]
BUCKET_NAME = _TRAIL["s3BucketName"]
TRAIL_ARN = _statement(_props(archive("policy"))["policy"], "AWSCloudTrailWrite")["Condition"][
    "StringEquals"]["aws:SourceArn"]
LOG_GROUP_NAME = _props(LOG_GROUP_R)["name"]
ALERT_TOPIC = _props(ALERTS)["name"]
AUDITOR_ARN = _statement(_props(archive("policy"))["policy"], "AllowAuditorRead")["Principal"]["AWS"][0]
DECLARATION_TAG = "spawn-audit:compliance-profiles"
DECLARED_PROFILES = " ".join(OVERRIDES["complianceProfiles"])  # its value on every tagged resource


def trail_props() -> dict:
    """The recorded trail's inputs (a fresh copy)."""
    return _props(TRAIL_R)


def bucket_policy(name: str = ARCHIVE) -> str:
    """The recorded bucket policy document of bucket ``name`` (JSON)."""
    return _props(f"{name}-policy")["policy"]
