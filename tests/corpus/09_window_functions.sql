-- Window functions: ranking, offsets, values, distribution, aggregates
-- over windows with frames, named windows; their result types.

CREATE TABLE wf_sales (
    id integer PRIMARY KEY,
    region text,
    amount numeric(10,2),
    qty integer,
    big bigint,
    ratio float8,
    sold date
);

INSERT INTO wf_sales VALUES
    (1, 'north', 10.50, 3, 100, 0.5, '2024-01-01'),
    (2, 'north', 20.00, 1, 200, 1.5, '2024-01-02'),
    (3, 'north', 20.00, 4, 300, 2.5, '2024-01-03'),
    (4, 'south', 5.25, 2, 400, 0.25, '2024-01-01'),
    (5, 'south', 7.75, NULL, 500, NULL, '2024-01-05'),
    (6, 'east', NULL, 6, 600, 3.0, '2024-01-06'),
    (7, 'east', 1.10, 6, 700, 1.0, NULL);

SELECT id, row_number() OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, region, row_number() OVER (PARTITION BY region ORDER BY id DESC) AS rn FROM wf_sales ORDER BY id;

SELECT id, amount, rank() OVER (ORDER BY amount DESC), dense_rank() OVER (ORDER BY amount DESC) FROM wf_sales ORDER BY id;

SELECT id, amount, rank() OVER (ORDER BY amount), dense_rank() OVER (ORDER BY amount NULLS FIRST) FROM wf_sales ORDER BY id;

SELECT id, percent_rank() OVER (ORDER BY qty), cume_dist() OVER (ORDER BY qty) FROM wf_sales ORDER BY id;

SELECT id, ntile(3) OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, lag(amount) OVER (ORDER BY id), lead(amount) OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, lag(qty, 2) OVER (ORDER BY id), lead(qty, 2, -1) OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, lag(amount, 1, 0) OVER (PARTITION BY region ORDER BY id), lead(region, 1, 'none') OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, first_value(amount) OVER (PARTITION BY region ORDER BY id), last_value(amount) OVER (PARTITION BY region ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, last_value(id) OVER (PARTITION BY region ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM wf_sales ORDER BY id;

SELECT id, nth_value(qty, 2) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM wf_sales ORDER BY id;

SELECT id, first_value(sold) OVER (ORDER BY id), first_value(ratio) OVER (ORDER BY id DESC) FROM wf_sales ORDER BY id;

SELECT id, count(*) OVER (), count(amount) OVER (PARTITION BY region) FROM wf_sales ORDER BY id;

SELECT id, sum(qty) OVER (ORDER BY id), sum(big) OVER (ORDER BY id), sum(amount) OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, sum(ratio) OVER (PARTITION BY region), avg(ratio) OVER (PARTITION BY region) FROM wf_sales ORDER BY id;

SELECT id, avg(qty) OVER (PARTITION BY region), avg(amount) OVER (PARTITION BY region) FROM wf_sales ORDER BY id;

SELECT id, sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), avg(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM wf_sales ORDER BY id;

SELECT id, sum(big) OVER (ORDER BY id ROWS 2 PRECEDING), count(*) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM wf_sales ORDER BY id;

SELECT id, min(amount) OVER (PARTITION BY region), max(amount) OVER (PARTITION BY region), max(region) OVER () FROM wf_sales ORDER BY id;

SELECT id, sum(qty) OVER (ORDER BY amount RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM wf_sales ORDER BY id;

SELECT id, sum(qty) OVER (ORDER BY qty GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM wf_sales ORDER BY id;

SELECT id, string_agg(region, ',') OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), array_agg(id) OVER (PARTITION BY region ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, bool_and(qty > 2) OVER (PARTITION BY region), bool_or(qty > 5) OVER (PARTITION BY region) FROM wf_sales ORDER BY id;

SELECT id, count(*) FILTER (WHERE qty > 2) OVER (ORDER BY id) FROM wf_sales ORDER BY id;

SELECT id, row_number() OVER w, sum(qty) OVER w, first_value(id) OVER w FROM wf_sales WINDOW w AS (PARTITION BY region ORDER BY id) ORDER BY id;

SELECT id, rank() OVER (w ORDER BY qty DESC) FROM wf_sales WINDOW w AS (PARTITION BY region) ORDER BY id;

SELECT region, sum(amount), rank() OVER (ORDER BY sum(amount) DESC) FROM wf_sales GROUP BY region ORDER BY region;

SELECT region, count(*), sum(count(*)) OVER () FROM wf_sales GROUP BY region ORDER BY region;

SELECT id, row_number() OVER (ORDER BY id) * 10 + 1 AS x FROM wf_sales ORDER BY x DESC;

SELECT * FROM (SELECT id, region, row_number() OVER (PARTITION BY region ORDER BY amount DESC NULLS LAST) AS rn FROM wf_sales) AS ranked WHERE rn = 1 ORDER BY region;

SELECT id, row_number() OVER (ORDER BY id) FROM wf_sales ORDER BY row_number() OVER (ORDER BY id) DESC LIMIT 3;

-- error: 42809
SELECT lower(region) OVER () FROM wf_sales;

-- error: 42809
SELECT row_number() FROM wf_sales;

-- error: 0A000
SELECT count(DISTINCT region) OVER () FROM wf_sales;
