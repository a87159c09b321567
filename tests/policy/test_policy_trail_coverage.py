"""Coverage is judged over the stack's set of trails; integrity over every trail.

A second, specialised trail (one region, data events only) or management events split over two
selectors or two trails comply as long as some multi-region trail records every read and every write
management event from every source; each trail must still validate its log files and log. All through
the SDK's Analyzer servicer, from the compliant baseline, one change at a time.
"""

from __future__ import annotations

import copy

from policy_fixtures import ARCHIVE, BUCKET_NAME, KEY_R, TRAIL, TRAIL_R, compliant_stack, find, trail_props
from policy_harness import Pack, R, engine_config

M = "mandatory"
MGMT = "aws-cloudtrail-trail-management-events"
CLAUSES = ("(Security Hub CloudTrail.1, CIS 3.1, 45 CFR 164.312(b), PCI DSS 10.2.1, PCI DSS 10.2.1.2, "
           "SOC 2 CC7.2)")


def preview(stack: list[R]):
    return Pack().configure(engine_config()).preview(stack)


def second_trail(**changes) -> R:
    """A complete, intact trail of its own (same bucket, own name), changed by ``changes``."""
    props = copy.deepcopy(trail_props())
    props["name"] = "spawn-data-events"
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return R(TRAIL, "data-trail", props, {"s3BucketName": [ARCHIVE], "kmsKeyId": [KEY_R]}, protect=True)


def selectors(*read_only: str) -> list[dict]:
    """Advanced selectors on management events, one per readOnly value ("" = no readOnly field)."""
    result = []
    for value in read_only:
        fields = [{"field": "eventCategory", "equals": ["Management"]}]
        if value:
            fields.append({"field": "readOnly", "equals": [value]})
        result.append({"name": f"management {value or 'all'}", "fieldSelectors": fields})
    return result


DATA_ONLY = [{"name": "S3 data events", "fieldSelectors": [
    {"field": "eventCategory", "equals": ["Data"]},
    {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]


def test_a_specialised_second_trail_complies():
    # One region, data events only, no CloudWatch Logs: it adds data events, the main trail covers.
    extra = second_trail(isMultiRegionTrail=False, advancedEventSelectors=DATA_ONLY,
                         cloudWatchLogsGroupArn=None, cloudWatchLogsRoleArn=None)
    assert preview(compliant_stack() + [extra]).summary() == []


def test_every_trail_must_be_intact():
    extra = second_trail(isMultiRegionTrail=False, advancedEventSelectors=DATA_ONLY,
                         enableLogFileValidation=False)
    result = preview(compliant_stack() + [extra])
    assert [(d.policy, d.level) for d in result.diagnostics] == [
        ("aws-cloudtrail-trail-log-file-validation", M), ("aws-cloudtrail-stack-security-trail", M)]
    assert result.diagnostics[1].message.endswith("Trail 'data-trail': set enableLogFileValidation to true.")


def test_split_selectors_on_one_trail_comply():
    stack = compliant_stack()
    find(stack, TRAIL_R).props["advancedEventSelectors"] = selectors("true", "false")
    assert preview(stack).summary() == []


def test_read_and_write_split_over_two_multi_region_trails_comply():
    stack = compliant_stack()
    find(stack, TRAIL_R).props["advancedEventSelectors"] = selectors("false")
    assert preview(stack + [second_trail(advancedEventSelectors=selectors("true"))]).summary() == []


def test_write_only_trail_alone_is_caught():
    stack = compliant_stack()
    find(stack, TRAIL_R).props["advancedEventSelectors"] = selectors("false")
    result = preview(stack)
    assert [(d.policy, d.level) for d in result.diagnostics] == [
        (MGMT, M), ("aws-cloudtrail-stack-security-trail", M)]
    assert result.diagnostics[0].message == (
        "Record read management events from every source in every region: no multi-region trail records "
        "them; on trail 'spawn-audit-trail-trail': add an advanced event selector on eventCategory "
        f"Management without readOnly or eventSource filters: remove its readOnly field selector {CLAUSES}.")


def test_read_events_from_a_single_region_trail_do_not_cover():
    stack = compliant_stack()
    find(stack, TRAIL_R).props["advancedEventSelectors"] = selectors("false")
    extra = second_trail(isMultiRegionTrail=False, advancedEventSelectors=selectors("true"))
    assert [d.policy for d in preview(stack + [extra]).diagnostics] == [
        MGMT, "aws-cloudtrail-stack-security-trail"]


def test_an_excluded_source_is_covered_by_another_trail():
    stack = compliant_stack()
    props = find(stack, TRAIL_R).props
    del props["advancedEventSelectors"]
    props["eventSelectors"] = [{"readWriteType": "All", "includeManagementEvents": True,
                                "excludeManagementEventSources": ["kms.amazonaws.com"]}]
    assert [d.policy for d in preview(copy.deepcopy(stack)).diagnostics] == [
        MGMT, "aws-cloudtrail-stack-security-trail"]
    assert preview(stack + [second_trail()]).summary() == []


def test_a_selector_narrowed_to_named_sources_covers_nothing_in_full():
    stack = compliant_stack()
    narrowed = selectors("")
    narrowed[0]["fieldSelectors"].append({"field": "eventSource", "equals": ["iam.amazonaws.com"]})
    find(stack, TRAIL_R).props["advancedEventSelectors"] = narrowed
    assert [d.policy for d in preview(stack).diagnostics] == [MGMT, "aws-cloudtrail-stack-security-trail"]


def test_global_service_events_from_another_multi_region_trail_comply():
    stack = compliant_stack()
    find(stack, TRAIL_R).props["includeGlobalServiceEvents"] = False
    assert preview(stack + [second_trail()]).summary() == []
    assert [d.policy for d in preview(compliant_stack() + [second_trail(includeGlobalServiceEvents=False)])
            .diagnostics] == []


def test_cloudwatch_delivery_judged_over_the_multi_region_trails():
    stack = compliant_stack()
    props = find(stack, TRAIL_R).props
    props["advancedEventSelectors"] = selectors("false")
    extra = second_trail(advancedEventSelectors=selectors("true"), cloudWatchLogsRoleArn=None)
    result = preview(stack + [extra])
    assert [(d.policy, d.level) for d in result.diagnostics] == [
        ("aws-cloudtrail-trail-cloudwatch-logs", M), ("aws-cloudtrail-stack-security-trail", M)]
    assert result.diagnostics[0].message.startswith(
        "Set cloudWatchLogsRoleArn so events reach CloudWatch Logs through a role (trail 'data-trail'): "
        "read management events of the multi-region trails must reach CloudWatch Logs")


def test_bucket_name_is_the_fixture_bucket():
    # Guards the helper: the second trail writes to the stack's own (compliant) bucket.
    assert second_trail().props["s3BucketName"] == BUCKET_NAME
