-- name: console-signins-without-mfa
-- description: Successful console sign-ins of IAM users without MFA (CIS AWS Foundations 4.2 / Security Hub CloudWatch.3 filter); a missing MFAUsed counts as no MFA.
-- parameters: start, end, account, region
SELECT
  eventtime,
  useridentity.arn AS user_arn,
  sourceipaddress,
  awsregion,
  eventid
FROM cloudtrail_logs
WHERE day BETWEEN ? AND ?
  AND account LIKE ?
  AND region LIKE ?
  AND eventname = 'ConsoleLogin'
  AND useridentity.type = 'IAMUser'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
  AND coalesce(json_extract_scalar(additionaleventdata, '$.MFAUsed'), '') <> 'Yes'
ORDER BY eventtime, eventid
