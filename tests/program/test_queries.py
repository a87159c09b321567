"""Saved Logs Insights queries: spawn's three (tag-position robust), one per alarm, and the correlation."""

from __future__ import annotations

import pytest
from program_support import ok
from spawn_compliance import monitoring

from offline_preview.runner import ProgramRun

QUERY = "aws:cloudwatch/queryDefinition:QueryDefinition"


def _queries(run: ProgramRun) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in run.by_type(QUERY)}


def test_query_set(prod: ProgramRun) -> None:
    assert set(_queries(prod)) == {
        "spawn-audit/spawn-operations", "spawn-audit/iam-role-operations",
        "spawn-audit/launches-by-instance-type-and-user", "spawn-audit/correlate-app-and-cloudtrail",
        *(f"spawn-audit/alarm-{c.key}" for c in monitoring.ALL_CONTROLS),
    }


def test_documented_queries_find_the_tag_at_any_position(prod: ProgramRun) -> None:
    queries = _queries(prod)
    for name in ("spawn-operations", "launches-by-instance-type-and-user"):
        text = queries[f"spawn-audit/{name}"]["queryString"]
        assert "tags.0" not in text
        assert '@message like /"key"\\s*:\\s*"spawn:managed"/' in text
        assert queries[f"spawn-audit/{name}"]["logGroupNames"] == ["/aws/cloudtrail/spawn"]
    launches = queries["spawn-audit/launches-by-instance-type-and-user"]["queryString"]
    # Aggregation belongs in stats (the docs' "fields ..., count(*)" is not valid Logs Insights).
    assert "| stats count(*) as launch_count by requestParameters.instanceType, userIdentity.arn" in launches
    roles = queries["spawn-audit/iam-role-operations"]["queryString"]
    for event in ("CreateRole", "PutRolePolicy", "AttachRolePolicy", "DeleteRolePolicy", "DetachRolePolicy",
                  "UpdateAssumeRolePolicy"):
        assert f'"{event}"' in roles
        assert f'"{event}"' in next(c for c in monitoring.SPAWN_CONTROLS
                                    if c.key == "spawn-iam-role-change").filter_pattern
    assert "roleName like /^spawn-/" in roles


@pytest.mark.parametrize(("key", "expected"), [
    ("root-account-usage",
     '| filter userIdentity.type = "Root" and not ispresent(userIdentity.invokedBy) and '
     'eventType != "AwsServiceEvent"'),
    ("console-authentication-failures",
     '| filter (eventName = "ConsoleLogin") and (errorMessage = "Failed authentication")'),
    ("unauthorized-api-calls",
     '| filter (errorCode like /^.*UnauthorizedOperation$/) or (errorCode like /^AccessDenied.*$/) and '
     '(sourceIPAddress != "delivery.logs.amazonaws.com") and (eventName != "HeadBucket")'),
    ("spawn-unmanaged-launch",
     '| filter eventSource = "ec2.amazonaws.com" and eventName = "RunInstances" and '
     '@message not like /"key"\\s*:\\s*"spawn:managed"/'),
])
def test_alarm_queries_select_what_the_alarm_counts(prod: ProgramRun, key: str, expected: str) -> None:
    text = _queries(prod)[f"spawn-audit/alarm-{key}"]["queryString"]
    assert text.splitlines()[1] == expected


def test_every_alarm_query_is_a_translation_without_filter_pattern_syntax(prod: ProgramRun) -> None:
    for control in monitoring.ALL_CONTROLS:
        query = _queries(prod)[f"spawn-audit/alarm-{control.key}"]
        assert query["logGroupNames"] == ["/aws/cloudtrail/spawn"]
        text = query["queryString"]
        assert "$." not in text and "&&" not in text and "||" not in text and "{" not in text, control.key


def test_correlation_query_spans_both_log_groups(prod: ProgramRun) -> None:
    query = _queries(prod)["spawn-audit/correlate-app-and-cloudtrail"]
    assert query["logGroupNames"] == ["/spawn/audit", "/aws/cloudtrail/spawn"]
    assert "coalesce(correlation_id, requestID) as link_id" in query["queryString"]
    assert "| filter log_groups > 1" in query["queryString"]
    without_app_log = _queries(ok("prod", {"appAuditLogGroup": False}))
    assert "spawn-audit/correlate-app-and-cloudtrail" not in without_app_log
