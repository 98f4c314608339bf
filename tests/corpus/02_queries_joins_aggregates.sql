-- Queries: joins, aggregates, grouping, ordering, subqueries, CTEs, set
-- operations, CASE / COALESCE / NULLIF.

CREATE TABLE qj_dept (
    id int PRIMARY KEY,
    name text NOT NULL DEFAULT ''
);

CREATE TABLE qj_emp (
    id int PRIMARY KEY,
    name text NOT NULL DEFAULT '',
    dept_id int,
    manager_id int,
    salary numeric(10,2),
    age int,
    score double precision
);

INSERT INTO qj_dept VALUES (1, 'engineering'), (2, 'sales'), (3, 'legal');

INSERT INTO qj_emp VALUES
    (1, 'Ann', 1, NULL, 5000.00, 45, 9.5),
    (2, 'Ben', 1, 1, 4000.50, 30, 7.25),
    (3, 'Cid', 2, 1, 3000, 28, 6),
    (4, 'Dee', 2, 3, 3500.25, 35, NULL),
    (5, 'Eve', NULL, 1, 2500.75, 22, 8.5),
    (6, 'Fay', 1, 2, 4200, 41, 7.75);

SELECT e.name, d.name FROM qj_emp e JOIN qj_dept d ON d.id = e.dept_id ORDER BY e.name;

SELECT e.name, d.name AS dept FROM qj_emp e INNER JOIN qj_dept d ON e.dept_id = d.id WHERE d.name = 'sales';

SELECT e.name, d.name AS dept FROM qj_emp e LEFT JOIN qj_dept d ON d.id = e.dept_id ORDER BY e.id;

SELECT d.name, e.name FROM qj_dept d LEFT OUTER JOIN qj_emp e ON e.dept_id = d.id ORDER BY d.id, e.id;

SELECT d.name, count(e.id) FROM qj_dept d LEFT JOIN qj_emp e ON e.dept_id = d.id GROUP BY d.name ORDER BY d.name;

SELECT e.name, m.name AS manager FROM qj_emp e JOIN qj_emp m ON m.id = e.manager_id ORDER BY e.id;

SELECT e.name, m.name AS manager FROM qj_emp e LEFT JOIN qj_emp m ON m.id = e.manager_id ORDER BY e.id;

SELECT count(*) FROM qj_dept CROSS JOIN qj_emp;

SELECT d.name, e.name FROM qj_dept d CROSS JOIN qj_emp e WHERE e.id < 3 ORDER BY d.id, e.id;

SELECT d.name, e.name FROM qj_dept d, qj_emp e WHERE d.id = e.dept_id AND e.age > 40 ORDER BY e.name;

SELECT e.name FROM qj_emp e JOIN qj_dept d USING (id) ORDER BY 1;

SELECT count(*), count(dept_id), count(score) FROM qj_emp;

SELECT sum(age), sum(salary), avg(age), avg(salary), min(age), max(salary) FROM qj_emp;

SELECT sum(score), avg(score), min(score), max(score) FROM qj_emp;

SELECT dept_id, count(*) AS n, sum(salary) AS total FROM qj_emp GROUP BY dept_id ORDER BY dept_id;

SELECT dept_id, count(*) FROM qj_emp GROUP BY dept_id HAVING count(*) > 1 ORDER BY dept_id;

SELECT dept_id, max(age) - min(age) AS spread FROM qj_emp WHERE dept_id IS NOT NULL GROUP BY dept_id ORDER BY spread DESC;

SELECT dept_id, avg(age) FROM qj_emp GROUP BY dept_id HAVING avg(age) > 30 ORDER BY 1;

SELECT count(DISTINCT dept_id) FROM qj_emp;

SELECT DISTINCT dept_id FROM qj_emp ORDER BY dept_id;

SELECT string_agg(name, ',' ORDER BY name) FROM qj_emp;

SELECT dept_id, string_agg(name, '|' ORDER BY id) FROM qj_emp GROUP BY dept_id ORDER BY dept_id NULLS FIRST;

SELECT bool_and(age > 20), bool_or(age > 44) FROM qj_emp;

SELECT sum(age) FROM qj_emp WHERE id > 100;

SELECT count(*) FROM qj_emp WHERE id > 100;

