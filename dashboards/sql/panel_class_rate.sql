-- Failures per minute of one class by source, from the events_1m rollup.
SELECT minute AS t, source, sum(events) AS failures
FROM {db}.events_1m
WHERE outcome = 'failure' AND class = {class}
    AND minute >= toStartOfMinute(toDateTime({start})) AND minute < toDateTime({end})
GROUP BY t, source
ORDER BY t, source
