-- The most recent failures of one client in the window (reason is redacted in
-- storage), each with the one-line fix of its class.
SELECT at, class, rule, source, oauth_error, reason, fix_line
FROM
(
    SELECT toDateTime(time) AS at, class, rule, source, oauth_error, reason,
        kafka_topic, kafka_partition, kafka_offset, kafka_seq
    FROM {db}.events FINAL
    WHERE outcome = 'failure' AND client_id = {client}
        AND time >= toDateTime({start}) AND time < toDateTime({end})
    ORDER BY at DESC, kafka_topic DESC, kafka_partition DESC, kafka_offset DESC, kafka_seq DESC
    LIMIT {limit}
) AS e
ANY LEFT JOIN
(
    SELECT id AS class, fix_line FROM {db}.classes FINAL
) AS c USING class
ORDER BY at DESC, kafka_topic DESC, kafka_partition DESC, kafka_offset DESC, kafka_seq DESC