SELECT name FROM qj_emp ORDER BY age DESC LIMIT 3;

SELECT name FROM qj_emp ORDER BY age LIMIT 2 OFFSET 2;

SELECT name FROM qj_emp ORDER BY name OFFSET 4;

SELECT name, score FROM qj_emp ORDER BY score;

SELECT name, score FROM qj_emp ORDER BY score DESC;

SELECT name, score FROM qj_emp ORDER BY score NULLS FIRST;

SELECT name FROM qj_emp WHERE salary > (SELECT avg(salary) FROM qj_emp) ORDER BY name;

SELECT name FROM qj_emp WHERE dept_id IN (SELECT id FROM qj_dept WHERE name <> 'sales') ORDER BY name;

SELECT name FROM qj_emp WHERE dept_id NOT IN (SELECT id FROM qj_dept WHERE name = 'engineering') ORDER BY name;

SELECT d.name FROM qj_dept d WHERE EXISTS (SELECT 1 FROM qj_emp e WHERE e.dept_id = d.id) ORDER BY d.name;

SELECT d.name FROM qj_dept d WHERE NOT EXISTS (SELECT 1 FROM qj_emp e WHERE e.dept_id = d.id);

SELECT name, (SELECT count(*) FROM qj_emp r WHERE r.manager_id = e.id) AS reports FROM qj_emp e ORDER BY id;

SELECT s.dept_id, s.total FROM (SELECT dept_id, sum(salary) AS total FROM qj_emp GROUP BY dept_id) s WHERE s.total > 5000 ORDER BY s.dept_id;

WITH big AS (SELECT id, name FROM qj_emp WHERE salary >= 4000) SELECT name FROM big ORDER BY id;

WITH per_dept AS (SELECT dept_id, count(*) AS n FROM qj_emp GROUP BY dept_id), named AS (SELECT d.name, p.n FROM per_dept p JOIN qj_dept d ON d.id = p.dept_id) SELECT name, n FROM named ORDER BY n DESC, name;

SELECT name FROM qj_dept UNION SELECT name FROM qj_emp WHERE age < 30 ORDER BY name;

SELECT dept_id FROM qj_emp UNION ALL SELECT id FROM qj_dept ORDER BY 1;

SELECT id FROM qj_dept UNION SELECT dept_id FROM qj_emp WHERE dept_id IS NOT NULL;

SELECT id FROM qj_dept EXCEPT SELECT dept_id FROM qj_emp;

SELECT id FROM qj_dept INTERSECT SELECT dept_id FROM qj_emp ORDER BY id;

SELECT name, CASE WHEN age >= 40 THEN 'senior' WHEN age >= 30 THEN 'mid' ELSE 'junior' END AS band FROM qj_emp ORDER BY id;

SELECT name, CASE dept_id WHEN 1 THEN 'eng' WHEN 2 THEN 'sales' END FROM qj_emp ORDER BY id;

SELECT name, COALESCE(dept_id, 0), COALESCE(score, -1) FROM qj_emp ORDER BY id;

SELECT name, NULLIF(dept_id, 1) FROM qj_emp ORDER BY id;

SELECT COALESCE(NULL, 'fallback'), NULLIF('a', 'a'), NULLIF(5, 6);

SELECT name FROM qj_emp WHERE age BETWEEN 30 AND 41 ORDER BY name;

SELECT name FROM qj_emp WHERE age NOT BETWEEN 30 AND 41 ORDER BY name;

SELECT name FROM qj_emp WHERE id IN (1, 3, 5) ORDER BY name DESC;

SELECT name FROM qj_emp WHERE dept_id IS NULL;

SELECT name FROM qj_emp WHERE score IS DISTINCT FROM 6 ORDER BY id;

SELECT e.name, d.name FROM qj_emp e JOIN qj_dept d ON d.id = e.dept_id WHERE e.salary > 3000 AND (d.name = 'sales' OR e.age < 35) ORDER BY e.id;

SELECT dept_id, count(*) FILTER (WHERE age > 30) FROM qj_emp GROUP BY dept_id ORDER BY dept_id;

SELECT 1 AS one, 'two' AS two, 3.0 AS three;

SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) ORDER BY n;

SELECT greatest(3, 7, 5), least(3, 7, 5), greatest('a', 'b');
