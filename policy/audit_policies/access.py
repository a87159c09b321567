"""Who can reach the evidence: the log bucket's, the trail key's and the alarm topic's resource policies.

Controls served: HIPAA 45 CFR 164.312(a)(1) (access control) and 164.312(c)(1) (integrity), PCI DSS
v4.0.1 10.3.1 (read access to audit logs limited to a job-related need) and 10.3.2 (audit logs
protected from modification), SOC 2 CC6.1, CC7.2; Security Hub S3.6 (bucket policies restrict other
accounts).

Every rule here asks ``policy_doc`` a question of meaning instead of looking for a statement of a
given shape: "who, outside this stack's account, can read, delete, rewrite or reconfigure the logs?".
Principals of other accounts, ``*`` and organisation-wide grants fail unless a condition narrows them
to this account (``aws:PrincipalAccount``, ``aws:PrincipalArn``), and an AWS service principal fails
unless it acts for this account (``aws:SourceArn``/``aws:SourceAccount``, or the CloudTrail/CloudWatch
Logs encryption-context ARN in a key policy): AWS's cross-service confused-deputy guidance (IAM User
Guide, "The confused deputy problem").

The stack's account is read from the trails' own ARN-valued inputs (``arn``, ``cloudWatchLogsRoleArn``,
``cloudWatchLogsGroupArn``, ``kmsKeyId``, ``snsTopicName``), never from the policy being judged; when
none is known yet during preview, a decision that needs it is deferred.

Two ways around a resource policy are judged too: a KMS grant (``aws.kms.Grant``) lets its grantee use
the key whatever the key policy says, and a replication rule (``aws.s3.BucketReplicationConfig``)
copies every new log file to its destination bucket, which may belong to another account.

S3 applies only one bucket policy per bucket (the last one written), so with several ``BucketPolicy``
resources (and the deprecated inline ``policy``) every document is judged as if it were the one in
force: an exposure in any of them fails, and a required deny must be in each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from audit_policies import base, graph, policy_doc, s3, settings
from audit_policies.graph import Graph, Node, known_str
from audit_policies.props import Unknown, as_bool, is_unknown, parse_json_document

MANDATORY = EnforcementLevel.MANDATORY
PROFILE = settings.PROFILE_PROPERTIES

KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ALIAS = "aws:kms/alias:Alias"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
GRANT = "aws:kms/grant:Grant"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"

# What "reading, deleting, rewriting or reconfiguring the logs" means in S3 actions (Amazon S3 API
# reference; the service authorization reference for Amazon S3).
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
OBJECT_ACTIONS = {
    "read": READ_ACTIONS,
    # BypassGovernanceRetention lifts the Object Lock (governance mode) that keeps versions from deletion
    # (S3 User Guide, "Bypassing governance mode").
    "delete": ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"),
    "rewrite": ("s3:PutObject",),
}
BUCKET_ACTIONS = {
    "reconfigure": ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration",
                    "s3:PutBucketVersioning", "s3:PutBucketObjectLockConfiguration", "s3:DeleteBucket",
                    # Copy every new log file to another account's bucket; turn ACLs back on and grant
                    # reads through them; lift the public access block; change the bucket's encryption.
                    "s3:PutReplicationConfiguration", "s3:PutBucketOwnershipControls", "s3:PutBucketAcl",
                    "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration"),
}
KEY_ACTIONS = {
    "use": ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant"),
    # DisableKeyRotation undoes CIS 3.6 / KMS.4; DeleteImportedKeyMaterial makes the key unusable at once.
    "administer": ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation",
                   "kms:DeleteImportedKeyMaterial"),
}
TOPIC_ACTIONS = {
    "publish to": ("sns:Publish",),
    "subscribe to": ("sns:Subscribe",),
    "administer": ("sns:SetTopicAttributes", "sns:AddPermission", "sns:DeleteTopic"),
}


# --- the stack's account ---------------------------------------------------------------------------

_TRAIL_ARN_INPUTS = ("arn", "cloudWatchLogsRoleArn", "cloudWatchLogsGroupArn", "kmsKeyId", "snsTopicName")


def stack_accounts(g: Graph) -> tuple[frozenset[str], Unknown | None]:
    """The accounts the stack's trails belong to, and the first unknown input that might name one."""
    accounts: set[str] = set()
    pending: Unknown | None = None
    for trail in g.of_type(graph.TRAIL):
        for key in _TRAIL_ARN_INPUTS:
            value = trail.props.get(key)
            if is_unknown(value):
                pending = pending or value
            elif isinstance(value, str) and value.startswith("arn:"):
                account = policy_doc.arn_account(value)
                if account:
                    accounts.add(account)
    return frozenset(accounts), pending


