-- name: launches-by-user
-- description: RunInstances calls per user ARN in the date range, refused calls included (errorcode set), the seed's `jq ... | sort | uniq -c` count.
-- parameters: start, end, account, region
SELECT
  useridentity.arn AS user_arn,
  count(*) AS launches
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'RunInstances'
GROUP BY useridentity.arn
ORDER BY launches DESC, user_arn
