//! Folding a transaction's row events into row changes, with their values
//! and origins.

use super::*;

/// A key value that can be hashed and compared (floats by their bits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum KeyValue {
    Null,
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&Value> for KeyValue {
    fn from(value: &Value) -> KeyValue {
        match value {
            Value::Null => KeyValue::Null,
            Value::Integer(i) => KeyValue::Integer(*i),
            Value::Real(f) => KeyValue::Real(f.to_bits()),
            Value::Text(s) => KeyValue::Text(s.clone()),
            Value::Blob(b) => KeyValue::Blob(b.clone()),
        }
    }
}

impl From<&patina_store::Value> for KeyValue {
    fn from(value: &patina_store::Value) -> KeyValue {
        match value {
            patina_store::Value::Null => KeyValue::Null,
            patina_store::Value::Integer(i) => KeyValue::Integer(*i),
            patina_store::Value::Real(f) => KeyValue::Real(f.to_bits()),
            patina_store::Value::Text(s) => KeyValue::Text(s.clone()),
            patina_store::Value::Blob(b) => KeyValue::Blob(b.clone()),
        }
    }
}

/// One row's events folded over the transaction.
pub(super) struct Touched {
    table: String,
    key: Vec<Value>,
    existed: bool,
    exists: bool,
    /// Non-key columns changed (by position in the shape's `others`).
    changed: Vec<bool>,
    /// Deleted and inserted again: every column counts as changed.
    recreated: bool,
}

impl Touched {
    fn apply(&mut self, op: i64, mask: Option<&str>) {
        match op {
            INSERTED => {
                self.recreated |= self.existed;
                self.exists = true;
            }
            DELETED => self.exists = false,
            _ => {
                self.exists = true;
                let mask = mask.unwrap_or_default().as_bytes();
                if self.changed.len() < mask.len() {
                    self.changed.resize(mask.len(), false);
                }
                for (changed, bit) in self.changed.iter_mut().zip(mask) {
                    *changed |= *bit == b'1';
                }
            }
        }
    }
}

/// One row write, as a trigger recorded it.
pub(super) struct Event<'a> {
    seq: i64,
    table: &'a str,
    op: i64,
    mask: Option<String>,
    key: Vec<Value>,
}

/// (lower-cased table, key) → the (site, db_version) that wrote it.
pub(super) type RowOrigins = HashMap<(String, Vec<KeyValue>), (String, u64)>;

/// Reads the events of every installed table and resolves them into the
/// rows the transaction changed.
///
/// After a schema change (a column added in the transaction) the values
/// are read in the table's shape now, and an updated row reports the new
/// columns too: the triggers that saw the update did not know them.
pub(super) fn collect(
    store: &Store,
    installed: &HashMap<String, Shape>,
    schema_changed: bool,
    origin: Origin<'_>,
) -> rusqlite::Result<Committed> {
    let conn = store.conn();
    let mut events: Vec<Event<'_>> = Vec::new();
    for (table, shape) in installed {
        let keys: Vec<String> = (0..shape.key.len()).map(|i| format!("k{i}")).collect();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT seq, op, mask, {} FROM temp.{}",
            keys.join(", "),
            events_table(table)
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let key = (0..shape.key.len())
                .map(|i| row.get::<_, Value>(3 + i))
                .collect::<rusqlite::Result<_>>()?;
            events.push(Event {
                seq: row.get(0)?,
                table,
                op: row.get(1)?,
                mask: row.get(2)?,
                key,
            });
        }
    }
    if events.is_empty() {
        return Ok(Committed::default());
    }
    events.sort_by_key(|event| event.seq);
    let mut touched: Vec<Touched> = Vec::new();
    let mut index: HashMap<(&str, Vec<KeyValue>), usize> = HashMap::new();
    for Event {
        table,
        op,
        mask,
        key,
        ..
    } in events
    {
        let hashed = (table, key.iter().map(KeyValue::from).collect());
        let at = *index.entry(hashed).or_insert_with(|| {
            touched.push(Touched {
                table: table.to_owned(),
                key,
                existed: op != INSERTED,
                exists: op != INSERTED,
                changed: Vec::new(),
                recreated: false,
            });
            touched.len() - 1
        });
        touched[at].apply(op, mask.as_deref());
    }
    let mut origins = Origins::new(store, origin);
    let mut shapes: HashMap<String, Option<Shape>> = HashMap::new();
    let mut rows = Vec::new();
    for row in touched {
        let seen = &installed[&row.table];
        let shape = match shapes.get(&row.table) {
            Some(shape) => shape,
            None => {
                let now = if schema_changed {
                    read_shape(conn, &row.table)?
                } else {
                    Some(seen.clone())
                };
                shapes.entry(row.table.clone()).or_insert(now)
            }
        };
        let Some(shape) = shape else {
            continue;
        };
        let added = shape.others.iter().any(|c| !seen.others.contains(c));
        let op = match (row.existed, row.exists) {
            (false, true) => RowOp::Insert,
            (true, true) if row.recreated || added || row.changed.contains(&true) => RowOp::Update,
            (true, false) => RowOp::Delete,
            _ => continue,
        };
        let columns = if op == RowOp::Delete {
            Vec::new()
        } else {
            let Some(values) = read_row(conn, &row.table, shape, &row.key)? else {
                tracing::warn!(table = %row.table, "a changed row is missing after its commit");
                continue;
            };
            let masked: Vec<&String> = seen
                .others
                .iter()
                .zip(row.changed.iter().chain(std::iter::repeat(&false)))
                .filter(|(_, changed)| **changed)
                .map(|(name, _)| name)
                .collect();
            // Columns added since the triggers were made are reported
            // whether or not the update wrote them.
            let changed = |name: &String| {
                op == RowOp::Insert
                    || row.recreated
                    || masked.contains(&name)
                    || (shape.others.contains(name) && !seen.others.contains(name))
            };
            shape
                .columns
                .iter()
                .zip(values)
                .filter(|(name, _)| changed(name))
                .map(|(name, value)| (name.clone(), value))
                .collect()
        };
        let (site, db_version) = origins.of(&row.table, &row.key)?;
        rows.push(RowChange {
            pk: shape.key.iter().cloned().zip(row.key).collect(),
            table: row.table,
            op,
            columns,
            origin: site,
            db_version,
        });
    }
    Ok(Committed { rows })
}