# --- reporting ---------------------------------------------------------------------------------------

def _describe(found: list[tuple[str, policy_doc.Exposure]]) -> str:
    """"read (s3:GetObject, s3:GetObjectVersion: principals of account 9999, through statement 'X')"."""
    by_verb: dict[str, dict[tuple[str, str], list[str]]] = {}
    for verb, e in found:
        by_verb.setdefault(verb, {}).setdefault((e.who, e.statement), []).append(e.action)
    return "; ".join(f"{verb} ({_grouped(groups)})" for verb, groups in by_verb.items())


def _grouped(groups: dict[tuple[str, str], list[str]]) -> str:
    return "; ".join(", ".join(actions) + f": {who}, through {stmt}"
                     for (who, stmt), actions in groups.items())


def _notes(notes: policy_doc.Notes) -> str:
    return (" Judged conservatively: " + "; ".join(notes.items) + ".") if notes.items else ""


def _judge(ctx: base.Context, where: str, urn: str, document: Any, questions: dict[str, tuple[str, ...]],
           target_of: Callable[[str], list[policy_doc.Target]], accounts: frozenset[str],
           pending_account: Unknown | None, fix: str, noun: str = "") -> None:
    """Report the exposures of one document (or defer on an unknown document or account)."""
    if is_unknown(document):
        ctx.findings.defer(document)
        return
    statements = policy_doc.parse(document)
    if not statements:
        return
    if not accounts and pending_account is not None:
        ctx.findings.defer(pending_account)
        return
    notes = policy_doc.Notes()
    allowed = policy_doc.Allowed(accounts)
    found: list[tuple[str, policy_doc.Exposure]] = []
    for verb, actions in questions.items():
        for target in target_of(verb):
            for e in policy_doc.exposures(statements, actions, target, allowed, notes):
                if (verb, e) not in found:
                    found.append((verb, e))
    if not found:
        return
    account_text = f"account {', '.join(sorted(accounts))}" if accounts else \
        "the stack's account (which its trails do not name)"
    verbs = list(questions)
    verb_text = ", ".join(verbs[:-1]) + " or " + verbs[-1] if len(verbs) > 1 else verbs[0]
    ctx.findings.violation(
        f"{fix} of {where} that let anyone outside {account_text} {verb_text} {noun}; only this "
        f"account's principals and roles, and AWS services acting for this account (aws:SourceArn or "
        f"aws:SourceAccount), may {ctx.cite()}. Found: {_describe(found)}.{_notes(notes)}",
        urn)


# --- the log bucket ----------------------------------------------------------------------------------

def bucket_documents(g: Graph, bucket: Node) -> list[tuple[str, str, Any]]:
    """(label, urn, document) for every bucket policy that may be the one in force on ``bucket``."""
    found = [(f"bucket policy {p.label()}", p.urn, parse_json_document(p.props.get("policy")))
             for p in g.companions(bucket, graph.POLICY)]
    inline = bucket.props.get("policy")
    if inline is not None:
        found.append((f"the inline policy of bucket {bucket.label()}", bucket.urn,
                      parse_json_document(inline)))
    return found


def _object_targets(bucket_name: str, trails: list[Node]) -> list[policy_doc.Target]:
    prefixes = s3.log_prefixes(trails) or [""]
    return [policy_doc.Target(f"arn:aws:s3:::{bucket_name}/{p}", prefix=True)
            for p in dict.fromkeys(prefixes)]


def _trail_buckets(g: Graph, args: Any) -> list[tuple[Node, list[Node]]]:
    buckets = g.trail_buckets()
    if not buckets:
        args.not_applicable("no bucket in this stack receives CloudTrail logs")
    return buckets


def bucket_names(bucket: Node, document: dict) -> list[str]:
    """The bucket's name; while it is unknown during preview, every bucket the document names."""
    name = bucket.props.get("bucket")
    if isinstance(name, str) and name:
        return [name]
    names = [r.split(":::", 1)[1].split("/", 1)[0] for stmt in policy_doc.parse(document)
             for r in (stmt.resources or ()) if ":s3:::" in r]
    return [n for n in dict.fromkeys(names) if n and "*" not in n and "?" not in n] or [""]


