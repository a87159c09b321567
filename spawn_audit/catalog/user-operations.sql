-- name: user-operations
-- description: One user's calls to the services spawn drives (EC2, IAM, DynamoDB, Lambda, S3) in the date range, oldest first: the seed's lookup-events by user, without its 90-day window.
-- parameters: start, end, account, region, user
SELECT
  eventtime,
  eventsource,
  eventname,
  awsregion,
  errorcode,
  eventid
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND useridentity.arn = ?
  AND eventsource IN (
    'ec2.amazonaws.com', 'iam.amazonaws.com', 'dynamodb.amazonaws.com',
    'lambda.amazonaws.com', 's3.amazonaws.com'
  )
ORDER BY eventtime, eventid
