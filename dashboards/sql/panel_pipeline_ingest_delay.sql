-- The newest event time and ingest time stored in the window and the delay
-- between them (max is exact without FINAL).
SELECT max(time) AS newest_event, max(ingest_time) AS newest_ingest,
       toInt64(max(ingest_time)) - toInt64(max(time)) AS delay_seconds
FROM {db}.events
WHERE time >= toDateTime({start}) AND time < toDateTime({end})
