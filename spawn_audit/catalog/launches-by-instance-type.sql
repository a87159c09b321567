-- name: launches-by-instance-type
-- description: spawn-managed RunInstances calls (tag spawn:managed in any tag specification, at any position) per instance type and user ARN: the seed's cost query.
-- parameters: start, end, account, region
SELECT
  json_extract_scalar(requestparameters, '$.instanceType') AS instance_type,
  useridentity.arn AS user_arn,
  count(*) AS launches
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'RunInstances'
  AND EXISTS (
    SELECT 1
    FROM UNNEST(CAST(json_extract(requestparameters, '$.tagSpecificationSet.items') AS ARRAY(JSON))) AS s (spec)
    CROSS JOIN UNNEST(CAST(json_extract(spec, '$.tags') AS ARRAY(JSON))) AS t (tag)
    WHERE json_extract_scalar(tag, '$.key') = 'spawn:managed'
  )
GROUP BY json_extract_scalar(requestparameters, '$.instanceType'), useridentity.arn
ORDER BY launches DESC, instance_type, user_arn
