"""Who can reach the evidence, judged by effect: bucket, key and topic policies through the Analyzer.

Each negative changes one thing in the compliant stack (``policy_fixtures``: the program, recorded) and
asserts the complete list of diagnostics; each class also has compliant variants written differently
(split statements, action lists or wildcards instead of one action, ``NotPrincipal``, conditions instead
of principals) that must pass. Everything goes through the SDK's Analyzer servicer (``policy_harness.Pack``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from policy_fixtures import (
    ACCOUNT,
    ALERT_TOPIC,
    ALERTS,
    ARCHIVE,
    AUDITOR_ARN,
    BUCKET_NAME,
    KEY_R,
    LOG_GROUP_NAME,
    LOG_GROUP_R,
    REGION,
    TRAIL_ARN,
    TRAIL_R,
    archive,
    compliant_stack,
    find,
    undeclared,
)
from policy_harness import Pack, R, configured, engine_config, for_all
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

M = "mandatory"
OTHER = "999988887777"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET_NAME}"
OBJECTS = f"{BUCKET_ARN}/*"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{ALERT_TOPIC}"
HIPAA = for_all({"profiles": ["hipaa"]})
TOPIC_POLICY = "spawn-audit-alarms-topic-policy"
ARCHIVE_POLICY = "bucket policy 'spawn-audit-archive-bucket-policy'"  # where the findings point

BUCKET_RULE = "aws-s3-bucket-policy-no-outside-access"
READS_RULE = "aws-s3-bucket-reads-limited-to-auditors"
KEY_RULE = "aws-kms-key-policy-no-outside-access"
KEY_ENABLED = "aws-kms-key-enabled"
TOPIC_RULE = "aws-sns-topic-policy-no-outside-access"
TLS_RULE = "aws-s3-bucket-tls-only"

BUCKET_CITE = (
    "Security Hub S3.6, 45 CFR 164.312(a)(1), 45 CFR 164.312(c)(1), PCI DSS 10.3.1, PCI DSS 10.3.2, "
    "SOC 2 CC6.1"
)
TLS_MESSAGE = (
    "Add to the bucket policy of bucket 'spawn-audit-archive-bucket' a statement with Effect Deny, Principal "
    "*, Action s3:*, Resource the bucket and its objects, and Condition Bool aws:SecureTransport false "
    "(Security Hub S3.5, CIS 2.1.1, 45 CFR 164.312(e)(1), PCI DSS 4.2.1, SOC 2 CC6.7)"
)


# The second BucketPolicy on the archive is itself a violation (aws-s3-bucket-single-configuration).
DUPLICATE_POLICY = (
    "aws-s3-bucket-single-configuration", "mandatory",
    "Keep one bucket policy for bucket 'spawn-audit-archive-bucket' and remove the others: "
    "'spawn-audit-archive-bucket-policy' (BucketPolicy) and 'spawn-audit-archive-bucket-policy-2' "
    "(BucketPolicy) all set it; S3 keeps one per bucket and the last one applied wins, so a compliant one "
    "can be silently replaced (45 CFR 164.312(c)(1), 45 CFR 164.312(a)(1), PCI DSS 10.3.2, SOC 2 CC6.1).",
)

def bucket_violation(
    found: str, notes: str = "", where: str = ARCHIVE_POLICY, cite: str = BUCKET_CITE
) -> tuple[str, str, str]:
    return (
        BUCKET_RULE,
        M,
        f"Remove or narrow the statements of {where} (bucket 'spawn-audit-archive-bucket') that let anyone "
        f"outside account {ACCOUNT} read, delete, rewrite or reconfigure the logs; only this account's "
        "principals and roles, and AWS services acting for this account (aws:SourceArn or "
        f"aws:SourceAccount), may ({cite}). Found: {found}.{notes}",
    )


def reads_violation(readers: str, where: str = ARCHIVE_POLICY) -> tuple[str, str, str]:
    return (
        READS_RULE,
        M,
        f"Add to {where} of bucket 'spawn-audit-archive-bucket' a statement with Effect Deny, Principal *, "
        "Action s3:GetObject and s3:GetObjectVersion, Resource the bucket's objects, and Condition "
        "ArnNotLike aws:PrincipalArn [the auditor and break-glass role ARNs] with BoolIfExists "
        "aws:PrincipalIsAWSService false: reads of the audit logs must be limited to the named auditor "
        f"roles (PCI DSS 10.3.1); now also readable by: {readers}.",
    )


def key_violation(
    found: str, where: str = "the key policy of KMS key 'spawn-audit-kms-key'", urn_resource: str = "key"
) -> tuple[str, str, str]:
    return (
        KEY_RULE,
        M,
        f"Remove or narrow the statements of {where} that let anyone outside account {ACCOUNT} use or "
        f"administer the key; only this account's principals and roles, and AWS services acting for this "
        f"account (aws:SourceArn or aws:SourceAccount), may (45 CFR 164.312(a)(2)(iv), 45 CFR 164.312(a)(1), "
        f"PCI DSS 10.3.1, PCI DSS 10.3.2, SOC 2 CC6.1). Found: {found}.",
    )


def topic_violation(found: str, where: str) -> tuple[str, str, str]:
    return (
        TOPIC_RULE,
        M,
        f"Remove or narrow the statements of {where} that let anyone outside account {ACCOUNT} publish to, "
        f"subscribe to or administer the topic; only this account's principals and roles, and AWS services "
        f"acting for this account (aws:SourceArn or aws:SourceAccount), may (45 CFR 164.308(a)(1)(ii)(D), "
        f"PCI DSS 10.4.1.1, SOC 2 CC7.2, SOC 2 CC7.3). Found: {found}.",
    )


# --- mutations ---------------------------------------------------------------------------------------

Mutation = Callable[[list[R]], None]


def _edit_bucket_policy(change: Callable[[list[dict]], None], resource: str = archive("policy")) -> Mutation:
    def mutate(stack: list[R]) -> None:
        props = find(stack, resource).props
        document = json.loads(props["policy"])
        change(document["Statement"])
        props["policy"] = json.dumps(document)

    return mutate


def statement(statements: list[dict], sid: str) -> dict:
    return next(s for s in statements if s.get("Sid") == sid)


def add(*statements: dict) -> Mutation:
    return _edit_bucket_policy(lambda st: st.extend(statements))


def drop(sid: str) -> Mutation:
    return _edit_bucket_policy(lambda st: st.remove(next(s for s in st if s.get("Sid") == sid)))


def replace(sid: str, *statements: dict) -> Mutation:
    def change(st: list[dict]) -> None:
        i = next(i for i, s in enumerate(st) if s.get("Sid") == sid)
        st[i : i + 1] = list(statements)

    return _edit_bucket_policy(change)


def set_key(**props) -> Mutation:
    return lambda stack: find(stack, KEY_R).props.update(props)


def key_policy(*statements: dict) -> Mutation:
    root = {
        "Sid": "Root",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return set_key(policy=json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]}))


def topic_policy(*statements: dict, inline: bool = False) -> Mutation:
    """The alarms topic's policy document, the program's TopicPolicy or (``inline``) the topic's own
    ``policy`` argument beside it, made of ``statements``."""
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    def mutate(stack: list[R]) -> None:
        if inline:
            find(stack, ALERTS).props["policy"] = document
        else:
            find(stack, TOPIC_POLICY).props["policy"] = document

    return mutate


def preview(*mutations: Mutation, config: dict | None = None):
    stack = compliant_stack()
    for mutate in mutations:
        mutate(stack)
    pack = configured(config) if config is not None else Pack().configure(engine_config())
    return pack.preview(stack).summary()


READ_DENY = {
    "Sid": "DenyLogReadsExceptAuditors",
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
    "Resource": OBJECTS,
    "Condition": {
        "ArnNotLike": {"aws:PrincipalArn": [AUDITOR_ARN]},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
}
OTHER_ROOT = {"AWS": f"arn:aws:iam::{OTHER}:root"}
CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}


# --- the log bucket: who outside the account can read, delete, rewrite or reconfigure ----------------------

BUCKET_NEGATIVES = [
    # The program denies s3:DeleteObject and s3:DeleteObjectVersion to everyone (DenyLogDeletion); a
    # delete grant outside the account takes that statement's place.
    (
        "organization-may-delete",
        replace(
            "DenyLogDeletion",
            {
                "Sid": "OrgDelete",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": OBJECTS,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            }
        ),
        "delete (s3:DeleteObject: every principal of organization o-abc123, through statement 'OrgDelete')",
    ),
    (
        "other-account-may-delete-versions",
        replace(
            "DenyLogDeletion",
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": "s3:Delete*",
                "Resource": f"{BUCKET_ARN}/AWSLogs/*",
            }
        ),
        f"delete (s3:DeleteObject, s3:DeleteObjectVersion: principals of account {OTHER}, through statement "
        f"'Other')",
    ),
    (
        "anyone-may-replace-the-policy",
        add(
            {
                "Sid": "Anyone",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:PutBucketPolicy", "s3:PutLifecycleConfiguration"],
                "Resource": BUCKET_ARN,
            }
        ),
        "reconfigure (s3:PutBucketPolicy, s3:PutLifecycleConfiguration: every principal (*), through "
        "statement "
        "'Anyone')",
    ),
    (
        "other-account-may-bypass-the-lock",
        add(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": ["s3:BypassGovernanceRetention", "s3:PutObjectRetention"],
                "Resource": OBJECTS,
            }
        ),
        f"delete (s3:BypassGovernanceRetention: principals of account {OTHER}, through statement 'Other')",
    ),
    (
        "other-account-may-replicate-or-reopen-acls",
        add(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": ["s3:PutReplicationConfiguration", "s3:PutBucketOwnershipControls",
                           "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock",
                           "s3:PutEncryptionConfiguration"],
                "Resource": BUCKET_ARN,
            }
        ),
        f"reconfigure (s3:PutReplicationConfiguration, s3:PutBucketOwnershipControls, s3:PutBucketAcl, "
        f"s3:PutBucketPublicAccessBlock, s3:PutEncryptionConfiguration: principals of account {OTHER}, "
        f"through statement 'Other')",
    ),
    (
        "cloudtrail-write-without-source",
        _edit_bucket_policy(lambda st: statement(st, "AWSCloudTrailWrite").pop("Condition")),
        "rewrite (s3:PutObject: service cloudtrail.amazonaws.com acting for any account (no aws:SourceArn or "
        "aws:SourceAccount of this account), through statement 'AWSCloudTrailWrite')",
    ),
    (
        "cloudtrail-write-for-another-account",
        _edit_bucket_policy(
            lambda st: statement(st, "AWSCloudTrailWrite").update(
                Condition={"StringEquals": {"aws:SourceArn": TRAIL_ARN.replace(ACCOUNT, OTHER)}}
            )
        ),
        "rewrite (s3:PutObject: service cloudtrail.amazonaws.com acting for any account (no aws:SourceArn or "
        "aws:SourceAccount of this account), through statement 'AWSCloudTrailWrite')",
    ),
    (
        "principal-account-narrowed-to-another-account",
        add(
            {
                "Sid": "Narrowed",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": OBJECTS,
                "Condition": {"StringEquals": {"aws:PrincipalAccount": OTHER}},
            }
        ),
        f"rewrite (s3:PutObject: principals of account {OTHER}, through statement 'Narrowed')",
    ),
]


@pytest.mark.parametrize(
    "mutate,found", [c[1:] for c in BUCKET_NEGATIVES], ids=[c[0] for c in BUCKET_NEGATIVES]
)
def test_bucket_grant_outside_the_account_is_caught(mutate, found):
    assert preview(mutate) == [bucket_violation(found)]


def test_unknown_condition_is_ignored_in_an_allow_and_said_so():
    mutate = replace(
        "DenyLogDeletion",
        {
            "Sid": "Referer",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:DeleteObjectVersion",
            "Resource": OBJECTS,
            "Condition": {"StringEquals": {"aws:Referer": "https://example.com"}},
        }
    )
    assert preview(mutate) == [
        bucket_violation(
            "delete (s3:DeleteObjectVersion: every principal (*), through statement 'Referer')",
            " Judged conservatively: statement 'Referer': condition StringEquals aws:Referer is not "
            "understood by "
            "the pack; the grant is judged as if it were absent.",
        )
    ]


def test_unknown_condition_makes_a_deny_not_count_and_said_so():
    # The cross-account read is blocked by the auditor-only deny (see the positive below); a deny whose
    # condition the pack cannot read is judged as not applying, so the same grant is then reported.
    deny = {**READ_DENY, "Condition": {**READ_DENY["Condition"], "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    grant = {
        "Sid": "OtherRead",
        "Effect": "Allow",
        "Principal": OTHER_ROOT,
        "Action": "s3:GetObject",
        "Resource": OBJECTS,
    }
    result = preview(undeclared, replace("DenyLogReadsExceptAuditors", deny), add(grant), config=HIPAA)
    note = (
        " Judged conservatively: statement 'DenyLogReadsExceptAuditors': condition IpAddress aws:SourceIp "
        "is not understood by the pack; the deny is judged as not applying."
    )
    assert result == [
        bucket_violation(
            f"read (s3:GetObject: principals of account {OTHER}, through statement 'OtherRead')",
            note,
            cite="Security Hub S3.6, 45 CFR 164.312(a)(1), 45 CFR 164.312(c)(1)",
        )
    ]


BUCKET_EQUIVALENTS = [
    # Deny over Allow: the program's deletion deny reaches every principal, so a delete grant to
    # another account grants nothing.
    (
        "other-account-delete-is-denied",
        add(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": "s3:Delete*",
                "Resource": f"{BUCKET_ARN}/AWSLogs/*",
            }
        ),
    ),
    # Deny over Allow: the auditor-only read deny reaches every principal but the auditor, so another
    # account's read grant grants nothing.
    (
        "other-account-read-is-denied",
        add(
            {
                "Sid": "OtherRead",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": "s3:GetObject",
                "Resource": OBJECTS,
            }
        ),
    ),
    (
        "wildcard-principal-narrowed-to-this-account",
        add(
            {
                "Sid": "Account",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [BUCKET_ARN, OBJECTS],
                "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
            }
        ),
    ),
    (
        "wildcard-principal-narrowed-to-a-role-arn",
        add(
            {
                "Sid": "Role",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": OBJECTS,
                "Condition": {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"}},
            }
        ),
    ),
    (
        "cloudtrail-narrowed-by-source-account",
        _edit_bucket_policy(
            lambda st: statement(st, "AWSCloudTrailWrite").update(
                Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
        ),
    ),
    (
        "organization-grant-overridden-by-not-principal-deny",
        add(
            {
                "Sid": "OrgDelete",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": OBJECTS,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            },
            {
                "Sid": "OnlyThisAccountDeletes",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": ACCOUNT},
                "Action": "s3:Delete*",
                "Resource": f"{BUCKET_ARN}/*",
            },
        ),
    ),
    (
        "grant-on-another-prefix-cannot-touch-the-logs",
        add(
            {
                "Sid": "Scratch",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET_ARN}/scratch/*",
            }
        ),
    ),
]


@pytest.mark.parametrize("mutate", [c[1] for c in BUCKET_EQUIVALENTS], ids=[c[0] for c in BUCKET_EQUIVALENTS])
def test_bucket_grant_narrowed_to_the_account_passes(mutate):
    assert preview(mutate) == []


def test_every_bucket_policy_is_judged_as_if_it_were_the_one_in_force():
    # S3 keeps one policy per bucket (the last written): an exposure in a second document counts. The
    # second document is the program's with its deletion deny given over to another account's grant.
    def second_policy(stack: list[R]) -> None:
        document = json.loads(find(stack, archive("policy")).props["policy"])
        document["Statement"].remove(statement(document["Statement"], "DenyLogDeletion"))
        document["Statement"].append(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": "s3:DeleteObject",
                "Resource": OBJECTS,
            }
        )
        stack.append(
            R(
                "aws:s3/bucketPolicy:BucketPolicy",
                "spawn-audit-archive-bucket-policy-2",
                {"bucket": BUCKET_NAME, "policy": json.dumps(document)},
                {"bucket": [ARCHIVE]},
            )
        )

    result = preview(second_policy)
    assert result[-1] == DUPLICATE_POLICY  # S3 keeps one policy per bucket: the duplicate itself
    assert result[:-1] == [
        bucket_violation(
            f"delete (s3:DeleteObject: principals of account {OTHER}, through statement 'Other')",
            where="bucket policy 'spawn-audit-archive-bucket-policy-2'",
        )
    ]


def test_bucket_rule_is_not_applicable_in_the_sandbox():
    mutate = add(
        {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": OBJECTS}
    )
    assert preview(undeclared, mutate, config=for_all({"profiles": []})) == []


# --- pci-dss: reads limited to the named auditor roles ----------------------------------------------------


def test_missing_read_deny_is_caught():
    assert preview(drop("DenyLogReadsExceptAuditors")) == [
        reads_violation(
            f"s3:GetObject, s3:GetObjectVersion: every principal of account {ACCOUNT}, through IAM policies "
            f"of the "
            f"account"
        )
    ]


def test_read_deny_missing_an_action_is_caught():
    deny = {**READ_DENY, "Action": "s3:GetObject"}
    assert preview(replace("DenyLogReadsExceptAuditors", deny)) == [
        reads_violation(
            f"s3:GetObjectVersion: every principal of account {ACCOUNT}, through IAM policies of the account"
        )
    ]


def test_read_deny_sparing_every_role_is_caught():
    deny = {
        **READ_DENY,
        "Condition": {
            **READ_DENY["Condition"],
            "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"},
        },
    }
    assert preview(replace("DenyLogReadsExceptAuditors", deny)) == [
        reads_violation(
            f"s3:GetObject, s3:GetObjectVersion: arn:aws:iam::{ACCOUNT}:role/*, through IAM policies of the "
            f"account"
        )
    ]


def test_read_deny_on_a_prefix_that_misses_the_logs_is_caught():
    deny = {**READ_DENY, "Resource": f"{BUCKET_ARN}/reports/*"}
    assert preview(replace("DenyLogReadsExceptAuditors", deny)) == [
        reads_violation(
            f"s3:GetObject, s3:GetObjectVersion: every principal of account {ACCOUNT}, through IAM policies "
            f"of the "
            f"account"
        )
    ]


def test_second_bucket_policy_without_the_read_deny_is_caught():
    def second_policy(stack: list[R]) -> None:
        document = json.loads(find(stack, archive("policy")).props["policy"])
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyLogReadsExceptAuditors"]
        stack.append(
            R(
                "aws:s3/bucketPolicy:BucketPolicy",
                "spawn-audit-archive-bucket-policy-2",
                {"bucket": BUCKET_NAME, "policy": json.dumps(document)},
                {"bucket": [ARCHIVE]},
            )
        )

    result = preview(second_policy)
    assert result[-1] == DUPLICATE_POLICY  # S3 keeps one policy per bucket: the duplicate itself
    assert result[:-1] == [
        reads_violation(
            f"s3:GetObject, s3:GetObjectVersion: every principal of account {ACCOUNT}, through IAM policies "
            f"of the "
            f"account",
            where="bucket policy 'spawn-audit-archive-bucket-policy-2'",
        )
    ]


READ_DENY_EQUIVALENTS = [
    (
        "one-statement-per-action",
        replace(
            "DenyLogReadsExceptAuditors",
            {**READ_DENY, "Sid": "A", "Action": "s3:GetObject"},
            {**READ_DENY, "Sid": "B", "Action": "s3:GetObjectVersion"},
        ),
    ),
    ("action-wildcard", replace("DenyLogReadsExceptAuditors", {**READ_DENY, "Action": "s3:GetObject*"})),
    (
        "not-principal-form",
        replace(
            "DenyLogReadsExceptAuditors",
            {
                "Sid": "NotAuditor",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [AUDITOR_ARN]},
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{BUCKET_ARN}/AWSLogs/*",
            },
        ),
    ),
    (
        "arn-not-equals-without-service-exemption",
        replace(
            "DenyLogReadsExceptAuditors",
            {**READ_DENY, "Condition": {"ArnNotEquals": {"aws:PrincipalArn": AUDITOR_ARN}}},
        ),
    ),
]


@pytest.mark.parametrize(
    "mutate", [c[1] for c in READ_DENY_EQUIVALENTS], ids=[c[0] for c in READ_DENY_EQUIVALENTS]
)
def test_read_deny_written_differently_passes(mutate):
    assert preview(mutate) == []


def test_read_deny_is_not_required_without_pci_dss():
    assert preview(undeclared, drop("DenyLogReadsExceptAuditors"), config=HIPAA) == []


# --- TLS only, judged by effect ---------------------------------------------------------------------------

TLS = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_tls_deny_split_over_bucket_and_objects_passes():
    assert (
        preview(
            replace(
                "DenyInsecureTransport",
                {**TLS, "Sid": "Bucket", "Resource": BUCKET_ARN},
                {**TLS, "Sid": "Objects", "Resource": OBJECTS},
            )
        )
        == []
    )


def test_tls_deny_with_not_action_none_passes():
    assert (
        preview(
            replace(
                "DenyInsecureTransport",
                {**TLS, "Sid": "Tls", "Action": "*", "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"]},
            )
        )
        == []
    )


@pytest.mark.parametrize(
    "statements",
    [
        # Objects only under one prefix: requests for other keys are not denied.
        [
            {**TLS, "Sid": "Bucket", "Resource": BUCKET_ARN},
            {**TLS, "Sid": "Objects", "Resource": f"{BUCKET_ARN}/AWSLogs/*"},
        ],
        # A list of actions is not every action.
        [
            {
                **TLS,
                "Sid": "Tls",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [BUCKET_ARN, OBJECTS],
            }
        ],
        # Narrowed to principals of one account: every other principal may still use plain HTTP.
        [
            {
                **TLS,
                "Sid": "Tls",
                "Resource": [BUCKET_ARN, OBJECTS],
                "Condition": {**TLS["Condition"], "StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
            }
        ],
        # Denies only one principal.
        [{**TLS, "Sid": "Tls", "Principal": OTHER_ROOT, "Resource": [BUCKET_ARN, OBJECTS]}],
    ],
    ids=["objects-under-a-prefix", "action-list", "spares-the-account", "one-principal"],
)
def test_narrowed_tls_deny_is_caught(statements):
    assert preview(replace("DenyInsecureTransport", *statements)) == [
        ("aws-s3-bucket-tls-only", M, TLS_MESSAGE + ".")
    ]


def test_second_bucket_policy_without_tls_names_it():
    def second_policy(stack: list[R]) -> None:
        document = json.loads(find(stack, archive("policy")).props["policy"])
        document["Statement"] = [s for s in document["Statement"] if s["Sid"] != "DenyInsecureTransport"]
        stack.append(
            R(
                "aws:s3/bucketPolicy:BucketPolicy",
                "spawn-audit-archive-bucket-policy-2",
                {"bucket": BUCKET_NAME, "policy": json.dumps(document)},
                {"bucket": [ARCHIVE]},
            )
        )

    result = preview(second_policy)
    assert result[-1] == DUPLICATE_POLICY  # S3 keeps one policy per bucket: the duplicate itself
    assert result[:-1] == [
        (
            TLS_RULE,
            M,
            TLS_MESSAGE + " (bucket policy 'spawn-audit-archive-bucket-policy-2' has none; "
            "S3 keeps only the last bucket policy written).",
        )
    ]


# --- the trail's KMS key ------------------------------------------------------------------------------------

KEY_NEGATIVES = [
    (
        "everyone-kms-star",
        key_policy({"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
        "use (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey, kms:ReEncryptFrom, kms:CreateGrant: every "
        "principal "
        "(*), through statement 'All'); administer (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, "
        "kms:DisableKey, kms:DisableKeyRotation, kms:DeleteImportedKeyMaterial: "
        "every principal (*), through statement 'All')",
    ),
    (
        "other-account-decrypt",
        key_policy(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
            }
        ),
        f"use (kms:Decrypt: principals of account {OTHER}, through statement 'Other')",
    ),
    (
        "cloudwatch-without-source",
        key_policy(
            {
                "Sid": "Alarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            }
        ),
        "use (kms:Decrypt, kms:GenerateDataKey: service cloudwatch.amazonaws.com acting for any account (no "
        "aws:SourceArn or aws:SourceAccount of this account), through statement 'Alarms')",
    ),
    (
        "other-account-may-turn-rotation-off",
        key_policy(
            {
                "Sid": "Other",
                "Effect": "Allow",
                "Principal": OTHER_ROOT,
                "Action": ["kms:DisableKeyRotation", "kms:DeleteImportedKeyMaterial"],
                "Resource": "*",
            }
        ),
        f"administer (kms:DisableKeyRotation, kms:DeleteImportedKeyMaterial: principals of account {OTHER}, "
        f"through statement 'Other')",
    ),
    (
        "organization-may-administer",
        key_policy(
            {
                "Sid": "Org",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:PutKeyPolicy",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
            }
        ),
        "administer (kms:PutKeyPolicy: every principal of organization o-abc123, through statement 'Org')",
    ),
]


@pytest.mark.parametrize("mutate,found", [c[1:] for c in KEY_NEGATIVES], ids=[c[0] for c in KEY_NEGATIVES])
def test_key_use_outside_the_account_is_caught(mutate, found):
    assert preview(mutate) == [key_violation(found)]


def test_separate_key_policy_resource_is_judged():
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Other",
                    "Effect": "Allow",
                    "Principal": OTHER_ROOT,
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )

    def mutate(stack: list[R]) -> None:
        stack.append(
            R(
                "aws:kms/keyPolicy:KeyPolicy",
                "key-policy",
                {"keyId": "k", "policy": document},
                {"keyId": [KEY_R]},
            )
        )

    assert preview(mutate) == [
        key_violation(
            f"use (kms:Decrypt, kms:Encrypt, kms:GenerateDataKey, kms:ReEncryptFrom, kms:CreateGrant: "
            f"principals of "
            f"account {OTHER}, through statement 'Other'); administer (kms:PutKeyPolicy, "
            f"kms:ScheduleKeyDeletion, "
            f"kms:DisableKey, kms:DisableKeyRotation, kms:DeleteImportedKeyMaterial: principals of account "
            f"{OTHER}, through statement 'Other')",
            where="key policy 'key-policy' of KMS key 'spawn-audit-kms-key'",
        )
    ]


KEY_EQUIVALENTS = [
    (
        "everyone-narrowed-by-caller-account",
        key_policy(
            {
                "Sid": "Decrypt",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
            }
        ),
    ),
    (
        "cloudwatch-with-source-conditions",
        key_policy(
            {
                "Sid": "Alarms",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
                },
            }
        ),
    ),
    (
        "logs-with-encryption-context",
        key_policy(
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
                    }
                },
            }
        ),
    ),
    (
        "cloudtrail-by-source-arn",
        key_policy(
            {
                "Sid": "Trail",
                "Effect": "Allow",
                "Principal": CLOUDTRAIL,
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
            }
        ),
    ),
    ("no-key-policy-is-the-default-policy", lambda stack: find(stack, KEY_R).props.pop("policy")),
]


@pytest.mark.parametrize("mutate", [c[1] for c in KEY_EQUIVALENTS], ids=[c[0] for c in KEY_EQUIVALENTS])
def test_key_grant_narrowed_to_the_account_passes(mutate):
    assert preview(mutate) == []


@pytest.mark.parametrize("value", [False, "false"])
def test_disabled_trail_key_is_caught(value):
    assert preview(set_key(isEnabled=value)) == [
        (
            KEY_ENABLED,
            M,
            "Set isEnabled to true (or remove it; it defaults to true) on KMS key 'spawn-audit-kms-key': "
            "CloudTrail cannot deliver log files encrypted with a disabled key (45 CFR 164.312(b), PCI DSS "
            "10.2.1, SOC 2 CC7.2).",
        )
    ]


def test_enabled_key_passes_and_a_key_no_trail_uses_is_not_judged():
    def unrelated_disabled_key(stack: list[R]) -> None:
        stack.append(R("aws:kms/key:Key", "old-key", {"isEnabled": False, "enableKeyRotation": True}))

    assert preview(set_key(isEnabled=True), unrelated_disabled_key) == []


def test_trail_key_found_through_its_alias():
    # The trail names the program's alias (spawn-audit-kms-alias) by its ARN instead of the key.
    def through_alias(stack: list[R]) -> None:
        trail = find(stack, TRAIL_R)
        alias = find(stack, "spawn-audit-kms-alias").props["name"]
        trail.props["kmsKeyId"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:{alias}"
        trail.deps.pop("kmsKeyId")

    assert [d[0] for d in preview(through_alias, set_key(isEnabled=False))] == [KEY_ENABLED]


# --- the alarm topic ----------------------------------------------------------------------------------------


def test_topic_open_to_everyone_is_caught():
    mutate = topic_policy(
        {
            "Sid": "Anyone",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["sns:Publish", "sns:Subscribe"],
            "Resource": TOPIC_ARN,
        }
    )
    assert preview(mutate) == [
        topic_violation(
            "publish to (sns:Publish: every principal (*), through statement 'Anyone'); subscribe to "
            "(sns:Subscribe: "
            "every principal (*), through statement 'Anyone')",
            where="topic policy 'spawn-audit-alarms-topic-policy' of topic 'spawn-audit-alarms-topic'",
        )
    ]


def test_inline_topic_policy_with_unconditioned_cloudwatch_is_caught():
    mutate = topic_policy(
        {
            "Sid": "Alarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
        },
        inline=True,
    )
    assert preview(mutate) == [
        topic_violation(
            "publish to (sns:Publish: service cloudwatch.amazonaws.com acting for any account (no "
            "aws:SourceArn or "
            "aws:SourceAccount of this account), through statement 'Alarms')",
            where="the inline policy of topic 'spawn-audit-alarms-topic'",
        )
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Sid": "Alarms",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"}},
        },
        {
            "Sid": "Owner",
            "Effect": "Allow",
            "Principal": {"AWS": ACCOUNT},
            "Action": "SNS:*",
            "Resource": TOPIC_ARN,
        },
        {
            "Sid": "Owner",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["sns:Publish", "sns:Subscribe"],
            "Resource": TOPIC_ARN,
            "Condition": {"StringEquals": {"aws:SourceOwner": ACCOUNT}},
        },
    ],
    ids=["cloudwatch-by-alarm-arn", "account-root", "sns-default-policy-form"],
)
def test_topic_grant_narrowed_to_the_account_passes(statement):
    assert preview(topic_policy(statement)) == []


# --- grants on the trail's key: a second way to use it besides the key policy ------------------------------

def grant(grantee: str, *operations: str) -> Mutation:
    # keyId is the key's ARN, an output unknown during preview, with the dependency the engine records.
    return lambda stack: stack.append(R("aws:kms/grant:Grant", "log-reader-grant", {
        "keyId": UNKNOWN_STRING_VALUE, "granteePrincipal": grantee, "operations": list(operations)},
        {"keyId": [KEY_R]}))


def test_grant_to_another_account_is_caught():
    assert preview(grant(f"arn:aws:iam::{OTHER}:role/LogReader", "Decrypt", "DescribeKey")) == [(
        KEY_RULE, M,
        "Remove grant 'log-reader-grant' on KMS key 'spawn-audit-kms-key' or give it to a principal of "
        f"account {ACCOUNT}: a grant lets its grantee use the key whatever the key policy says, and only "
        "this account's principals and roles may (45 CFR 164.312(a)(2)(iv), 45 CFR 164.312(a)(1), PCI DSS "
        f"10.3.1, PCI DSS 10.3.2, SOC 2 CC6.1). Found: kms:Decrypt: principals of account {OTHER}.",
    )]


@pytest.mark.parametrize("mutate", [
    grant(f"arn:aws:iam::{ACCOUNT}:role/LogReader", "Decrypt"),
    grant(f"arn:aws:iam::{OTHER}:role/Inventory", "DescribeKey"),
], ids=["same-account-grantee", "no-use-operation"])
def test_grant_within_the_account_or_without_use_passes(mutate):
    assert preview(mutate) == []


# --- replication: a copy of every new log file, whatever the bucket policy says ----------------------------

def replicate(destination: dict, replica_in_stack: bool = False) -> Mutation:
    def mutate(stack: list[R]) -> None:
        if replica_in_stack:
            replica = R("aws:s3/bucket:Bucket", "replica", {"bucket": "spawn-audit-replica"}, protect=True)
            stack.append(replica)
        stack.append(R("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "archive-replication", {
            "bucket": BUCKET_NAME, "role": f"arn:aws:iam::{ACCOUNT}:role/replication",
            "rules": [{"id": "copy", "status": "Enabled", "filter": {}, "destination": destination}]},
            {"bucket": [ARCHIVE]}))
    return mutate


def replication_violation(target: str, where: str) -> tuple[str, str, str]:
    return (BUCKET_RULE, M,
            "Replicate bucket 'spawn-audit-archive-bucket' only to a bucket of this stack, or set "
            "destination.account to this account, in replication configuration 'archive-replication': rule "
            f"copy copies the logs to {target} in {where}, outside the account's access control "
            f"({BUCKET_CITE}).")


@pytest.mark.parametrize("destination,where", [
    ({"bucket": "arn:aws:s3:::elsewhere", "account": OTHER}, f"account {OTHER}"),
    ({"bucket": "arn:aws:s3:::elsewhere"}, "an account this stack cannot tell"),
], ids=["other-account", "account-not-stated"])
def test_replication_out_of_the_account_is_caught(destination, where):
    assert preview(replicate(destination)) == [replication_violation("arn:aws:s3:::elsewhere", where)]


@pytest.mark.parametrize("mutate", [
    replicate({"bucket": "arn:aws:s3:::spawn-audit-replica"}, replica_in_stack=True),
    replicate({"bucket": "arn:aws:s3:::elsewhere", "account": ACCOUNT}),
], ids=["replica-in-stack", "same-account"])
def test_replication_within_the_account_passes(mutate):
    assert preview(mutate) == []


# --- the trail's log group: a subscription filter streams every event to its destination -------------------

EXPORT_RULE = "aws-cloudwatch-log-group-no-outside-export"


def subscribe(destination: str, depends_on: str | None = None) -> Mutation:
    def mutate(stack: list[R]) -> None:
        deps = {"logGroup": [LOG_GROUP_R]}
        if depends_on:
            stack.append(R("aws:kinesis/stream:Stream", depends_on, {"name": "spawn-audit-events"}))
            deps["destinationArn"] = [depends_on]
        stack.append(R("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "log-group-export", {
            "name": "export", "logGroup": LOG_GROUP_NAME, "filterPattern": "",
            "destinationArn": destination}, deps))
    return mutate


def test_log_group_streamed_to_another_account_is_caught():
    destination = f"arn:aws:logs:{REGION}:{OTHER}:destination:collector"
    assert preview(subscribe(destination)) == [(
        EXPORT_RULE, M,
        "Point subscription filter 'log-group-export' on log group 'spawn-audit-delivery-log-group' at a "
        f"destination of account {ACCOUNT}, or remove it: it streams every CloudTrail event of the log group "
        f"to {destination} in account {OTHER}, outside the account's access control (45 CFR 164.312(a)(1), "
        "PCI DSS 10.3.1, SOC 2 CC6.1).",
    )]


@pytest.mark.parametrize("mutate", [
    subscribe(f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/spawn-audit-events"),
    subscribe(UNKNOWN_STRING_VALUE, depends_on="events-stream"),
], ids=["same-account-arn", "stream-of-this-stack"])
def test_log_group_streamed_within_the_account_passes(mutate):
    assert preview(mutate) == []
