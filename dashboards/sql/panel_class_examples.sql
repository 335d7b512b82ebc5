-- The newest failures of one class in the window, with the evidence the
-- classifier used (reason is redacted in storage).
SELECT time, client_id, source, oauth_error, rule, decision, evidence, endpoint, status, reason, trace_id
FROM {db}.events FINAL
WHERE outcome = 'failure' AND class = {class}
    AND time >= toDateTime({start}) AND time < toDateTime({end})
ORDER BY time DESC
LIMIT {limit}
