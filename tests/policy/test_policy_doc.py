"""The policy-document evaluator on its own: matching, normalisation, conditions, Deny over Allow.

The rules that use it are tested through the Analyzer (``test_policy_access``); these tests pin the
evaluation facts themselves, each against the IAM User Guide page that states it.
"""

from __future__ import annotations

import pytest
from audit_policies import policy_doc as pd

ACCOUNT = "111122223333"
OTHER = "999988887777"
BUCKET = "arn:aws:s3:::logs"
LOGS = pd.Target(f"{BUCKET}/AWSLogs/", prefix=True)
ALLOWED = pd.Allowed(frozenset({ACCOUNT}))


def who(statements: list[dict], action: str = "s3:GetObject", target: pd.Target = LOGS,
        allowed: pd.Allowed = ALLOWED, implicit=()) -> list[str]:
    notes = pd.Notes()
    found = pd.exposures(pd.parse({"Statement": statements}), [action], target, allowed, notes, implicit)
    return [e.who for e in found]


def allow(principal, action="s3:GetObject", resource=f"{BUCKET}/*", **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


# --- wildcards (IAM JSON policy elements: Action, Resource) ------------------------------------------------

@pytest.mark.parametrize("pattern,value,ignore_case,expected", [
    ("s3:Get*", "s3:GetObject", True, True),
    ("S3:GETOBJECT", "s3:GetObject", True, True),  # action names are case-insensitive
    ("arn:aws:s3:::Logs/*", "arn:aws:s3:::logs/x", False, False),  # ARNs are case-sensitive
    ("s3:Get?bject", "s3:GetObject", True, True),
    ("arn:aws:s3:::logs[1]/*", "arn:aws:s3:::logs[1]/x", False, True),  # brackets are literal in IAM
    ("arn:aws:s3:::logs[1]/*", "arn:aws:s3:::logs1/x", False, False),
])
def test_iam_wildcards(pattern, value, ignore_case, expected):
    assert pd.matches(pattern, value, ignore_case=ignore_case) is expected


def test_prefix_coverage_and_overlap():
    assert pd.covers_prefix("arn:aws:s3:::logs/*", "arn:aws:s3:::logs/AWSLogs/")
    assert pd.covers_prefix("arn:aws:s3:::log*", "arn:aws:s3:::logs/AWSLogs/")
    assert not pd.covers_prefix("arn:aws:s3:::logs/AWSLogs/1111*/x", "arn:aws:s3:::logs/AWSLogs/")
    assert pd.may_match_prefix("arn:aws:s3:::logs/AWSLogs/1111*", "arn:aws:s3:::logs/AWSLogs/")
    # The bucket itself, not its objects:
    assert not pd.may_match_prefix("arn:aws:s3:::logs", "arn:aws:s3:::logs/AWSLogs/")
    assert not pd.may_match_prefix("arn:aws:s3:::logs/scratch/*", "arn:aws:s3:::logs/AWSLogs/")


def test_arn_account():
    assert pd.arn_account(f"arn:aws:iam::{ACCOUNT}:role/x") == ACCOUNT
    assert pd.arn_account(ACCOUNT) == ACCOUNT
    assert pd.arn_account("arn:aws:iam::*:role/x") is None
    assert pd.arn_account("arn:aws:s3:::bucket") is None


# --- normalisation ---------------------------------------------------------------------------------------

def test_principal_and_string_or_list_forms_are_equivalent():
    forms = [
        allow("*"),
        allow({"AWS": "*"}),
        allow({"AWS": ["*"]}, action=["s3:GetObject"], resource=[f"{BUCKET}/*"]),
    ]
    assert {tuple(who([f])) for f in forms} == {("every principal (*)",)}


def test_split_statements_equal_one_statement():
    one = [allow({"AWS": OTHER}, action=["s3:GetObject", "s3:DeleteObject"])]
    split = [allow({"AWS": OTHER}), allow({"AWS": OTHER}, action="s3:DeleteObject")]
    for action in ("s3:GetObject", "s3:DeleteObject"):
        assert who(one, action) == who(split, action) == [f"principals of account {OTHER}"]


def test_not_action_and_not_resource_grant_everything_else():
    grant = {"Effect": "Allow", "Principal": {"AWS": OTHER}, "NotAction": "s3:Delete*", "NotResource": BUCKET}
    assert who([grant], "s3:GetObject") == [f"principals of account {OTHER}"]
    assert who([grant], "s3:DeleteObject") == []


# --- Deny over Allow (IAM User Guide, "Policy evaluation logic") -------------------------------------------

def test_unconditional_deny_overrides_allow():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*"}
    assert who([allow("*"), deny]) == []


def test_deny_sparing_this_account_leaves_only_this_account():
    # A negated operator holds when the key is absent or different: the deny reaches every principal of
    # another account, and spares this one (IAM condition operators: negated matching).
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}}
    assert who([allow("*"), deny]) == []
    assert who([allow({"AWS": OTHER}), deny]) == []


def test_tls_deny_does_not_hide_a_grant():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert who([allow({"AWS": OTHER}), deny]) == [f"principals of account {OTHER}"]


def test_deny_naming_one_principal_spares_the_others():
    deny = {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:role/a"}, "Action": "s3:*",
            "Resource": f"{BUCKET}/*"}
    assert who([allow({"AWS": OTHER}), deny]) == [f"principals of account {OTHER}"]
    assert who([allow({"AWS": f"arn:aws:iam::{OTHER}:role/a"}), deny]) == []


# --- conditions that narrow a grant ------------------------------------------------------------------------

