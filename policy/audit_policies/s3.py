"""Rules for the S3 bucket a CloudTrail trail writes to, whichever resource form configures it.

Controls served: Security Hub CloudTrail.6 / S3.8 (Block Public Access), S3.5 (TLS only), S3.14
(versioning), CloudTrail.7 / S3.9 (server access logging), S3.12 (ACLs disabled), S3.15 (Object
Lock), S3.20 (MFA Delete); CIS v4.0.1 2.1.1, 2.1.2, 2.1.4, 3.4; HIPAA 164.312 / 164.316(b)(2)(i);
PCI DSS 10.3.x, 10.5.1, 4.2.1.

These are stack policies: the log bucket is found through the trail's ``s3BucketName`` input and its
configuration through companion resources' ``bucket`` input (see ``graph``), never by name. Each rule
reads the current pulumi-aws v7 forms (``aws.s3.Bucket`` + ``BucketVersioning``,
``BucketServerSideEncryptionConfiguration``, ...), the deprecated ``*V2`` resources, and the deprecated
inline bucket arguments (``versioning``, ``serverSideEncryptionConfiguration``, ``lifecycleRules``,
``logging``, ``policy``, ``acl``, ``grants``, ``objectLockConfiguration`` and the BucketV2 plurals).
Violations are reported on the bucket's URN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, Severity
from spawn_compliance import clauses, profiles

from audit_policies import base, graph, policy_doc, settings
from audit_policies.graph import Graph, Node
from audit_policies.props import (
    Unknown,
    as_bool,
    as_number,
    fmt_number,
    get,
    is_set,
    is_unknown,
    items,
    parse_json_document,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
PROFILE = settings.PROFILE_PROPERTIES

# A check on one trail bucket, given the trails that write to it.
BucketCheck = Callable[[base.Context, Graph, Node, list[Node]], None]


def _bucket_policy(*, name: str, description: str, level: EnforcementLevel, severity: Severity,
                   check: BucketCheck, config: dict | None = None,
                   applies: base.Applies | None = None):
    def stack_check(ctx: base.Context, g: Graph, args: Any) -> None:
        buckets = g.trail_buckets()
        if not buckets:
            args.not_applicable("no bucket in this stack receives CloudTrail logs")
        for bucket, trails in buckets:
            check(ctx, g, bucket, trails)

    return base.stack_policy(name=name, description=description, service="s3", level=level,
                             severity=severity, check=stack_check, config=config, applies=applies)


def _first_unknown(*values: Any) -> Unknown | None:
    for value in values:
        if is_unknown(value):
            return value
    return None


# --- public access block ---------------------------------------------------------------------------

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _public_access_block(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    blocks = g.companions(bucket, graph.PUBLIC_ACCESS_BLOCK)
    if not blocks:
        ctx.findings.violation(
            f"Add an aws.s3.BucketPublicAccessBlock for bucket {bucket.label()} with "
            f"{', '.join(PAB_FLAGS)} set to true {ctx.cite()}.", bucket.urn)
        return
    best: list[str] | None = None
    pending: Unknown | None = None
    for block in blocks:
        values = [as_bool(block.props.get(f)) for f in PAB_FLAGS]
        off = [f for f, v in zip(PAB_FLAGS, values, strict=True) if v is not True and not is_unknown(v)]
        if not off and not any(is_unknown(v) for v in values):
            return
        if not off:
            pending = pending or _first_unknown(*values)
            continue
        if best is None or len(off) < len(best):
            best = off
    if best is None and pending is not None:
        ctx.findings.defer(pending)
        return
    ctx.findings.violation(
        f"Set {', '.join(best or PAB_FLAGS)} to true on the public access block of bucket "
        f"{bucket.label()} {ctx.cite()}.", bucket.urn)


# --- default encryption ----------------------------------------------------------------------------

def encryption_defaults(g: Graph, bucket: Node) -> list[Any]:
    """Every applyServerSideEncryptionByDefault block that applies to the bucket, in any form."""
    found: list[Any] = []
    for cfg in g.companions(bucket, graph.ENCRYPTION):
        for rule in items(cfg.props.get("rules")):
            found.extend(items(get(rule, "applyServerSideEncryptionByDefault")))
    # aws.s3.Bucket (v7) inline form:
    # serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault
    inline = bucket.props.get("serverSideEncryptionConfiguration")
    for rule in items(get(inline, "rule")) + items(get(inline, "rules")):
        found.extend(items(get(rule, "applyServerSideEncryptionByDefault")))
    # aws.s3.BucketV2 inline form: plural lists at every level.
    for cfg in items(bucket.props.get("serverSideEncryptionConfigurations")):
        for rule in items(get(cfg, "rules")):
            found.extend(items(get(rule, "applyServerSideEncryptionByDefaults")))
    return found


KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ALL_ALGORITHMS = ("AES256",) + KMS_ALGORITHMS


def _encryption(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    kms = base.kms_required(ctx.settings)
    allowed = KMS_ALGORITHMS if kms else ALL_ALGORITHMS
    defaults = encryption_defaults(g, bucket)
    algorithms = [d if is_unknown(d) else get(d, "sseAlgorithm") for d in defaults]
    if any(a in allowed for a in algorithms):
        return
    pending = _first_unknown(*algorithms)
    if pending:
        ctx.findings.defer(pending)
        return
    wanted = " or ".join(allowed)
    if not algorithms:
        ctx.findings.violation(
            f"Add default encryption to bucket {bucket.label()} with an "
            f"aws.s3.BucketServerSideEncryptionConfiguration whose sseAlgorithm is {wanted} "
            f"{ctx.cite()}.", bucket.urn)
        return
    why = " (KMS is required by the profile or requireKms)" if kms else ""
    ctx.findings.violation(
        f"Set sseAlgorithm of bucket {bucket.label()} to {wanted}{why} {ctx.cite()}; "
        f"is {', '.join(str(a) for a in algorithms)}.", bucket.urn)


# --- versioning and MFA Delete ---------------------------------------------------------------------

def _versioning_states(g: Graph, bucket: Node) -> list[tuple[Any, Any]]:
    """(enabled, mfaDelete) pairs, each True/False/None/Unknown, from every form."""
    states: list[tuple[Any, Any]] = []
    for cfg in g.companions(bucket, graph.VERSIONING):
        vc = cfg.props.get("versioningConfiguration")
        status, mfa = get(vc, "status"), get(vc, "mfaDelete")
        states.append((status if is_unknown(status) else status == "Enabled",
                       mfa if is_unknown(mfa) else mfa == "Enabled"))
    for v in items(bucket.props.get("versioning")) + items(bucket.props.get("versionings")):
        states.append((v if is_unknown(v) else as_bool(get(v, "enabled")),
                       v if is_unknown(v) else as_bool(get(v, "mfaDelete"))))
    return states


def _versioning(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    enabled = [e for e, _ in _versioning_states(g, bucket)]
    if True in enabled:
        return
    pending = _first_unknown(*enabled)
    if pending:
        ctx.findings.defer(pending)
        return
    ctx.findings.violation(
        f"Enable versioning on bucket {bucket.label()} with an aws.s3.BucketVersioning whose "
        f"versioningConfiguration.status is Enabled {ctx.cite()}.", bucket.urn)


def _mfa_delete(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    mfa = [m for _, m in _versioning_states(g, bucket)]
    if True in mfa:
        return
    if any(rule.expirations or rule.noncurrent_expirations for rule in lifecycle_rules(g, bucket)):
        # S3 does not support lifecycle configuration on MFA Delete-enabled buckets (S3 User Guide,
        # "Lifecycle and other bucket configurations"), and the retention floor needs expiration: such a
        # bucket is protected by Object Lock and a deletion-deny policy (see aws-s3-bucket-object-lock).
        return
    pending = _first_unknown(*mfa)
    if pending:
        ctx.findings.defer(pending)
        return
    ctx.findings.violation(
        f"Enable MFA Delete on bucket {bucket.label()} (versioningConfiguration.mfaDelete Enabled, "
        f"set by the root user) {ctx.cite()}.", bucket.urn)


# --- TLS-only bucket policy ------------------------------------------------------------------------

def _tls_targets(doc: dict, bucket_name: str | None) -> list[list[policy_doc.Target]]:
    """The (bucket ARN, every object) target pairs to prove denied; with the bucket name unknown during
    preview, every bucket the document's statements name is a candidate."""
    names = [bucket_name] if bucket_name is not None else list(dict.fromkeys(
        r.split(":::", 1)[1] for stmt in policy_doc.parse(doc) for r in (stmt.resources or ())
        if ":s3:::" in r and "/" not in r.split(":::", 1)[1] and "*" not in r)) or [""]
    return [[policy_doc.Target(f"arn:aws:s3:::{n}"), policy_doc.Target(f"arn:aws:s3:::{n}/", prefix=True)]
            for n in names]


