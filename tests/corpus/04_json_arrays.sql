-- JSON / JSONB operators and arrays.

CREATE TABLE ja_docs (
    id int PRIMARY KEY,
    doc jsonb,
    raw json
);

INSERT INTO ja_docs VALUES
    (1, '{"name": "widget", "price": 9.5, "tags": ["a", "b"], "dims": {"w": 10, "h": 20}}', '{"b": 1,  "a": 2}'),
    (2, '{"name": "gadget", "price": 20, "tags": ["b"], "active": true}', '[1, 2, 3]'),
    (3, '{"name": "doohickey", "stock": null, "dims": {"w": 5}}', '"plain"'),
    (4, '[10, 20, 30]', 'null');

SELECT id, doc FROM ja_docs ORDER BY id;

SELECT id, raw FROM ja_docs ORDER BY id;

SELECT id, doc -> 'name', doc ->> 'name' FROM ja_docs ORDER BY id;

SELECT id, doc -> 'dims' -> 'w', doc -> 'dims' ->> 'h' FROM ja_docs ORDER BY id;

SELECT id, doc #>> '{dims,w}', doc #> '{tags}' FROM ja_docs ORDER BY id;

SELECT id, doc -> 'tags' -> 0, doc -> 'tags' ->> 1 FROM ja_docs ORDER BY id;

SELECT doc -> 1, doc ->> 2 FROM ja_docs WHERE id = 4;

SELECT id FROM ja_docs WHERE doc @> '{"name": "gadget"}';

SELECT id FROM ja_docs WHERE doc @> '{"tags": ["b"]}' ORDER BY id;

SELECT id FROM ja_docs WHERE doc ? 'dims' ORDER BY id;

SELECT id FROM ja_docs WHERE doc ->> 'name' = 'widget';

SELECT id, (doc ->> 'price')::numeric * 2 FROM ja_docs WHERE doc ? 'price' ORDER BY id;

SELECT id, doc -> 'stock', doc ->> 'stock', doc -> 'missing' FROM ja_docs WHERE id = 3;

SELECT id, doc -> 'active', doc ->> 'active' FROM ja_docs WHERE id = 2;

SELECT raw -> 'a', raw ->> 'b' FROM ja_docs WHERE id = 1;

SELECT '{"a": {"b": [1, 2, {"c": "deep"}]}}'::jsonb #>> '{a,b,2,c}';

SELECT '{"b": 2, "a": 1}'::jsonb, '{"b": 2, "a": 1}'::json, '{"a": 1, "a": 2}'::jsonb;

SELECT '[1, "two", null, true, 1.50]'::jsonb, '{"x": [ ]}'::jsonb;

SELECT '{"a": 1}'::jsonb = '{"a": 1}'::jsonb, '{"a": 1, "b": 2}'::jsonb @> '{"b": 2}'::jsonb;

SELECT jsonb_typeof('{"a": 1}'), jsonb_typeof('[1]'), jsonb_typeof('"s"'), jsonb_typeof('1.5'), jsonb_typeof('null');

SELECT jsonb_array_length('[1, 2, 3]'), json_array_length('[]');

SELECT to_jsonb('text'::text), to_jsonb(5), jsonb_build_object('a', 1, 'b', 'two'), jsonb_build_array(1, 'x', true);

SELECT json_build_object('k', 1), json_build_array(1, 2);

SELECT doc ->> 'name' FROM ja_docs WHERE doc -> 'dims' ->> 'w' = '10';

UPDATE ja_docs SET doc = '{"name": "updated"}' WHERE id = 3;

SELECT doc FROM ja_docs WHERE id = 3;

CREATE TABLE ja_arrays (
    id int PRIMARY KEY,
    tags text[],
    nums int[],
    big bigint[]
);

INSERT INTO ja_arrays VALUES
    (1, '{red,green}', '{1,2,3}', '{10000000000}'),
    (2, ARRAY['blue'], ARRAY[4, 5], '{}'),
    (3, '{"with space","quo\"te",NULL}', '{}', NULL),
    (4, NULL, '{7}', '{1,2}');

SELECT id, tags, nums, big FROM ja_arrays ORDER BY id;

SELECT id FROM ja_arrays WHERE 'red' = ANY(tags);

SELECT id FROM ja_arrays WHERE 5 = ANY(nums) OR 7 = ANY(nums) ORDER BY id;

SELECT id FROM ja_arrays WHERE id = ANY('{1,3}') ORDER BY id;

SELECT id FROM ja_arrays WHERE id = ANY(ARRAY[2, 4]) ORDER BY id;

SELECT id, nums[1], tags[2] FROM ja_arrays ORDER BY id;

SELECT id, array_length(nums, 1), cardinality(nums) FROM ja_arrays ORDER BY id;

SELECT ARRAY[1, 2, 3], ARRAY['a', 'b'], ARRAY[1.5, 2], '{}'::int[];

SELECT ARRAY[1, 2] || ARRAY[3], ARRAY[1, 2] || 3, 0 || ARRAY[1];

SELECT array_agg(id ORDER BY id) FROM ja_arrays;

SELECT array_agg(name ORDER BY name) FROM (VALUES ('b'), ('a'), ('c')) AS v(name);

SELECT array_to_string(ARRAY['a', 'b', 'c'], '-'), string_to_array('x,y,z', ',');

SELECT '{1,2,3}'::int[] = ARRAY[1, 2, 3], ARRAY[1, 2] @> ARRAY[2], ARRAY[1] <@ ARRAY[1, 2];

SELECT x FROM unnest(ARRAY[3, 1, 2]) AS u(x) ORDER BY x;

UPDATE ja_arrays SET tags = ARRAY['x', 'y'] WHERE id = 4;

SELECT tags FROM ja_arrays WHERE id = 4;

SELECT id, array_position(nums, 2) FROM ja_arrays WHERE id = 1;

SELECT array_append(ARRAY[1, 2], 3), array_prepend(0, ARRAY[1]), array_cat(ARRAY[1], ARRAY[2]);
