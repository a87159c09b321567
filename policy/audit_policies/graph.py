"""Finding a trail's companions in a stack: its bucket, the bucket's configuration, its log group, topics.

Stack policies never guess by name pattern. They follow the trail's inputs:

* a trail's ``s3BucketName`` property dependency is the log bucket (through a BucketPolicy or other
  companion whose ``bucket`` input depends on the bucket, e.g. ``s3_bucket_name=policy.bucket``,
  which programs use to order the policy before the trail); when the name is known, a bucket whose
  ``bucket`` input equals it matches too;
* a companion configuration resource (public access block, encryption, versioning, ...) belongs to a
  bucket when its ``bucket`` input depends on that bucket resource or equals its known name;
* a trail's ``cloudWatchLogsGroupArn`` dependency (or a known ARN naming the group) is its log group;
  a metric filter belongs to a log group through ``logGroupName``;
* an alarm acts on an SNS topic through ``alarmActions``; a subscription belongs to a topic through
  ``topic``.

Both the current resource types and the deprecated ``*V2`` forms are understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from audit_policies import declared
from audit_policies.props import Unknown, is_unknown, plain

TRAIL = "aws:cloudtrail/trail:Trail"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
BUCKETS = (BUCKET, BUCKET_V2)
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
OWNERSHIP = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)
ACL = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
COMPANIONS = PUBLIC_ACCESS_BLOCK + ENCRYPTION + VERSIONING + LIFECYCLE + LOGGING + POLICY + OWNERSHIP \
    + OBJECT_LOCK + ACL
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
SUBSCRIPTION_FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

T = TypeVar("T")

# arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]
_LOG_GROUP_ARN = re.compile(r"^arn:[a-z-]+:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$")


@dataclass(eq=False)
class Node:
    """One stack resource with plain (proxy-free) properties and dependencies by URN.

    Nodes compare by identity (a graph holds one node per URN): ``node in found`` must not compare
    every field of every node, which made a stack of thousands of resources cost more per resource.
    """

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)

    def known(self, key: str) -> str | None:
        """A string property when set and known, else None."""
        value = self.props.get(key)
        return value if isinstance(value, str) and value else None

    def label(self) -> str:
        return f"'{self.name}'"


def known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def log_group_name_from_arn(arn: str | None) -> str | None:
    match = _LOG_GROUP_ARN.match(arn or "")
    return match.group(1) if match else None


class Graph:
    """The stack's resources, indexed for following the trail's inputs."""

    def __init__(self, resources: Iterable[Any]) -> None:
        self.nodes: list[Node] = []
        for r in resources:
            deps = {k: [d.urn for d in v] for k, v in (r.property_dependencies or {}).items()}
            self.nodes.append(Node(r.resource_type, r.name, r.urn, plain(r.props) or {}, deps))
        self.by_urn = {n.urn: n for n in self.nodes}
        self._position = {n.urn: i for i, n in enumerate(self.nodes)}
        self._order = {n: i for i, n in enumerate(self.nodes)}  # by identity, as nodes compare
        # Indexes built once, so that following a reference costs a lookup, not a scan of the stack
        # (a stack of thousands of resources is evaluated in linear time).
        self._by_type: dict[str, list[Node]] = {}
        for n in self.nodes:
            self._by_type.setdefault(n.type, []).append(n)
        self._named: dict[tuple[str, str], list[Node]] = {}
        for n in self.nodes:
            if n.type in BUCKETS and n.known("bucket"):
                self._named.setdefault(("bucket", n.known("bucket")), []).append(n)
            elif n.type == LOG_GROUP and n.known("name"):
                self._named.setdefault(("log-group", n.known("name")), []).append(n)
            elif n.type == TOPIC:
                for key in {n.known("arn"), n.known("name")} - {None}:
                    self._named.setdefault(("topic", key), []).append(n)
        self._referrers: dict[tuple[str, str], list[Node]] = {}
        for n in self.nodes:
            for prop in ("bucket", "logGroupName", "logGroup", "topic"):
                for key in self._reference_keys(n, prop):
                    self._referrers.setdefault((prop, key), []).append(n)
        self._declared: declared.Declared | None = None
        self._memo: dict[str, Any] = {}

    def declared(self) -> declared.Declared:
        """The profiles the stack declares on its resources (the same for every stack policy)."""
        if self._declared is None:
            self._declared = declared.from_resources((n.name, n.props) for n in self.nodes)
        return self._declared

    @staticmethod
    def _reference_keys(node: Node, prop: str) -> set[str]:
        """What ``node``'s ``prop`` input refers to: URNs it depends on and its known value."""
        keys = set(node.property_dependencies.get(prop, []))
        value = known_str(node.props.get(prop))
        if value:
            keys.add(value)
            if prop == "topic" and value.startswith("arn:"):
                keys.add("name:" + value.split(":")[-1])
        return keys

    def _referring(self, prop: str, node: Node, value: str | None, types: Iterable[str]) -> list[Node]:
        """Nodes of ``types`` whose ``prop`` input depends on ``node`` or equals ``value``."""
        wanted = set(types)
        found: dict[str, Node] = {}
        for key in (node.urn, value):
            for referrer in self._referrers.get((prop, key), []) if key else []:
                if referrer.type in wanted:
                    found.setdefault(referrer.urn, referrer)
        return sorted(found.values(), key=lambda n: self._position[n.urn])

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, once per graph: an index over the whole stack that several policies (which share
        one graph per request) or several loops would otherwise rebuild. The value must not be changed."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def of_type(self, *types: str) -> list[Node]:
        """The nodes of ``types``, in stack order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], []))
        found = [n for t in dict.fromkeys(types) for n in self._by_type.get(t, [])]
        return sorted(found, key=self._order.__getitem__)

    def buckets_named(self, name: str | None) -> list[Node]:
        """The buckets (current and ``*V2``) whose known ``bucket`` input is ``name``, in stack order."""
        return list(self._named.get(("bucket", name), [])) if name else []

    def position(self, node: Node) -> int:
        """Where ``node`` sits in the stack (its index in the request)."""
        return self._order[node]

    def deps(self, node: Node, prop: str) -> list[Node]:
        return [self.by_urn[u] for u in node.property_dependencies.get(prop, []) if u in self.by_urn]

    # --- the trail's bucket ----------------------------------------------------------------------

    def _buckets_behind(self, node: Node, depth: int = 0) -> list[Node]:
        if node.type in BUCKETS:
            return [node]
        if depth >= 3:
            return []
        found: list[Node] = []
        for dep in self.deps(node, "bucket"):
            found.extend(self._buckets_behind(dep, depth + 1))
        return found

    def trail_buckets(self) -> list[tuple[Node, list[Node]]]:
        """Each bucket some trail writes to, with the trails writing to it (stack order)."""
        result: dict[str, tuple[Node, list[Node]]] = {}
        for trail in self.of_type(TRAIL):
            matched: list[Node] = []
            for dep in self.deps(trail, "s3BucketName"):
                matched.extend(self._buckets_behind(dep))
            name = known_str(trail.props.get("s3BucketName"))
            if name:
                matched.extend(self._named.get(("bucket", name), []))
            for bucket in matched:
                entry = result.setdefault(bucket.urn, (bucket, []))
                if trail not in entry[1]:
                    entry[1].append(trail)
        return list(result.values())

    def companions(self, bucket: Node, types: tuple[str, ...]) -> list[Node]:
        """Configuration resources of ``types`` whose ``bucket`` input is ``bucket``."""
        return self._referring("bucket", bucket, bucket.known("bucket"), types)

    # --- the trail's log group ---------------------------------------------------------------------

    def trail_log_groups(self) -> list[tuple[Node, list[Node]]]:
        """Each log group some trail delivers to, with those trails."""
        result: dict[str, tuple[Node, list[Node]]] = {}
        for trail in self.of_type(TRAIL):
            matched = [d for d in self.deps(trail, "cloudWatchLogsGroupArn") if d.type == LOG_GROUP]
            name = log_group_name_from_arn(known_str(trail.props.get("cloudWatchLogsGroupArn")))
            if name:
                matched.extend(self._named.get(("log-group", name), []))
            for group in matched:
                entry = result.setdefault(group.urn, (group, []))
                if trail not in entry[1]:
                    entry[1].append(trail)
        return list(result.values())

    def metric_filters(self, group: Node) -> list[Node]:
        return self._referring("logGroupName", group, group.known("name"), (METRIC_FILTER,))

    def subscription_filters(self, group: Node) -> list[Node]:
        return self._referring("logGroup", group, group.known("name"), (SUBSCRIPTION_FILTER,))

    # --- topics ------------------------------------------------------------------------------------

    def topics_referenced(self, node: Node, prop: str, identity: tuple[str, str, str] | None = None
                          ) -> tuple[list[Node], list[Node], Unknown | None]:
        """Topics a list-of-ARNs property names by full ARN, topics it may name, and the first unknown.

        A known ARN names a topic of this stack only when it equals the topic's full ARN: its known
        ``arn``, or, while that is unknown (preview), ``arn:<partition>:sns:<region>:<account>:<name>``
        built from ``identity`` (partition, region, account of the stack). A same-named topic in another
        account or region is not this stack's topic. Without ``identity`` a same-named topic whose ARN is
        unknown is only "maybe", as is a topic an unknown element depends on.
        """
        value = node.props.get(prop)
        deps = [d for d in self.deps(node, prop) if d.type == TOPIC]
        if is_unknown(value):
            return [], deps, value
        values = value if isinstance(value, list) else [] if value is None else [value]
        unknown = next((v for v in values if is_unknown(v)), None)
        exact: list[Node] = []
        maybe: list[Node] = []
        for arn in (known_str(v) for v in values):
            if not arn:
                continue
            candidates = (self._named.get(("topic", arn), [])
                          + self._named.get(("topic", arn.split(":")[-1]), []))
            for topic in {t.urn: t for t in candidates}.values():
                verdict = _topic_matches(topic, arn, identity)
                if verdict is True and topic not in exact:
                    exact.append(topic)
                elif verdict is None and topic not in maybe:
                    maybe.append(topic)
        if unknown is not None:
            maybe.extend(d for d in deps if d not in exact and d not in maybe)
        return exact, [t for t in maybe if t not in exact], unknown

    def subscriptions(self, topic: Node) -> list[Node]:
        found = self._referring("topic", topic, topic.known("arn"), (SUBSCRIPTION,))
        name = topic.known("name")
        if name:
            # A subscription may name the topic by an ARN the program built from the topic's name.
            found.extend(s for s in self._referring("topic", topic, "name:" + name, (SUBSCRIPTION,))
                         if s not in found)
        return found


def _topic_matches(topic: Node, arn: str, identity: tuple[str, str, str] | None) -> bool | None:
    """True when ``arn`` is the topic's full ARN, False when it is not, None when that is unknown."""
    own = topic.props.get("arn")
    if known_str(own):
        return own == arn
    name = topic.known("name")
    if name is None or arn.split(":")[-1] != name or not arn.startswith("arn:"):
        return False
    if identity is None:
        return None
    partition, region, account = identity
    region = topic.known("region") or region
    return arn == f"arn:{partition}:sns:{region}:{account}:{name}"


def arn_identity(arn: str | None) -> tuple[str, str, str] | None:
    """(partition, region, account) of a regional ARN, or None."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3] or not parts[4]:
        return None
    return parts[1], parts[3], parts[4]
