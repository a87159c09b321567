"""Saved CloudWatch Logs Insights queries for investigating what the alarms report.

Serves PCI DSS v4.0.1 10.4.1 and HIPAA 45 CFR 164.308(a)(1)(ii)(D) (log review) and SOC 2 CC7.3
(evaluation of security events): spawn's three documented queries, one query per alarm, and one that
correlates spawn's application audit log (``correlation_id``) with CloudTrail (``requestID``).

spawn's docs' queries test ``requestParameters.tagSpecificationSet.items.0.tags.0.key``, i.e. only
the first tag of the first tag specification; these queries look for the tag anywhere in the
request. The docs' cost query (``fields ..., count(*) as launch_count``) is not valid Logs Insights
syntax (aggregates belong in ``stats``). The per-alarm queries are translated mechanically from the
alarm's own filter pattern so that a query shows exactly the events its alarm counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.compliance import monitoring

MANAGED_TAG_REGEX = r'/"key"\s*:\s*"spawn:managed"/'

_TOKEN = re.compile(r"""
    \s*(?:
        (?P<lp>\() | (?P<rp>\)) | (?P<and>&&) | (?P<or>\|\|)
      | \$\.(?P<sel>[A-Za-z0-9_.\[\]-]+)\s*
        (?: (?P<notexists>NOT\s+EXISTS) | (?P<op>!=|=)\s*(?P<val>"(?:[^"\\]|\\.)*"|[^\s()&|]+) )
    )""", re.VERBOSE)


def insights_filter(pattern: str) -> str:
    """Translate a CloudWatch Logs JSON filter pattern into a Logs Insights ``filter`` expression.

    Handles what the monitoring table uses: ``$.a.b[0].c`` selectors, ``=``/``!=`` with quoted or
    bare values, ``*`` wildcards, ``NOT EXISTS``, ``&&``, ``||`` and parentheses. ``&&`` binds more
    tightly than ``||`` in both languages, so the structure carries over unchanged.
    """
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern!r}")
    body = body[1:-1].strip()
    out: list[str] = []
    position = 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot translate filter pattern at {body[position:]!r}")
        position = match.end()
        if match["lp"] or match["rp"]:
            out.append(match["lp"] or match["rp"])
        elif match["and"] or match["or"]:
            out.append(" and " if match["and"] else " or ")
        else:
            field = re.sub(r"\[(\d+)\]", r".\1", match["sel"])
            if match["notexists"]:
                out.append(f"not ispresent({field})")
                continue
            value = match["val"]
            if value.startswith('"'):
                value = value[1:-1]
            negate = match["op"] == "!="
            if "*" in value:
                regex = ".*".join(re.escape(part) for part in value.split("*")).replace("/", r"\/")
                out.append(f"{field} {'not like' if negate else 'like'} /^{regex}$/")
            else:
                out.append(f'{field} {"!=" if negate else "="} "{value}"')
    return "".join(out).strip()


def _lines(*lines: str) -> str:
    return "\n".join(lines)


def documented_queries() -> dict[str, str]:
    """spawn's docs' three queries, robust to the tag's position."""
    return {
        "spawn-operations": _lines(
            "fields @timestamp, userIdentity.arn, eventName, requestParameters.instanceType, "
            "responseElements.instancesSet.items.0.instanceId",
            '| filter eventSource = "ec2.amazonaws.com"',
            '| filter eventName in ["RunInstances", "TerminateInstances"]',
            # A termination request carries no tags; the docs' tag filter silently dropped them all.
            f'| filter eventName = "TerminateInstances" or @message like {MANAGED_TAG_REGEX}',
            "| sort @timestamp desc",
            "| limit 100",
        ),
        "iam-role-operations": _lines(
            "fields @timestamp, userIdentity.arn, eventName, requestParameters.roleName, "
            "requestParameters.policyName, requestParameters.policyArn",
            '| filter eventSource = "iam.amazonaws.com"',
            "| filter eventName in [" + ", ".join(f'"{e}"' for e in monitoring.SPAWN_ROLE_EVENTS) + "]",
            # Same scope as the spawn-iam-role-change alarm (roleName = "spawn-*").
            "| filter requestParameters.roleName like /^spawn-/",
            "| sort @timestamp desc",
            "| limit 100",
        ),
        "launches-by-instance-type-and-user": _lines(
            'filter eventSource = "ec2.amazonaws.com" and eventName = "RunInstances"',
            f"| filter @message like {MANAGED_TAG_REGEX}",
            "| stats count(*) as launch_count by requestParameters.instanceType, userIdentity.arn",
            "| sort launch_count desc",
        ),
    }


def alarm_query(control: monitoring.MonitoringControl) -> str:
    """The events behind one alarm."""
    if control.key == "spawn-unmanaged-launch":
        condition = (f'eventSource = "ec2.amazonaws.com" and eventName = "RunInstances" '
                     f"and @message not like {MANAGED_TAG_REGEX}")
    else:
        condition = insights_filter(control.filter_pattern)
    return _lines(
        "fields @timestamp, eventSource, eventName, userIdentity.arn, sourceIPAddress, errorCode",
        f"| filter {condition}",
        "| sort @timestamp desc",
        "| limit 200",
    )


CORRELATION_QUERY = _lines(
    "fields @timestamp, @log, coalesce(correlation_id, requestID) as link_id",
    "| filter ispresent(link_id)",
    "| stats count(*) as records, count_distinct(@log) as log_groups, earliest(@timestamp) as first_seen, "
    "latest(@timestamp) as last_seen by link_id",
    # Only ids seen in both spawn's application log and CloudTrail.
    "| filter log_groups > 1",
    "| sort last_seen desc",
    "| limit 100",
)


@dataclass(frozen=True)
class SavedQueriesArgs:
    folder: str  # query names are "<folder>/<query>"
    trail_log_group_name: pulumi.Input[str]
    app_log_group_name: pulumi.Input[str] | None
    controls: tuple[monitoring.MonitoringControl, ...]


class SavedQueries(pulumi.ComponentResource):
    """``aws.cloudwatch.QueryDefinition`` for every query above."""

    def __init__(self, name: str, args: SavedQueriesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("spawn-audit:queries:SavedQueries", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        queries = dict(documented_queries())
        queries.update({f"alarm-{c.key}": alarm_query(c) for c in args.controls})
        for key, text in queries.items():
            aws.cloudwatch.QueryDefinition(
                f"{name}-{key}",
                name=f"{args.folder}/{key}",
                log_group_names=[args.trail_log_group_name],
                query_string=text,
                opts=child,
            )
        if args.app_log_group_name is not None:
            aws.cloudwatch.QueryDefinition(
                f"{name}-correlate-app-and-cloudtrail",
                name=f"{args.folder}/correlate-app-and-cloudtrail",
                log_group_names=[args.app_log_group_name, args.trail_log_group_name],
                query_string=CORRELATION_QUERY,
                opts=child,
            )
        self.register_outputs({})