@pytest.mark.parametrize("condition,expected", [
    ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, []),
    ({"StringEquals": {"aws:PrincipalAccount": OTHER}}, [f"principals of account {OTHER}"]),
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, []),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/auditor"}}, ["every principal (*)"]),
    ({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": [ACCOUNT]}}, []),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, ["every principal of organization o-abc"]),
    # IfExists and ForAllValues hold when the key is absent: they narrow nobody for certain.
    ({"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}, ["every principal (*)"]),
    ({"ForAllValues:StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, ["every principal (*)"]),
    ({"StringNotEquals": {"aws:PrincipalAccount": OTHER}}, ["every principal (*)"]),
])
def test_conditions_on_a_wildcard_grant(condition, expected):
    assert who([allow("*", Condition=condition)]) == expected


@pytest.mark.parametrize("principal,condition,expected", [
    ({"Service": "cloudtrail.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, []),
    ({"Service": "cloudtrail.amazonaws.com"},
     {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t"}}, []),
    ({"Service": "cloudtrail.amazonaws.com"},
     {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}},
     ["service cloudtrail.amazonaws.com acting for any account (no aws:SourceArn or aws:SourceAccount of "
      "this account)"]),
    ({"Service": "cloudtrail.amazonaws.com"}, None,
     ["service cloudtrail.amazonaws.com acting for any account (no aws:SourceArn or aws:SourceAccount of "
      "this account)"]),
    ("*", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, []),  # only services carry aws:SourceAccount
])
def test_service_principals_must_act_for_this_account(principal, condition, expected):
    statement = allow(principal, action="s3:PutObject")
    if condition:
        statement["Condition"] = condition
    assert who([statement], "s3:PutObject") == expected


def test_unknown_condition_is_conservative_and_noted():
    notes = pd.Notes()
    statements = pd.parse({"Statement": [
        allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*",
         "Condition": {"StringEquals": {"aws:RequestTag/x": "y"}}},
    ]})
    found = pd.exposures(statements, ["s3:GetObject"], LOGS, ALLOWED, notes)
    assert [e.who for e in found] == ["every principal (*)"]
    assert notes.items == [
        "statement #1: condition IpAddress aws:SourceIp is not understood by the pack; the grant is "
        "judged as if it were absent",
        "statement #2: condition StringEquals aws:RequestTag/x is not understood by the pack; the deny is "
        "judged as not applying",
    ]


# --- named roles only (reads limited to auditors) ---------------------------------------------------------

AUDITOR = f"arn:aws:iam::{ACCOUNT}:role/auditor"
NAMED = pd.Allowed(frozenset({ACCOUNT}), named_only=True)
ACCOUNT_PRINCIPALS = [pd.principal_scope(pd.Principal("AWS", ACCOUNT))]
READ_DENY = {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": f"{BUCKET}/*",
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": [AUDITOR]},
                           "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}


def test_iam_policies_of_the_account_read_unless_denied():
    assert who([], allowed=NAMED, implicit=ACCOUNT_PRINCIPALS) == [f"every principal of account {ACCOUNT}"]
    assert who([READ_DENY], allowed=NAMED, implicit=ACCOUNT_PRINCIPALS) == []
    assert who([READ_DENY], "s3:GetObjectVersion", allowed=NAMED, implicit=ACCOUNT_PRINCIPALS) == []


def test_services_are_not_spared_by_a_principal_arn_exemption():
    # Without aws:PrincipalIsAWSService, a service principal (no aws:PrincipalArn) is denied too: safe.
    deny = {**READ_DENY, "Condition": {"ArnNotLike": {"aws:PrincipalArn": [AUDITOR]}}}
    grant = allow({"Service": "cloudtrail.amazonaws.com"})
    assert who([grant, deny], allowed=NAMED) == []
    # With it, an unconditioned service grant survives the deny and is reported.
    assert who([grant, READ_DENY], allowed=NAMED) == [
        "service cloudtrail.amazonaws.com acting for any account (no aws:SourceArn or aws:SourceAccount of "
        "this account)"]


# --- TLS ---------------------------------------------------------------------------------------------------

TLS = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("statements,expected", [
    ([{**TLS, "Resource": [BUCKET, f"{BUCKET}/*"]}], True),
    ([{**TLS, "Resource": BUCKET}, {**TLS, "Resource": f"{BUCKET}/*"}], True),
    ([{**TLS, "Action": "*", "Resource": "*"}], True),
    ([{**TLS, "Condition": {"BoolIfExists": {"aws:SecureTransport": ["false"]}},
       "Resource": "arn:aws:s3:::log*"}], True),
    ([{**TLS, "Resource": BUCKET}], False),
    ([{**TLS, "Action": "s3:Get*", "Resource": [BUCKET, f"{BUCKET}/*"]}], False),
    ([{**TLS, "NotPrincipal": {"AWS": ACCOUNT}, "Principal": None,
       "Resource": [BUCKET, f"{BUCKET}/*"]}], False),
    ([{**TLS, "Resource": [BUCKET, f"{BUCKET}/*"],
       "Condition": {**TLS["Condition"], "StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}], False),
], ids=["one", "split", "everything", "wildcard-bucket", "bucket-only", "some-actions", "not-principal",
        "one-account"])
def test_denies_all_insecure(statements, expected):
    parsed = pd.parse({"Statement": [{k: v for k, v in s.items() if v is not None} for s in statements]})
    notes = pd.Notes()
    assert all(pd.denies_all_insecure(parsed, "s3", t, notes)
               for t in (pd.Target(BUCKET), pd.Target(f"{BUCKET}/", prefix=True))) is expected
