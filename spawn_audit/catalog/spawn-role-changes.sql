-- name: spawn-role-changes
-- description: Changes to IAM roles named spawn-*: every role-changing IAM call the spawn-iam-role-change alarm watches (create, delete, update, inline and attached policies, trust policy, permissions boundary, tags). IAM is global: its events are written under us-east-1.
-- parameters: start, end, account, region
SELECT
  eventtime,
  useridentity.arn AS user_arn,
  eventname,
  json_extract_scalar(requestparameters, '$.roleName') AS role_name,
  errorcode,
  eventid
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN (
    'CreateRole', 'PutRolePolicy', 'AttachRolePolicy',
    'DeleteRolePolicy', 'DetachRolePolicy', 'UpdateAssumeRolePolicy',
    'DeleteRole', 'UpdateRole', 'UpdateRoleDescription',
    'PutRolePermissionsBoundary', 'DeleteRolePermissionsBoundary', 'TagRole', 'UntagRole'
  )
  AND json_extract_scalar(requestparameters, '$.roleName') LIKE 'spawn-%'
ORDER BY eventtime, eventid
