-- The failure classes of one client in the window: exact counts, first and last
-- seen, the one-line fix.
SELECT class, n, first_seen, last_seen, fix_line
FROM
(
    SELECT
        class,
        count() AS n,
        min(toDateTime(time)) AS first_seen,
        max(toDateTime(time)) AS last_seen
    FROM {db}.events FINAL
    WHERE outcome = 'failure' AND client_id = {client}
        AND time >= toDateTime({start}) AND time < toDateTime({end})
    GROUP BY class
) AS e
ANY LEFT JOIN
(
    SELECT id AS class, fix_line FROM {db}.classes FINAL
) AS c USING class
ORDER BY n DESC, class
LIMIT {limit}
