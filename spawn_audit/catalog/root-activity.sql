-- name: root-activity
-- description: Calls made by the root user itself, not by a service on its behalf (CIS AWS Foundations 4.3 / Security Hub CloudWatch.1 filter).
-- parameters: start, end, account, region
SELECT
  eventtime,
  eventsource,
  eventname,
  sourceipaddress,
  awsregion,
  errorcode,
  eventid
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND coalesce(eventtype, '') <> 'AwsServiceEvent'
ORDER BY eventtime, eventid