def _bucket_access(ctx: base.Context, g: Graph, args: Any) -> None:
    accounts, pending = stack_accounts(g)
    for bucket, trails in _trail_buckets(g, args):
        if accounts or pending is None:
            _replication(ctx, g, bucket, accounts)
        else:
            ctx.findings.defer(pending)
        for label, urn, document in bucket_documents(g, bucket):
            if not isinstance(document, dict):
                _judge(ctx, label, urn, document, {}, lambda _verb: [], accounts, pending, "")
                continue
            for name in bucket_names(bucket, document):
                objects = _object_targets(name, trails)

                def targets(verb: str, objects=objects, name=name) -> list[policy_doc.Target]:
                    return [policy_doc.Target(f"arn:aws:s3:::{name}")] if verb in BUCKET_ACTIONS else objects

                _judge(ctx, f"{label} (bucket {bucket.label()})", urn, document,
                       {**OBJECT_ACTIONS, **BUCKET_ACTIONS}, targets, accounts, pending,
                       "Remove or narrow the statements", "the logs")


def _replication(ctx: base.Context, g: Graph, bucket: Node, accounts: frozenset[str]) -> None:
    """Replication copies every new log file to its destination, whatever the bucket policy says: the
    destination must be a bucket of this stack or one that ``destination.account`` puts in this account
    (S3 User Guide, "Replicating objects": the destination may belong to another account)."""
    configs = g.companions(bucket, (REPLICATION,))
    in_stack = {b.known("bucket") for b in g.of_type(graph.BUCKET)} - {None} if configs else set()
    for config in configs:
        rules = config.props.get("rules")
        if is_unknown(rules):
            ctx.findings.defer(rules)
            continue
        for rule in rules if isinstance(rules, list) else []:
            if not isinstance(rule, dict) or rule.get("status") != "Enabled":
                continue
            destination = rule.get("destination") or {}
            target, account = destination.get("bucket"), destination.get("account")
            for value in (target, account):
                if is_unknown(value):
                    ctx.findings.defer(value)
                    break
            else:
                name = target.split(":::", 1)[-1] if isinstance(target, str) else None
                if name in in_stack or (account is not None and account in accounts):
                    continue
                where = f"account {account}" if account else "an account this stack cannot tell"
                ctx.findings.violation(
                    f"Replicate bucket {bucket.label()} only to a bucket of this stack, or set "
                    f"destination.account to this account, in replication configuration {config.label()}: "
                    f"rule {rule.get('id') or '(no id)'} copies the logs to {target} in {where}, outside the "
                    f"account's access control {ctx.cite()}.", config.urn)


def _reads_limited(ctx: base.Context, g: Graph, args: Any) -> None:
    accounts, pending = stack_accounts(g)
    for bucket, trails in _trail_buckets(g, args):
        documents = bucket_documents(g, bucket) or [("the bucket policy", bucket.urn, {})]
        for label, _urn, document in documents:
            if is_unknown(document):
                ctx.findings.defer(document)
                continue
            if not accounts and pending is not None:
                ctx.findings.defer(pending)
                continue
            document = document if isinstance(document, dict) else {}
            notes = policy_doc.Notes()
            # A bucket policy need not name the account's own principals for them to read: any IAM
            # policy in the account granting s3:GetObject does (IAM User Guide, "Policy evaluation logic",
            # same-account requests). So the question starts from every principal of the account.
            implicit = [policy_doc.principal_scope(policy_doc.Principal("AWS", a)) for a in sorted(accounts)]
            found = []
            for name in bucket_names(bucket, document):
                for target in _object_targets(name, trails):
                    for e in policy_doc.exposures(policy_doc.parse(document), READ_ACTIONS, target,
                                                  policy_doc.Allowed(accounts, named_only=True), notes,
                                                  implicit):
                        if e not in found:
                            found.append(e)
            if not found and accounts:
                continue
            groups: dict[tuple[str, str], list[str]] = {}
            for e in found:
                groups.setdefault((e.who, e.statement), []).append(e.action)
            readers = _grouped(groups) or \
                "the stack's account is not named by its trails, so no reader can be vouched for"
            ctx.findings.violation(
                f"Add to {label} of bucket {bucket.label()} a statement with Effect Deny, Principal *, "
                f"Action {' and '.join(READ_ACTIONS)}, Resource the bucket's objects, and Condition "
                f"ArnNotLike aws:PrincipalArn [the auditor and break-glass role ARNs] with BoolIfExists "
                f"aws:PrincipalIsAWSService false: reads of the audit logs must be limited to the named "
                f"auditor roles {ctx.cite()}; now also readable by: {readers}.{_notes(notes)}",
                bucket.urn)