/// The row's values in the shape's column order, `None` if it is gone.
pub(super) fn read_row(
    conn: &Connection,
    table: &str,
    shape: &Shape,
    key: &[Value],
) -> rusqlite::Result<Option<Vec<Value>>> {
    let columns: Vec<String> = shape.columns.iter().map(|c| quote(c)).collect();
    let matches: Vec<String> = shape
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{} IS ?{}", quote(k), i + 1))
        .collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM main.{} WHERE {}",
        columns.join(", "),
        quote(table),
        matches.join(" AND ")
    ))?;
    let mut rows = stmt.query(params_from_iter(key))?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    (0..columns.len())
        .map(|i| row.get::<_, Value>(i))
        .collect::<rusqlite::Result<_>>()
        .map(Some)
}

/// The (site, db_version) that wrote each row.
pub(super) enum Origins<'a> {
    Local(&'a Store, Option<(String, u64)>),
    Merged {
        batch: &'a [Versions],
        /// The last change set of the batch writing each row.
        rows: Option<RowOrigins>,
    },
}

impl<'a> Origins<'a> {
    fn new(store: &'a Store, origin: Origin<'a>) -> Origins<'a> {
        match origin {
            Origin::Local => Origins::Local(store, None),
            Origin::Merged(batch) => Origins::Merged { batch, rows: None },
        }
    }

    fn of(&mut self, table: &str, key: &[Value]) -> rusqlite::Result<(String, u64)> {
        match self {
            Origins::Local(store, known) => {
                if known.is_none() {
                    let version = store.db_version().map_err(|e| e.0)?;
                    *known = Some((store.site_id().to_string(), version));
                }
                Ok(known.clone().unwrap_or_default())
            }
            Origins::Merged { batch, rows } => {
                let rows = rows.get_or_insert_with(|| merged_rows(batch));
                let wanted = (
                    table.to_ascii_lowercase(),
                    key.iter().map(KeyValue::from).collect::<Vec<_>>(),
                );
                if let Some(found) = rows.get(&wanted) {
                    return Ok(found.clone());
                }
                // The key was stored with another type than it travelled
                // in: the batch's last change set writing the table.
                Ok(batch
                    .iter()
                    .rev()
                    .filter_map(|item| match item {
                        Versions::Changed(set) => Some(set),
                        Versions::Cleared { .. } => None,
                    })
                    .find(|set| {
                        set.changes
                            .iter()
                            .any(|c| c.table.eq_ignore_ascii_case(table))
                    })
                    .map(|set| (set.site_id.to_string(), set.db_version))
                    .unwrap_or_default())
            }
        }
    }
}

pub(super) fn merged_rows(batch: &[Versions]) -> RowOrigins {
    let mut rows = HashMap::new();
    for item in batch {
        let Versions::Changed(set) = item else {
            continue;
        };
        let site = set.site_id.to_string();
        for change in &set.changes {
            rows.insert(
                (
                    change.table.to_ascii_lowercase(),
                    change.pk.iter().map(KeyValue::from).collect(),
                ),
                (site.clone(), set.db_version),
            );
        }
    }
    rows
}
