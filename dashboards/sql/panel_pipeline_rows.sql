-- Rows stored per minute by outcome, from the events_1m rollup.
SELECT minute AS t, toString(outcome) AS kind, sum(events) AS stored
FROM {db}.events_1m
WHERE minute >= toStartOfMinute(toDateTime({start})) AND minute < toDateTime({end})
GROUP BY t, kind
ORDER BY t, kind