# --- the trail's KMS key -----------------------------------------------------------------------------

def trail_keys(g: Graph) -> list[Node]:
    """The KMS keys the stack's trails encrypt with: through the kmsKeyId dependency (a key, or an alias
    whose targetKeyId is one) or a known key ARN, key id or alias name/ARN."""
    keys = g.of_type(KEY)
    aliases = g.of_type(ALIAS)
    found: list[Node] = []

    def add(node: Node) -> None:
        if node not in found:
            found.append(node)

    # Keys by known ARN or key id, aliases by known name (stack order): looked up for each trail.
    by_identity: dict[str, list[Node]] = {}
    for key in keys:
        for ident in dict.fromkeys((key.known("arn"), key.known("keyId"))):
            if ident:
                by_identity.setdefault(ident, []).append(key)
    by_name: dict[str, list[Node]] = {}
    for alias in aliases:
        if alias.known("name"):
            by_name.setdefault(alias.known("name"), []).append(alias)
    for trail in g.of_type(graph.TRAIL):
        for dep in g.deps(trail, "kmsKeyId"):
            if dep.type == KEY:
                add(dep)
            elif dep.type == ALIAS:
                for key in g.deps(dep, "targetKeyId"):
                    if key.type == KEY:
                        add(key)
        value = known_str(trail.props.get("kmsKeyId"))
        if not value:
            continue
        for key in by_identity.get(value, []):
            add(key)
        alias_name = "alias/" + value.split(":alias/", 1)[1] if ":alias/" in value else \
            value if value.startswith("alias/") else None
        for alias in by_name.get(alias_name, []) if alias_name else []:
            for key in g.deps(alias, "targetKeyId"):
                if key.type == KEY:
                    add(key)
    return found


def key_documents(g: Graph, key: Node) -> list[tuple[str, str, Any]]:
    found = []
    if key.props.get("policy") is not None:
        found.append((f"the key policy of KMS key {key.label()}", key.urn,
                      parse_json_document(key.props.get("policy"))))
    for node in g.of_type(KEY_POLICY):
        if key.urn in node.property_dependencies.get("keyId", []) or (
                key.known("keyId") and node.known("keyId") in (key.known("keyId"), key.known("arn"))):
            found.append((f"key policy {node.label()} of KMS key {key.label()}", node.urn,
                          parse_json_document(node.props.get("policy"))))
    return found


def _trail_keys_or_not_applicable(g: Graph, args: Any) -> list[Node]:
    keys = trail_keys(g)
    if not keys:
        args.not_applicable("no trail in this stack encrypts with a KMS key declared in it")
    return keys


def _key_access(ctx: base.Context, g: Graph, args: Any) -> None:
    accounts, pending = stack_accounts(g)
    target = [policy_doc.Target("arn:aws:kms:", prefix=True)]
    for key in _trail_keys_or_not_applicable(g, args):
        # No policy at all: AWS applies the default key policy, which trusts this account only.
        for label, urn, document in key_documents(g, key):
            _judge(ctx, label, urn, document, KEY_ACTIONS, lambda _verb: target, accounts, pending,
                   "Remove or narrow the statements", "the key")
        for grant in key_grants(g, key):
            _grant_access(ctx, key, grant, accounts, pending)


def key_grants(g: Graph, key: Node) -> list[Node]:
    """The ``aws.kms.Grant`` resources on ``key`` (through the keyId dependency or its known id/ARN)."""
    ids = {key.known("keyId"), key.known("arn")} - {None}
    return [n for n in g.of_type(GRANT) if key.urn in n.property_dependencies.get("keyId", [])
            or known_str(n.props.get("keyId")) in ids]


# Grant operations that use the key on the logs' data keys (KMS Developer Guide, "Grant operations").
_GRANT_USE = ("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
              "ReEncryptTo", "CreateGrant")


