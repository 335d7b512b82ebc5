-- Failures per minute of one client by class, from the events_1m rollup.
SELECT minute AS t, class, sum(events) AS failures
FROM {db}.events_1m
WHERE outcome = 'failure' AND client_id = {client}
    AND minute >= toStartOfMinute(toDateTime({start})) AND minute < toDateTime({end})
GROUP BY t, class
ORDER BY t, class
