-- The latest failures in the window (reason is redacted in storage).
SELECT toDateTime(time) AS at, client_id, class, rule, source, oauth_error, reason
FROM {db}.events FINAL
WHERE outcome = 'failure' AND time >= toDateTime({start}) AND time < toDateTime({end})
ORDER BY at DESC, kafka_topic DESC, kafka_partition DESC, kafka_offset DESC, kafka_seq DESC
LIMIT {limit}
