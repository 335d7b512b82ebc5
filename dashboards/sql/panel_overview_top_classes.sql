-- Failures per class in the window from the per-minute rollup, joined to the
-- catalog's owner, title and one-line fix.
SELECT class, failures, clients, owner, title, fix_line
FROM
(
    SELECT class, sum(events) AS failures, uniqExact(client_id) AS clients
    FROM {db}.events_1m
    WHERE outcome = 'failure'
        AND minute >= toStartOfMinute(toDateTime({start})) AND minute < toDateTime({end})
    GROUP BY class
) AS e
ANY LEFT JOIN
(
    SELECT id AS class, owner, title, fix_line
    FROM {db}.classes FINAL
) AS c USING class
ORDER BY failures DESC, class
LIMIT {limit}
