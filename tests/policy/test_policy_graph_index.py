"""The stack indexes the stack policies look resources up in give what scanning the stack gave.

Each lookup below is compared with the scan it replaced (written out here), on a small stack whose
resources of several types are interleaved, so that stack order, each way of matching and the
resources that must not match are all exercised.
"""

from __future__ import annotations

from types import SimpleNamespace

from audit_policies import access, cloudwatch
from audit_policies.graph import BUCKET, BUCKET_V2, METRIC_ALARM, TOPIC, Graph, known_str
from audit_policies.props import Unknown


def _resource(type_: str, name: str, props: dict, deps: dict[str, list[str]] | None = None):
    return SimpleNamespace(resource_type=type_, name=name, urn=_urn(type_, name), props=props,
                           property_dependencies={k: [SimpleNamespace(urn=u) for u in v]
                                                  for k, v in (deps or {}).items()})


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:s::p::{type_}::{name}"


def test_of_type_with_several_types_keeps_stack_order():
    g = Graph([_resource(BUCKET, "a", {}), _resource(TOPIC, "t", {}), _resource(BUCKET_V2, "b", {}),
               _resource(BUCKET, "c", {})])
    assert [n.name for n in g.of_type(BUCKET, BUCKET_V2)] == ["a", "b", "c"]
    assert [n.name for n in g.of_type(BUCKET_V2, BUCKET)] == ["a", "b", "c"]
    assert [n.name for n in g.of_type(BUCKET, BUCKET)] == ["a", "c"]


def test_nodes_compare_by_identity():
    g = Graph([_resource(BUCKET, "a", {"bucket": "x"}), _resource(BUCKET, "a", {"bucket": "x"})])
    first, second = g.nodes
    assert first != second and first == first
    assert len({first, second}) == 2


def test_buckets_named_is_the_scan_for_a_known_name():
    g = Graph([_resource(BUCKET, "a", {"bucket": "logs"}), _resource(BUCKET_V2, "b", {"bucket": "logs"}),
               _resource(BUCKET, "c", {"bucket": "other"}), _resource(BUCKET, "d", {})])
    for name in ("logs", "other", "absent", None, ""):
        scan = [n for n in g.of_type(BUCKET, BUCKET_V2) if n.known("bucket") and n.known("bucket") == name]
        assert g.buckets_named(name) == scan


def test_topic_documents_match_by_dependency_arn_and_name_in_stack_order():
    topic_urn = _urn(TOPIC, "alarms")
    arn = "arn:aws:sns:us-east-1:111122223333:alarms"
    g = Graph([
        _resource(access.TOPIC_POLICY, "by-name", {"arn": "arn:aws:sns:eu-west-1:111122223333:alarms",
                                                    "policy": "{}"}),
        _resource(TOPIC, "alarms", {"name": "alarms", "arn": arn}),
        _resource(access.TOPIC_POLICY, "by-dependency", {"arn": Unknown("u", ("arn",)), "policy": "{}"},
                  {"arn": [topic_urn]}),
        _resource(access.TOPIC_POLICY, "other", {"arn": "arn:aws:sns:us-east-1:111122223333:other",
                                                  "policy": "{}"}),
        _resource(access.TOPIC_POLICY, "by-arn-and-dependency", {"arn": arn, "policy": "{}"},
                  {"arn": [topic_urn]}),
        _resource(access.TOPIC_POLICY, "bare-name", {"arn": "alarms", "policy": "{}"}),
    ])
    topic = g.by_urn[topic_urn]
    found = [urn.rsplit("::", 1)[1] for _, urn, _ in access.topic_documents(g, topic)]
    # The scan it replaced: every topic policy, in stack order, depending on the topic or naming it.
    name = topic.known("name")
    scan = []
    for node in g.of_type(access.TOPIC_POLICY):
        value = known_str(node.props.get("arn"))
        if topic.urn in node.property_dependencies.get("arn", []) or (value and (
                value == arn or (name and value.startswith("arn:") and value.split(":")[-1] == name))):
            scan.append(node.name)
    assert found == scan == ["by-name", "by-dependency", "by-arn-and-dependency"]


def test_trail_keys_by_arn_key_id_and_alias():
    trail = "aws:cloudtrail/trail:Trail"
    key_arn = "arn:aws:kms:us-east-1:111122223333:key/k2"
    g = Graph([
        _resource(access.KEY, "k1", {"arn": "arn:aws:kms:us-east-1:111122223333:key/k1", "keyId": "k1"}),
        _resource(access.KEY, "k2", {"arn": key_arn, "keyId": "k2"}),
        _resource(access.KEY, "k3", {"keyId": "k3"}),
        _resource(access.ALIAS, "a3", {"name": "alias/three"}, {"targetKeyId": [_urn(access.KEY, "k3")]}),
        _resource(trail, "by-alias", {"kmsKeyId": "arn:aws:kms:us-east-1:111122223333:alias/three"}),
        _resource(trail, "by-arn", {"kmsKeyId": key_arn}),
        _resource(trail, "by-id", {"kmsKeyId": "k1"}),
        _resource(trail, "by-arn-again", {"kmsKeyId": key_arn}),
        _resource(trail, "unknown-key", {"kmsKeyId": "alias/absent"}),
    ])
    assert [k.name for k in access.trail_keys(g)] == ["k3", "k2", "k1"]


def _alarm(name: str, props: dict):
    return _resource(METRIC_ALARM, name, props)


def test_alarms_watching_a_metric_are_those_the_scan_would_not_skip():
    g = Graph([
        _alarm("direct", {"metricName": "M", "namespace": "N"}),
        _alarm("other-metric", {"metricName": "X", "namespace": "N"}),
        _alarm("unknown-name", {"metricName": Unknown("u", ("metricName",)), "namespace": "N"}),
        _alarm("through-query", {"metricQueries": [
            {"id": "m", "returnData": True, "metric": {"metricName": "M", "namespace": "N"}}]}),
        _alarm("unknown-queries", {"metricQueries": Unknown("u", ("metricQueries",))}),
        _alarm("list-name", {"metricName": ["M"], "namespace": "N"}),
    ])
    alarms = cloudwatch._Alarms(g)
    for name, namespace in (("M", "N"), ("X", "N"), ("absent", "N"), (["M"], "N")):
        # The scan: every alarm for which _alarm_uses is not plainly False, in stack order.
        scan = [a.name for a in alarms.all if cloudwatch._alarm_uses(a, name, namespace) is not False]
        watching = [a.name for a in alarms.watching(name, namespace)]
        assert [n for n in watching if n in scan] == scan
        assert all(cloudwatch._alarm_uses(a, name, namespace) is False
                   for a in alarms.watching(name, namespace) if a.name not in scan)
    assert [a.name for a in alarms.watching("M", "N")] == [
        "direct", "unknown-name", "through-query", "unknown-queries", "list-name"]
    assert [a.name for a in alarms.watching(["M"], "N")] == [a.name for a in alarms.all]
