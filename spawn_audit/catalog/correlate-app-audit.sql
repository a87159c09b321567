-- name: correlate-app-audit
-- description: spawn's launch_instances audit records joined with the RunInstances calls they caused, on principal (user_id = userIdentity.arn), region, instance type and a 5-minute window. CloudTrail's requestID is assigned by AWS and spawn's correlation_id never reaches CloudTrail, so they cannot be joined; a record with several candidates lists each.
-- parameters: start, end, account, region
SELECT
  a.correlation_id,
  a."timestamp" AS app_time,
  c.eventtime,
  a.user_id AS user_arn,
  c.awsregion,
  a.instance_type,
  c.errorcode,
  c.eventid
FROM spawn_app_audit AS a
JOIN cloudtrail_logs AS c
  ON c.useridentity.arn = a.user_id
  AND c.awsregion = a.region
  AND json_extract_scalar(c.requestparameters, '$.instanceType') = a.instance_type
  AND abs(date_diff('second', from_iso8601_timestamp(a."timestamp"), from_iso8601_timestamp(c.eventtime))) <= 300
WHERE c.day BETWEEN ? AND ?
  AND c.account LIKE ?
  AND c.region LIKE ?
  AND a.operation = 'launch_instances'
  AND c.eventsource = 'ec2.amazonaws.com'
  AND c.eventname = 'RunInstances'
ORDER BY a."timestamp", a.correlation_id, c.eventtime, c.eventid
