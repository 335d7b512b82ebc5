-- Which clients fail with one class in the window, since when, how often.
SELECT
    client_id,
    count() AS n,
    min(toDateTime(time)) AS first_seen,
    max(toDateTime(time)) AS last_seen
FROM {db}.events FINAL
WHERE outcome = 'failure' AND class = {class}
    AND time >= toDateTime({start}) AND time < toDateTime({end})
GROUP BY client_id
ORDER BY n DESC, client_id
LIMIT {limit}