def _grant_access(ctx: base.Context, key: Node, grant: Node, accounts: frozenset[str],
                  pending: Unknown | None) -> None:
    """A grant is a second way to use the key besides its policy: its grantee must be of this account."""
    grantee, operations = grant.props.get("granteePrincipal"), grant.props.get("operations")
    for value in (grantee, operations):
        if is_unknown(value):
            ctx.findings.defer(value)
            return
    used = [op for op in (operations or []) if op in _GRANT_USE]
    if not used or not isinstance(grantee, str):
        return
    if not accounts and pending is not None:
        ctx.findings.defer(pending)
        return
    account = policy_doc.arn_account(grantee)
    if account is not None and account in accounts:
        return
    who = f"principals of account {account}" if account else f"principal {grantee} (any account)"
    account_text = f"account {', '.join(sorted(accounts))}" if accounts else "the stack's account"
    ctx.findings.violation(
        f"Remove grant {grant.label()} on KMS key {key.label()} or give it to a principal of {account_text}: "
        f"a grant lets its grantee use the key whatever the key policy says, and only this account's "
        f"principals and roles may {ctx.cite()}. Found: {', '.join(f'kms:{op}' for op in used)}: {who}.",
        grant.urn)


def _key_enabled(ctx: base.Context, g: Graph, args: Any) -> None:
    for key in _trail_keys_or_not_applicable(g, args):
        enabled = as_bool(key.props.get("isEnabled"))
        if is_unknown(enabled):
            ctx.findings.defer(enabled)
        elif enabled is False:
            ctx.findings.violation(
                f"Set isEnabled to true (or remove it; it defaults to true) on KMS key {key.label()}: "
                f"CloudTrail cannot deliver log files encrypted with a disabled key {ctx.cite()}.", key.urn)


# --- the alarm topic ---------------------------------------------------------------------------------

def alarm_topics(g: Graph) -> tuple[list[Node], Unknown | None]:
    topics: list[Node] = []
    seen: set[Node] = set()  # nodes hash and compare by identity
    pending: Unknown | None = None
    for alarm in g.of_type(graph.METRIC_ALARM):
        # Every topic an alarm names by full ARN or may name (ARN unknown at preview) is judged.
        exact, maybe, unknown = g.topics_referenced(alarm, "alarmActions")
        pending = pending or unknown
        for topic in exact + maybe:
            if topic not in seen:
                seen.add(topic)
                topics.append(topic)
    return topics, pending


def topic_documents(g: Graph, topic: Node) -> list[tuple[str, str, Any]]:
    found = []
    if topic.props.get("policy") is not None:
        found.append((f"the inline policy of topic {topic.label()}", topic.urn,
                      parse_json_document(topic.props.get("policy"))))
    arn, name = topic.known("arn"), topic.known("name")
    by_dependency, by_arn, by_name = g.memo("topic-policies", lambda: _topic_policies(g))
    # A policy applies to the topic it depends on through ``arn``, whose ARN it names, or (an ARN built
    # from the name) whose name ends its ARN; looked up, not scanned, for each topic.
    matches = {id(n): n for n in by_dependency.get(topic.urn, []) + (by_arn.get(arn, []) if arn else [])
               + (by_name.get(name, []) if name else [])}
    for node in sorted(matches.values(), key=g.position):
        found.append((f"topic policy {node.label()} of topic {topic.label()}", node.urn,
                      parse_json_document(node.props.get("policy"))))
    return found


def _topic_policies(g: Graph) -> tuple[dict[str, list[Node]], dict[str, list[Node]], dict[str, list[Node]]]:
    """The stack's topic policies by the URN their ``arn`` depends on, by their known ``arn``, and by
    the name that ends a known ARN."""
    by_dependency: dict[str, list[Node]] = {}
    by_arn: dict[str, list[Node]] = {}
    by_name: dict[str, list[Node]] = {}
    for node in g.of_type(TOPIC_POLICY):
        for urn in dict.fromkeys(node.property_dependencies.get("arn", [])):
            by_dependency.setdefault(urn, []).append(node)
        value = known_str(node.props.get("arn"))
        if value:
            by_arn.setdefault(value, []).append(node)
            if value.startswith("arn:"):
                by_name.setdefault(value.split(":")[-1], []).append(node)
    return by_dependency, by_arn, by_name


