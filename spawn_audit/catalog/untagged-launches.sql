-- name: untagged-launches
-- description: One row per RunInstances call whose request carries no spawn:managed tag in any tag specification (the spawn-unmanaged-launch alarm's events).
-- parameters: start, end, account, region
SELECT
  eventtime,
  useridentity.arn AS user_arn,
  awsregion,
  json_extract_scalar(requestparameters, '$.instanceType') AS instance_type,
  errorcode,
  eventid
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND eventsource = 'ec2.amazonaws.com'
  AND eventname = 'RunInstances'
  AND NOT EXISTS (
    SELECT 1
    FROM UNNEST(CAST(json_extract(requestparameters, '$.tagSpecificationSet.items') AS ARRAY(JSON))) AS s (spec)
    CROSS JOIN UNNEST(CAST(json_extract(spec, '$.tags') AS ARRAY(JSON))) AS t (tag)
    WHERE json_extract_scalar(tag, '$.key') = 'spawn:managed'
  )
ORDER BY eventtime, eventid
