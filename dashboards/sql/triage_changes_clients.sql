-- Failure rate per (client, class) in the window against the baseline window
-- just before it, the biggest rise first, with the one-line fix of the class.
-- Rates are failures per minute; counts are exact (FINAL).
SELECT client_id, class, now_n, base_n, now_per_min, base_per_min, rise_per_min, fix_line
FROM
(
    SELECT
        client_id,
        class,
        countIf(time >= toDateTime({start})) AS now_n,
        countIf(time < toDateTime({start})) AS base_n,
        round(now_n * 60 / {window_s}, 3) AS now_per_min,
        round(base_n * 60 / {baseline_s}, 3) AS base_per_min,
        round(now_per_min - base_per_min, 3) AS rise_per_min
    FROM {db}.events FINAL
    WHERE outcome = 'failure' AND time >= toDateTime({base_start}) AND time < toDateTime({end})
    GROUP BY client_id, class
) AS e
ANY LEFT JOIN
(
    SELECT id AS class, fix_line FROM {db}.classes FINAL
) AS c USING class
WHERE rise_per_min > 0
ORDER BY rise_per_min DESC, now_n DESC, client_id, class
LIMIT {limit}