def _topic_access(ctx: base.Context, g: Graph, args: Any) -> None:
    topics, pending_topic = alarm_topics(g)
    if not topics:
        if pending_topic is not None:
            ctx.findings.defer(pending_topic)
            return
        args.not_applicable("no alarm in this stack notifies a topic declared in it")
    accounts, pending = stack_accounts(g)
    for topic in topics:
        arn = topic.known("arn")
        target = [policy_doc.Target(arn) if arn else policy_doc.Target("arn:aws:sns:", prefix=True)]
        for label, urn, document in topic_documents(g, topic):
            _judge(ctx, label, urn, document, TOPIC_ACTIONS, lambda _verb, t=target: t, accounts, pending,
                   "Remove or narrow the statements", "the topic")


# --- the trail's log group ------------------------------------------------------------------------

def _log_export(ctx: base.Context, g: Graph, args: Any) -> None:
    """A subscription filter streams every event of the log group to its destination, which may be in
    another account (CloudWatch Logs User Guide, "Cross-account cross-Region subscriptions")."""
    groups = [group for group, _ in g.trail_log_groups()]
    if not groups:
        args.not_applicable("no trail in this stack delivers to a log group declared in it")
    accounts, pending = stack_accounts(g)
    for group in groups:
        for sub in g.subscription_filters(group):
            destination = sub.props.get("destinationArn")
            if is_unknown(destination):
                if not g.deps(sub, "destinationArn"):
                    ctx.findings.defer(destination)
                continue  # a destination this stack creates lives in the stack's account
            account = policy_doc.arn_account(destination) if isinstance(destination, str) else None
            if account is not None and account in accounts:
                continue
            if not accounts and pending is not None:
                ctx.findings.defer(pending)
                continue
            account_text = f"account {', '.join(sorted(accounts))}" if accounts else "the stack's account"
            where = f"account {account}" if account else "an account this stack cannot tell"
            ctx.findings.violation(
                f"Point subscription filter {sub.label()} on log group {group.label()} at a destination of "
                f"{account_text}, or remove it: it streams every CloudTrail event of the log group to "
                f"{destination} in {where}, outside the account's access control {ctx.cite()}.", sub.urn)


def _stack(name: str, description: str, service: str, severity: Severity, check, applies=None):
    return base.stack_policy(name=name, description=description, service=service, level=MANDATORY,
                             severity=severity, check=check, config=PROFILE, applies=applies)


POLICIES = [
    _stack("aws-s3-bucket-policy-no-outside-access",
           "No bucket policy of the S3 bucket a trail writes to may let principals outside the stack's "
           "account, or AWS services acting for other accounts, read, delete, rewrite or reconfigure the "
           "logs, and no replication rule may copy them out of the account.",
           "s3", Severity.CRITICAL, _bucket_access, base.flag_required("restricted_read_access")),
    _stack("aws-s3-bucket-reads-limited-to-auditors",
           "Where a profile limits reads of the audit logs to named auditors, the bucket policy must deny "
           "object reads to every principal but the named auditor and break-glass roles.",
           "s3", Severity.HIGH, _reads_limited, base.flag_required("auditor_only_reads")),
    _stack("aws-kms-key-policy-no-outside-access",
           "Neither the key policy of the KMS key a trail encrypts with nor a grant on it may let principals "
           "outside the stack's account, or AWS services acting for other accounts, use or administer the "
           "key.",
           "kms", Severity.CRITICAL, _key_access, base.flag_required("restricted_read_access")),
    _stack("aws-kms-key-enabled",
           "The KMS key a trail encrypts with must be enabled, or CloudTrail cannot deliver log files.",
           "kms", Severity.CRITICAL, _key_enabled),
    _stack("aws-cloudwatch-log-group-no-outside-export",
           "No subscription filter on the log group a trail delivers to may stream its events to a "
           "destination outside the stack's account.",
           "cloudwatch", Severity.HIGH, _log_export, base.flag_required("restricted_read_access")),
    _stack("aws-sns-topic-policy-no-outside-access",
           "The policy of the topic the security alarms notify may not let principals outside the stack's "
           "account, or AWS services acting for other accounts, publish to, subscribe to or administer it.",
           "sns", Severity.HIGH, _topic_access, base.flag_required("restricted_read_access")),
]
