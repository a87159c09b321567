"""Stack-level rules about the evidence stores themselves: one configuration per bucket singleton,
buckets the stack cannot show, and protection against deletion by a stack operation.

* ``aws-s3-bucket-single-configuration``: S3 keeps exactly one bucket policy, public access block,
  versioning, default-encryption, lifecycle, logging, Object Lock, ownership-controls and ACL
  configuration per bucket; two resources (or a resource and the bucket's inline argument) writing
  the same one make the last one applied win, so a compliant one can be silently replaced. Judged on
  every bucket in the stack.
* ``aws-cloudtrail-trail-bucket-unverifiable``: a trail whose bucket is not a resource of this stack
  (another stack's, another account's) leaves every bucket rule unverifiable here; an advisory names
  them so the reader knows what the preview did not check.
* ``aws-cloudtrail-stack-evidence-protected``: under any profile, the trails, the buckets they write to
  and those buckets' access-log buckets, the log groups they deliver to and the keys that encrypt them
  carry Pulumi ``protect`` (the engine sends it in each resource's options), so ``pulumi destroy`` or
  a removal from the program cannot delete them; the trail log groups also set CloudWatch Logs
  deletion protection (``deletionProtectionEnabled``), which guards them outside Pulumi too.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, graph, s3, settings
from audit_policies.graph import BUCKETS, TRAIL, Graph, Node, known_str
from audit_policies.props import as_bool, is_set, is_unknown

PROFILE = settings.PROFILE_PROPERTIES

# Singleton configuration -> (separate resource types, inline bucket arguments that set the same thing).
SINGLETONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bucket policy": (graph.POLICY, ("policy",)),
    "public access block": (graph.PUBLIC_ACCESS_BLOCK, ()),
    "versioning": (graph.VERSIONING, ("versioning", "versionings")),
    "default encryption": (graph.ENCRYPTION, ("serverSideEncryptionConfiguration",
                                              "serverSideEncryptionConfigurations")),
    "lifecycle configuration": (graph.LIFECYCLE, ("lifecycleRules",)),
    "server access logging": (graph.LOGGING, ("logging", "loggings")),
    "Object Lock configuration": (graph.OBJECT_LOCK, ("objectLockConfiguration",)),
    "ownership controls": (graph.OWNERSHIP, ()),
    "ACL": (graph.ACL, ("acl", "grants")),
}


def _single_configuration(ctx: base.Context, g: Graph, _args: Any) -> None:
    for bucket in g.of_type(*BUCKETS):
        for what, (types, inline) in SINGLETONS.items():
            writers = [f"'{c.name}' ({c.type.rsplit(':', 1)[-1]})" for c in g.companions(bucket, types)]
            writers += [f"the inline {key} argument of '{bucket.name}'" for key in inline
                        if is_set(bucket.props.get(key)) and bucket.props.get(key) != "private"]
            if len(writers) > 1:
                ctx.findings.violation(
                    f"Keep one {what} for bucket {bucket.label()} and remove the others: "
                    f"{' and '.join(writers)} all set it; S3 keeps one per bucket and the last one applied "
                    f"wins, so a compliant one can be silently replaced {ctx.cite()}.", bucket.urn)


def _unverifiable(ctx: base.Context, g: Graph, args: Any) -> None:
    trails = g.of_type(TRAIL)
    if not trails:
        args.not_applicable("the stack declares no CloudTrail trail")
    reached = {t.urn for _, writers in g.trail_buckets() for t in writers}
    controls = ", ".join(p.name for p in s3.POLICIES)
    for trail in trails:
        if trail.urn in reached:
            continue
        name = known_str(trail.props.get("s3BucketName"))
        where = f"bucket '{name}'" if name else "its bucket (s3BucketName unknown here)"
        ctx.findings.violation(
            f"Trail {trail.label()} writes to {where}, which is not a resource of this stack, so these "
            f"controls cannot be verified here: {controls}; declare the bucket and its configuration in "
            f"this stack, or check them where it is declared {ctx.cite()}.", trail.urn)


def evidence_stores(g: Graph) -> list[Node]:
    """Trails, their buckets and access-log buckets, their log groups and KMS keys, in stack order."""
    found: dict[str, Node] = {}
    trails = g.of_type(TRAIL)
    for trail in trails:
        found[trail.urn] = trail
    for bucket, _ in g.trail_buckets():
        found[bucket.urn] = bucket
        for logging in g.companions(bucket, graph.LOGGING):
            for target in g.deps(logging, "targetBucket"):
                found.setdefault(target.urn, target)
            for target in g.buckets_named(known_str(logging.props.get("targetBucket"))):
                found.setdefault(target.urn, target)
    for group, _ in g.trail_log_groups():
        found[group.urn] = group
    keys = {n.urn: n for n in g.of_type("aws:kms/key:Key")}
    for trail in trails:
        for dep in g.deps(trail, "kmsKeyId"):
            if dep.urn in keys:
                found.setdefault(dep.urn, dep)
    return sorted(found.values(), key=g.position)


def _protected(ctx: base.Context, g: Graph, args: Any) -> None:
    protect = {r.urn: bool(getattr(getattr(r, "opts", None), "protect", False)) for r in args.resources}
    stores = evidence_stores(g)
    if not stores:
        args.not_applicable("the stack declares no CloudTrail trail")
    unprotected = [n for n in stores if not protect.get(n.urn)]
    if unprotected:
        names = ", ".join(n.label() for n in unprotected)
        ctx.findings.violation(
            f"Set the Pulumi resource option protect=True on {names} (in spawn-audit: "
            f"protectResources true, which every profile requires): evidence stores must not be deletable "
            f"by pulumi destroy or by removing them from the program {ctx.cite()}.", unprotected[0].urn)
    for group, _ in g.trail_log_groups():
        flag = as_bool(group.props.get("deletionProtectionEnabled"))
        if is_unknown(flag):
            ctx.findings.defer(flag)
        elif flag is not True:
            ctx.findings.violation(
                f"Set deletionProtectionEnabled to true on log group {group.label()} so CloudWatch Logs "
                f"refuses to delete the trail's events, inside or outside Pulumi {ctx.cite()}.", group.urn)


POLICIES = [
    base.stack_policy(
        name="aws-s3-bucket-single-configuration",
        description="Each S3 bucket must have at most one resource (or inline argument) for each of its "
                    "singleton configurations (policy, public access block, versioning, encryption, "
                    "lifecycle, logging, Object Lock, ownership controls, ACL).",
        service="s3", level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, check=_single_configuration,
        config=PROFILE,
    ),
    base.stack_policy(
        name="aws-cloudtrail-trail-bucket-unverifiable",
        description="A trail whose S3 bucket is not a resource of the stack gets an advisory naming the "
                    "bucket controls that cannot be verified in this preview.",
        service="cloudtrail", level=EnforcementLevel.ADVISORY, severity=Severity.MEDIUM, check=_unverifiable,
        config=PROFILE,
    ),
    base.stack_policy(
        name="aws-cloudtrail-stack-evidence-protected",
        description="Under any profile, the trails, their buckets and access-log buckets, log groups and "
                    "KMS keys must carry Pulumi protect, and the trail log groups CloudWatch Logs deletion "
                    "protection, so no stack operation deletes audit evidence.",
        service="cloudtrail", level=EnforcementLevel.MANDATORY, severity=Severity.HIGH, check=_protected,
        config=PROFILE, applies=base.audit_logging_required,
    ),
]
