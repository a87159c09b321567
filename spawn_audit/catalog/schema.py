"""The CloudTrail table's columns, once, for both engines.

Follows the AWS Athena User Guide, "Create the table for CloudTrail logs in Athena using partition
projection" (``CREATE EXTERNAL TABLE cloudtrail_logs_pp``): lowercase column names, nested records
as structs, and ``requestparameters``, ``responseelements``, ``additionaleventdata``,
``serviceeventdetails`` and ``edgedevicedetails`` as JSON *strings* (their shape differs per API).
Each field also records its case-sensitive key in the CloudTrail record (CloudTrail User Guide,
"CloudTrail record contents"), which the local engine needs because its JSON reader matches keys
exactly. ``components/analytics.py`` turns this into Glue columns, ``spawn_audit.localdb`` into a
DuckDB read schema and view.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Struct:
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Array:
    item: Type


# "string": a scalar kept as text; "json": an object kept as its JSON text; "map": map<string,string>;
# "bigint": a whole number.
Type = str | Struct | Array


@dataclass(frozen=True)
class Field:
    name: str  # the Athena column / struct field name (lowercase)
    key: str  # the key in the CloudTrail JSON record
    type: Type = "string"


def _s(*fields: Field) -> Struct:
    return Struct(tuple(fields))


def F(key: str, type_: Type = "string") -> Field:  # noqa: N802 - reads like a table row
    return Field(key.lower(), key, type_)


COLUMNS: tuple[Field, ...] = (
    F("eventVersion"),
    F("userIdentity", _s(
        F("type"), F("principalId"), F("arn"), F("accountId"), F("invokedBy"), F("accessKeyId"),
        F("userName"),
        F("onBehalfOf", _s(F("userId"), F("identityStoreArn"))),
        F("sessionContext", _s(
            F("attributes", _s(F("mfaAuthenticated"), F("creationDate"))),
            F("sessionIssuer", _s(F("type"), F("principalId"), F("arn"), F("accountId"), F("userName"))),
            F("ec2RoleDelivery"),
            F("webIdFederationData", _s(F("federatedProvider"), F("attributes", "map"))),
        )),
    )),
    F("eventTime"),
    F("eventSource"),
    F("eventName"),
    F("awsRegion"),
    F("sourceIPAddress"),
    F("userAgent"),
    F("errorCode"),
    F("errorMessage"),
    F("requestParameters", "json"),
    F("responseElements", "json"),
    F("additionalEventData", "json"),
    F("requestID"),
    F("eventID"),
    F("readOnly"),
    F("resources", Array(_s(F("ARN"), F("accountId"), F("type")))),
    F("eventType"),
    F("apiVersion"),
    F("recipientAccountId"),
    F("serviceEventDetails", "json"),
    F("sharedEventID"),
    F("vpcEndpointId"),
    F("vpcEndpointAccountId"),
    F("eventCategory"),
    F("addendum", _s(F("reason"), F("updatedFields"), F("originalRequestID"), F("originalEventID"))),
    F("sessionCredentialFromConsole"),
    F("edgeDeviceDetails", "json"),
    F("tlsDetails", _s(F("tlsVersion"), F("cipherSuite"), F("clientProvidedHostHeader"))),
)

# Partition columns, in the order of the S3 key: AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/<day>/.
PARTITION_COLUMNS: tuple[str, ...] = ("account", "region", "day")

# spawn's application audit records (pkg/audit), as its docs show them.
APP_AUDIT_COLUMNS: tuple[Field, ...] = tuple(
    Field(k, k) for k in ("timestamp", "level", "operation", "user_id", "instance_type", "region",
                          "correlation_id", "result")
) + (Field("count", "count", "bigint"),)


def hive_type(t: Type) -> str:
    """The Glue / Hive DDL type string."""
    if isinstance(t, Struct):
        return "struct<" + ",".join(f"{f.name}:{hive_type(f.type)}" for f in t.fields) + ">"
    if isinstance(t, Array):
        return f"array<{hive_type(t.item)}>"
    if t == "map":
        return "map<string,string>"
    if t == "bigint":
        return "bigint"
    return "string"