def tls_denied(doc: dict, bucket_name: str | None) -> bool:
    """Whether the document refuses every non-TLS S3 request on the bucket and on all of its objects.

    Judged by meaning (``policy_doc``): one statement or several (bucket ARN in one, objects in another)
    deny the same requests; a deny narrowed to some principals, accounts or actions does not count.
    """
    statements = policy_doc.parse(doc)
    notes = policy_doc.Notes()
    return any(all(policy_doc.denies_all_insecure(statements, "s3", t, notes) for t in pair)
               for pair in _tls_targets(doc, bucket_name))


def _tls_only(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    # S3 keeps one bucket policy per bucket (the last one written), so each document that may be in
    # force must carry the deny.
    documents = [(f"bucket policy {p.label()}", parse_json_document(p.props.get("policy")))
                 for p in g.companions(bucket, graph.POLICY)]
    if bucket.props.get("policy") is not None:
        documents.append(("the inline bucket policy", parse_json_document(bucket.props.get("policy"))))
    name = bucket.known("bucket")
    lacking = []
    for label, document in documents:
        if is_unknown(document):
            ctx.findings.defer(document)
        elif not (isinstance(document, dict) and tls_denied(document, name)):
            lacking.append(label)
    if documents and not lacking:
        return
    if len(documents) > 1 and len(lacking) < len(documents):
        detail = f" ({', '.join(lacking)} has none; S3 keeps only the last bucket policy written)"
    else:
        detail = ""
    if lacking or not documents:
        ctx.findings.violation(
            f"Add to the bucket policy of bucket {bucket.label()} a statement with Effect Deny, Principal *, "
            f"Action s3:*, Resource the bucket and its objects, and Condition Bool aws:SecureTransport false "
            f"{ctx.cite()}{detail}.", bucket.urn)


# --- server access logging -------------------------------------------------------------------------

def _access_logging(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    targets = [c.props.get("targetBucket") for c in g.companions(bucket, graph.LOGGING)]
    targets += [get(v, "targetBucket") for v in items(bucket.props.get("logging"))]
    targets += [get(v, "targetBucket") for v in items(bucket.props.get("loggings"))]
    if any(is_set(t) for t in targets):
        return  # an unknown target (another bucket's id in preview) still means logging is on
    ctx.findings.violation(
        f"Enable server access logging for bucket {bucket.label()} with an aws.s3.BucketLogging whose "
        f"targetBucket is a separate access-log bucket {ctx.cite()}.", bucket.urn)


# --- object ownership / ACLs -----------------------------------------------------------------------

_HARMLESS_ACLS = (None, "private")


def _ownership(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    owners = [get(c.props.get("rule"), "objectOwnership") for c in g.companions(bucket, graph.OWNERSHIP)]
    acl_uses: list[str] = []
    pending: Unknown | None = None
    acl_sources = [(bucket.props, "inline acl")] + [
        (c.props, f"aws.s3.BucketAcl {c.label()}") for c in g.companions(bucket, graph.ACL)]
    for props, where in acl_sources:
        acl = props.get("acl")
        if is_unknown(acl):
            pending = pending or acl
        elif acl not in _HARMLESS_ACLS:
            acl_uses.append(f"{where} {acl}")
        for key in ("grants", "accessControlPolicy"):
            if is_set(props.get(key)):
                acl_uses.append(f"{key} on {where.split(' ', 1)[-1] if key == 'grants' else where}")
    enforced = "BucketOwnerEnforced" in owners
    if enforced and not acl_uses:
        if pending:
            ctx.findings.defer(pending)
        return
    if not enforced:
        unknown_owner = _first_unknown(*owners)
        if unknown_owner and not acl_uses:
            ctx.findings.defer(unknown_owner)
            return
    fixes = []
    if not enforced:
        is_now = ", ".join(str(o) for o in owners if o is not None) or "not set"
        fixes.append(f"set rule.objectOwnership to BucketOwnerEnforced in an aws.s3.BucketOwnershipControls "
                     f"for bucket {bucket.label()} (is {is_now})")
    if acl_uses:
        fixes.append(f"remove the ACL settings ({'; '.join(acl_uses)})")
    text = " and ".join(fixes)
    ctx.findings.violation(f"{text[0].upper()}{text[1:]} {ctx.cite()}.", bucket.urn)


# --- lifecycle -------------------------------------------------------------------------------------

@dataclass
class LifecycleRule:
    """One lifecycle rule normalised across BucketLifecycleConfiguration(V2) and inline forms."""

    label: str
    enabled: Any
    expirations: list[tuple[Any, Any]] = field(default_factory=list)  # (days, date)
    noncurrent_expirations: list[Any] = field(default_factory=list)  # days
    transitions: list[tuple[Any, Any, Any]] = field(default_factory=list)  # (days, date, storageClass)
    prefix: Any = None  # the rule's key-prefix filter (None or "" = whole bucket)
    tagged: bool = False  # the rule only matches objects with given tags


def _scope(rule: Any) -> tuple[Any, bool]:
    """A rule's prefix filter and whether it filters on tags, from the v7, V2 and inline forms."""
    flt = next(iter(items(get(rule, "filter"))), None)
    both = next(iter(items(get(flt, "and"))), None)
    prefix = next((p for p in (get(flt, "prefix"), get(both, "prefix"), get(rule, "prefix"))
                   if p is not None), None)
    tags = (get(flt, "tag"), get(both, "tags"), get(rule, "tags"))
    return prefix, any(t is not None and not is_unknown(t) and is_set(t) for t in tags)


def log_prefixes(trails: list[Node]) -> list[str] | None:
    """Where the trails write: ``<s3KeyPrefix>/AWSLogs/`` (None when a prefix is unknown)."""
    prefixes = []
    for trail in trails:
        key_prefix = trail.props.get("s3KeyPrefix")
        if is_unknown(key_prefix):
            return None
        prefixes.append(f"{key_prefix.strip('/')}/AWSLogs/" if key_prefix else "AWSLogs/")
    return prefixes


def may_hold_logs(rule: LifecycleRule, prefixes: list[str] | None) -> bool:
    """Whether a rule can act on CloudTrail's log files: CloudTrail writes untagged objects under
    ``AWSLogs/``, so a tag-filtered rule, or one on a prefix disjoint from it, cannot touch them."""
    if rule.tagged:
        return False
    if prefixes is None or is_unknown(rule.prefix) or not rule.prefix:
        return True
    return any(p.startswith(rule.prefix) or rule.prefix.startswith(p) for p in prefixes)


def lifecycle_rules(g: Graph, bucket: Node) -> list[LifecycleRule]:
    rules: list[LifecycleRule] = []
    for cfg in g.companions(bucket, graph.LIFECYCLE):
        for i, rule in enumerate(items(cfg.props.get("rules"))):
            status = get(rule, "status")
            r = LifecycleRule(_rule_label(rule, i), status if is_unknown(status) else status == "Enabled")
            r.prefix, r.tagged = _scope(rule)
            for e in items(get(rule, "expiration")):
                r.expirations.append((get(e, "days"), get(e, "date")))
            for e in items(get(rule, "noncurrentVersionExpiration")):
                r.noncurrent_expirations.append(get(e, "noncurrentDays"))
            for t in items(get(rule, "transitions")):
                r.transitions.append((get(t, "days"), get(t, "date"), get(t, "storageClass")))
            rules.append(r)
    for i, rule in enumerate(items(bucket.props.get("lifecycleRules"))):
        enabled = get(rule, "enabled")
        r = LifecycleRule(_rule_label(rule, i), enabled if is_unknown(enabled) else as_bool(enabled))
        r.prefix, r.tagged = _scope(rule)
        # aws.s3.Bucket uses singular blocks, aws.s3.BucketV2 plural lists; read both.
        for e in items(get(rule, "expiration")) + items(get(rule, "expirations")):
            r.expirations.append((get(e, "days"), get(e, "date")))
        for e in items(get(rule, "noncurrentVersionExpiration")) + \
                items(get(rule, "noncurrentVersionExpirations")):
            r.noncurrent_expirations.append(get(e, "days"))
        for t in items(get(rule, "transitions")):
            r.transitions.append((get(t, "days"), get(t, "date"), get(t, "storageClass")))
        rules.append(r)
    return rules


def log_lifecycle_rules(g: Graph, bucket: Node, trails: list[Node]) -> list[LifecycleRule]:
    """The bucket's lifecycle rules that are (or may be) enabled and can act on the trails' log files."""
    prefixes = log_prefixes(trails)
    return [rule for rule in lifecycle_rules(g, bucket)
            if rule.enabled is not False and rule.enabled is not None and may_hold_logs(rule, prefixes)]


def _rule_label(rule: Any, index: int) -> str:
    rid = get(rule, "id")
    return f"'{rid}'" if isinstance(rid, str) and rid else f"#{index + 1}"


def _floor_source(ctx: base.Context, configured_key: str,
                  per_profile: Callable[[profiles.Requirements], int], clause_of: Callable[[str], str]
                  ) -> tuple[int, str]:
    """The effective floor and 'under hipaa (45 CFR ...)' for the profile(s) that set it.

    A configured floor above every profile's is attributed to the pack config key instead.
    """
    s = ctx.settings
    profile_floor, binding = profiles.binding_floor(s.profiles, s["auditPeriodDays"], per_profile)
    if s[configured_key] > profile_floor:
        return s[configured_key], f"under pack config {configured_key}"
    return profile_floor, "under " + ", ".join(f"{p} ({clause_of(p)})" for p in binding)


def object_lock_days(g: Graph, bucket: Node) -> float | None | Unknown:
    """The bucket's Object Lock default retention in days (years count 365), None when there is none."""
    rules = [get(c.props.get("rule"), "defaultRetention") for c in g.companions(bucket, graph.OBJECT_LOCK)]
    rules.append(get(bucket.props.get("objectLockConfiguration"), "rule", "defaultRetention"))
    best: float | None = None
    for rule in rules:
        days, years, mode = get(rule, "days"), get(rule, "years"), get(rule, "mode")
        pending = _first_unknown(rule, days, years, mode)
        if pending:
            return pending
        if mode not in ("GOVERNANCE", "COMPLIANCE"):
            continue
        value = as_number(days) if days is not None else (as_number(years) or 0) * 365
        best = max(best or 0, value or 0)
    return best


def lifetime(expiration_days: float, noncurrent_days: float | None) -> str:
    """What S3 does to a log file under one rule: kept at least N days, permanently deleted by day M."""
    if noncurrent_days is None:
        return (f"log files stay current for {fmt_number(expiration_days)} days, then their noncurrent "
                f"versions are never deleted")
    return (f"log files live at least {fmt_number(expiration_days)} days and are deleted by day "
            f"{fmt_number(expiration_days + noncurrent_days)}")


def _retention(ctx: base.Context, g: Graph, bucket: Node, trails: list[Node]) -> None:
    """Expiration (current versions) must reach the floor. Noncurrent versions (an overwritten or
    deleted original, or a log file after its expiration) must too, unless Object Lock's default
    retention already keeps every version to the floor: then a short noncurrent expiration only
    removes versions after their lock has run out (the lifetime is then 'at least N, deleted by N+1')."""
    floor, source = _floor_source(ctx, "minRetentionDays", lambda r: r.retention_floor_days,
                                  lambda p: clauses.RETENTION[p])
    where = f"on bucket {bucket.label()}"
    lock: Any = None
    for rule in log_lifecycle_rules(g, bucket, trails):
        current = [as_number(d) for d, _ in rule.expirations if not is_set(_)]
        expiry = current[0] if len(current) == 1 and isinstance(current[0], float) else None
        noncurrent = [as_number(d) for d in rule.noncurrent_expirations]
        shown_nc = noncurrent[0] if len(noncurrent) == 1 and isinstance(noncurrent[0], float) else None
        checks: list[tuple[str, Any, Any]] = [("expiration days", d, date) for d, date in rule.expirations]
        checks += [("noncurrentVersionExpiration days", d, None) for d in rule.noncurrent_expirations]
        for what, days, date in checks:
            days_n = as_number(days)
            if is_unknown(days_n) or is_unknown(date):
                ctx.findings.defer(_first_unknown(days_n, date))
                continue
            if is_set(date):
                ctx.findings.violation(
                    f"Remove the date-based expiration ({date}) of lifecycle rule {rule.label} {where}: "
                    f"retention must be at least {floor} days {source}; a fixed date deletes newer log "
                    f"files early.", bucket.urn)
            elif days_n is not None and days_n < floor:
                if what.startswith("noncurrent"):
                    lock = object_lock_days(g, bucket) if lock is None else lock
                    if is_unknown(lock):
                        ctx.findings.defer(lock)
                        continue
                    if lock is not None and lock >= floor:
                        continue  # every version is locked to the floor; lifecycle cannot delete it sooner
                if is_unknown(rule.enabled):
                    ctx.findings.defer(rule.enabled)
                    continue
                now = f"; {lifetime(expiry, shown_nc)}" if expiry is not None else ""
                lock_hint = (" or protect every version to the floor with an Object Lock default retention "
                             f"of at least {floor} days" if what.startswith("noncurrent") else "")
                ctx.findings.violation(
                    f"Raise {what} of lifecycle rule {rule.label} {where} to at least {floor} or remove "
                    f"the expiration{lock_hint}: retention must be at least {floor} days {source}; "
                    f"is {fmt_number(days_n)}{now}.", bucket.urn)


def retention_floor_set(s: settings.Settings) -> bool:
    """When the chosen profiles or minRetentionDays set a retention floor (not in a bare sandbox)."""
    return max(s.requirements.retention_floor_days, s["minRetentionDays"]) > 0


def _immediate_access(ctx: base.Context, g: Graph, bucket: Node, trails: list[Node]) -> None:
    window, source = _floor_source(ctx, "immediatelyAvailableDays", lambda r: r.immediately_available_days,
                                   lambda p: clauses.IMMEDIATE_ACCESS)
    for rule in log_lifecycle_rules(g, bucket, trails):
        for days, date, storage_class in rule.transitions:
            days_n = as_number(days)
            pending = _first_unknown(storage_class, days_n, date, rule.enabled)
            needs_restore = storage_class in profiles.RESTORE_REQUIRED_STORAGE_CLASSES
            if not needs_restore and not is_unknown(storage_class):
                continue
            if pending:
                ctx.findings.defer(pending)
                continue
            if is_set(date):
                ctx.findings.violation(
                    f"Replace the date-based {storage_class} transition ({date}) of lifecycle rule "
                    f"{rule.label} on bucket {bucket.label()} with one at day {window} or later: the newest "
                    f"{window} days of logs must stay immediately available {source}.", bucket.urn)
            elif days_n is not None and days_n < window:
                ctx.findings.violation(
                    f"Move the {storage_class} transition of lifecycle rule {rule.label} on bucket "
                    f"{bucket.label()} to day {window} or later: the newest {window} days of logs must "
                    f"stay immediately available {source}; is day {fmt_number(days_n)}.", bucket.urn)


def immediate_window_set(s: settings.Settings) -> bool:
    """When a chosen profile (pci-dss) or immediatelyAvailableDays sets an immediately-available window."""
    return max(s.requirements.immediately_available_days, s["immediatelyAvailableDays"]) > 0


# --- Object Lock -----------------------------------------------------------------------------------

def _object_lock(ctx: base.Context, g: Graph, bucket: Node, _trails: list[Node]) -> None:
    top = as_bool(bucket.props.get("objectLockEnabled"))
    inline = get(bucket.props.get("objectLockConfiguration"), "objectLockEnabled")
    if top is True or inline == "Enabled" or g.companions(bucket, graph.OBJECT_LOCK):
        return
    pending = _first_unknown(top, inline)
    if pending:
        ctx.findings.defer(pending)
        return
    ctx.findings.violation(
        f"Enable S3 Object Lock on bucket {bucket.label()} (an aws.s3.BucketObjectLockConfiguration "
        f"with a default retention no longer than the expiration) {ctx.cite()}.", bucket.urn)


POLICIES = [
    _bucket_policy(
        name="aws-s3-bucket-public-access-block",
        description="The S3 bucket a trail writes to must block public access with all four "
                    "Block Public Access settings.",
        level=MANDATORY, severity=Severity.CRITICAL, check=_public_access_block, config=PROFILE,
        applies=base.flag_required("public_access_blocked"),
    ),
    _bucket_policy(
        name="aws-s3-bucket-encryption",
        description="The S3 bucket a trail writes to must have default encryption (SSE-S3 or SSE-KMS; "
                    "SSE-KMS when KMS is required).",
        level=MANDATORY, severity=Severity.HIGH, check=_encryption,
        config={**PROFILE, **settings.REQUIRE_KMS},
        applies=base.encryption_required,
    ),
    _bucket_policy(
        name="aws-s3-bucket-versioning",
        description="The S3 bucket a trail writes to must have versioning enabled so log files "
                    "cannot be silently overwritten or deleted.",
        level=MANDATORY, severity=Severity.HIGH, check=_versioning, config=PROFILE,
        applies=base.flag_required("log_file_validation"),
    ),
    _bucket_policy(
        name="aws-s3-bucket-tls-only",
        description="The S3 bucket a trail writes to must deny every request that does not use TLS.",
        level=MANDATORY, severity=Severity.HIGH, check=_tls_only, config=PROFILE,
        applies=base.flag_required("tls_only"),
    ),
    _bucket_policy(
        name="aws-s3-bucket-access-logging",
        description="The S3 bucket a trail writes to must have server access logging enabled.",
        level=MANDATORY, severity=Severity.MEDIUM, check=_access_logging, config=PROFILE,
        applies=base.flag_required("access_logging"),
    ),
    _bucket_policy(
        name="aws-s3-bucket-ownership-enforced",
        description="The S3 bucket a trail writes to must enforce bucket-owner object ownership with "
                    "ACLs disabled.",
        level=MANDATORY, severity=Severity.HIGH, check=_ownership, config=PROFILE,
        applies=base.flag_required("restricted_read_access"),
    ),
    _bucket_policy(
        name="aws-s3-bucket-lifecycle-retention",
        description="Lifecycle rules on the S3 bucket a trail writes to must not expire log files "
                    "before the retention floor.",
        level=MANDATORY, severity=Severity.CRITICAL, check=_retention,
        config={**PROFILE, "minRetentionDays": settings.days_floor(
            "Extra retention floor in days for the log archive; the effective floor is the larger of "
            "this and the profiles' floor (0: the profiles' floor only).")},
        applies=retention_floor_set,
    ),
    _bucket_policy(
        name="aws-s3-bucket-lifecycle-immediate-access",
        description="Lifecycle rules on the S3 bucket a trail writes to must not move log files to a "
                    "storage class that needs a restore before the immediately-available window ends.",
        level=MANDATORY, severity=Severity.HIGH, check=_immediate_access,
        config={**PROFILE, "immediatelyAvailableDays": settings.days_floor(
            "Extra immediately-available window in days; the effective window is the larger of this "
            "and the profiles' window (0: the profiles' window only).")},
        applies=immediate_window_set,
    ),
    _bucket_policy(
        name="aws-s3-bucket-object-lock",
        description="The S3 bucket a trail writes to should use S3 Object Lock (write once, read many).",
        level=ADVISORY, severity=Severity.MEDIUM, check=_object_lock,
    ),
    _bucket_policy(
        name="aws-s3-bucket-mfa-delete",
        description="The S3 bucket a trail writes to should require MFA Delete for versioned objects.",
        level=ADVISORY, severity=Severity.LOW, check=_mfa_delete,
    ),
]
