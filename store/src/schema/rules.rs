//! What a replicated table may look like, and which changes to one are safe.
//! Pure functions over table shapes: no SQL runs here.

use std::collections::{BTreeMap, BTreeSet};

use super::shape::{TableShape, is_internal};
use crate::SchemaError;

/// What a schema change did to the replicated tables.
#[derive(Debug, Default, PartialEq)]
pub struct SchemaChange {
    /// New tables to make replicated.
    pub new_tables: Vec<String>,
    /// Replicated tables whose replicated columns changed (columns added).
    pub altered_tables: Vec<String>,
    /// New tables without a primary key: they stay on this node, not
    /// replicated (a replicated row is known by its key).
    pub local_tables: Vec<String>,
}

/// Checks that a table can be replicated.
pub(crate) fn check_replicable(table: &TableShape) -> Result<(), SchemaError> {
    let name = &table.name;
    if is_internal(name) || name.is_empty() {
        return Err(SchemaError::ReservedName { name: name.clone() });
    }
    if let Some(column) = table
        .columns
        .iter()
        .find(|c| c.name.is_empty() || c.name.to_ascii_lowercase().starts_with("__patina"))
    {
        return Err(SchemaError::ReservedName {
            name: format!("{name}.{}", column.name),
        });
    }
    let pk = table.pk_columns();
    if pk.is_empty() {
        return Err(SchemaError::NoPrimaryKey {
            table: name.clone(),
        });
    }
    // Only a lone INTEGER PRIMARY KEY of a rowid table (the rowid itself) or a
    // WITHOUT ROWID key is NOT NULL without saying so.
    let rowid_alias = !table.without_rowid
        && pk.len() == 1
        && table
            .column(&pk[0].0)
            .is_some_and(|c| c.decl_type.eq_ignore_ascii_case("integer"));
    if !table.without_rowid
        && !rowid_alias
        && let Some(column) = table.columns.iter().find(|c| c.pk > 0 && !c.not_null)
    {
        return Err(SchemaError::NullablePrimaryKey {
            table: name.clone(),
            column: column.name.clone(),
        });
    }
    if let Some(column) = table
        .columns
        .iter()
        .find(|c| c.pk == 0 && !c.generated && c.not_null && c.default.is_none())
    {
        return Err(SchemaError::NotNullWithoutDefault {
            table: name.clone(),
            column: column.name.clone(),
        });
    }
    if let Some(index) = table
        .indexes
        .iter()
        .find(|i| i.unique && !i.for_primary_key)
    {
        return Err(SchemaError::UniqueIndex {
            table: name.clone(),
            index: index.name.clone(),
        });
    }
    if table.has_foreign_keys {
        return Err(SchemaError::ForeignKey {
            table: name.clone(),
        });
    }
    Ok(())
}

/// Judges the change from `before` to `after` (snapshots keyed by lower-cased
/// table name): replicated tables may gain columns and indexes, and new
/// tables may appear; nothing replicated may disappear or change meaning,
/// and patina's own tables may not change at all. A new table with a primary
/// key, or a local table that gained one, becomes replicated; a new table
/// without one is local.
pub(crate) fn plan_change(
    before: &BTreeMap<String, TableShape>,
    after: &BTreeMap<String, TableShape>,
    replicated: &BTreeSet<String>,
) -> Result<SchemaChange, SchemaError> {
    let mut plan = SchemaChange::default();
    for (key, internal) in before.iter().filter(|(_, t)| is_internal(&t.name)) {
        if after.get(key) != Some(internal) {
            return Err(SchemaError::ReservedName {
                name: internal.name.clone(),
            });
        }
    }
    for (key, old) in before.iter().filter(|(k, _)| replicated.contains(*k)) {
        let Some(new) = after.get(key) else {
            return Err(SchemaError::DropTable {
                table: old.name.clone(),
            });
        };
        if old.pk_columns() != new.pk_columns() {
            return Err(SchemaError::PrimaryKeyChanged {
                table: old.name.clone(),
            });
        }
        for column in &old.columns {
            match new.column(&column.name) {
                None => {
                    return Err(SchemaError::DropColumn {
                        table: old.name.clone(),
                        column: column.name.clone(),
                    });
                }
                Some(now) if now != column => {
                    return Err(SchemaError::ColumnChanged {
                        table: old.name.clone(),
                        column: column.name.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        if new != old {
            check_replicable(new)?;
        }
        if new.value_columns() != old.value_columns() {
            plan.altered_tables.push(new.name.clone());
        }
    }
    for (key, new) in after {
        let keyed = !new.pk_columns().is_empty();
        match before.get(key) {
            None if !keyed && !is_internal(&new.name) => plan.local_tables.push(new.name.clone()),
            Some(_) if is_internal(&new.name) => {}
            Some(old) if replicated.contains(key) || !keyed || !old.pk_columns().is_empty() => {}
            _ => {
                check_replicable(new)?;
                plan.new_tables.push(new.name.clone());
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::shape::{ColumnShape, IndexShape};

    fn column(name: &str, pk: u32) -> ColumnShape {
        ColumnShape {
            name: name.to_owned(),
            decl_type: if pk > 0 { "INTEGER" } else { "TEXT" }.to_owned(),
            not_null: false,
            default: None,
            pk,
            generated: false,
        }
    }

    fn items() -> TableShape {
        TableShape {
            name: "items".to_owned(),
            without_rowid: false,
            columns: vec![column("id", 1), column("name", 0)],
            indexes: vec![],
            has_foreign_keys: false,
        }
    }

    fn keyed(tables: Vec<TableShape>) -> BTreeMap<String, TableShape> {
        tables
            .into_iter()
            .map(|t| (t.name.to_ascii_lowercase(), t))
            .collect()
    }

    fn replicated() -> BTreeSet<String> {
        BTreeSet::from(["items".to_owned()])
    }

    #[test]
    fn accepts_integer_primary_key_table() {
        assert_eq!(check_replicable(&items()), Ok(()));
    }

    #[test]
    fn refuses_text_primary_key_that_may_be_null() {
        let mut table = items();
        table.columns[0].decl_type = "TEXT".to_owned();
        assert_eq!(
            check_replicable(&table),
            Err(SchemaError::NullablePrimaryKey {
                table: "items".to_owned(),
                column: "id".to_owned()
            })
        );
        table.without_rowid = true;
        assert_eq!(check_replicable(&table), Ok(()));
    }

    #[test]
    fn refuses_unique_index_outside_the_key() {
        let mut table = items();
        table.indexes.push(IndexShape {
            name: "items_name".to_owned(),
            unique: true,
            for_primary_key: false,
        });
        assert!(matches!(
            check_replicable(&table),
            Err(SchemaError::UniqueIndex { .. })
        ));
    }

    #[test]
    fn added_column_alters_the_table() {
        let mut wider = items();
        wider.columns.push(column("price", 0));
        let plan = plan_change(&keyed(vec![items()]), &keyed(vec![wider]), &replicated());
        assert_eq!(
            plan,
            Ok(SchemaChange {
                altered_tables: vec!["items".to_owned()],
                ..SchemaChange::default()
            })
        );
    }

    #[test]
    fn dropped_column_is_refused() {
        let mut narrower = items();
        narrower.columns.pop();
        assert_eq!(
            plan_change(&keyed(vec![items()]), &keyed(vec![narrower]), &replicated()),
            Err(SchemaError::DropColumn {
                table: "items".to_owned(),
                column: "name".to_owned()
            })
        );
    }

    #[test]
    fn retyped_column_is_refused() {
        let mut retyped = items();
        retyped.columns[1].decl_type = "BLOB".to_owned();
        assert!(matches!(
            plan_change(&keyed(vec![items()]), &keyed(vec![retyped]), &replicated()),
            Err(SchemaError::ColumnChanged { .. })
        ));
    }

    #[test]
    fn patina_tables_may_not_change() {
        let mut seen = items();
        seen.name = "__patina_seen".to_owned();
        assert_eq!(
            plan_change(&keyed(vec![seen]), &keyed(vec![]), &BTreeSet::new()),
            Err(SchemaError::ReservedName {
                name: "__patina_seen".to_owned()
            })
        );
    }

    #[test]
    fn a_new_table_without_a_key_is_local() {
        let mut keyless = items();
        keyless.columns[0].pk = 0;
        let plan = plan_change(&keyed(vec![]), &keyed(vec![keyless]), &BTreeSet::new());
        assert_eq!(
            plan,
            Ok(SchemaChange {
                local_tables: vec!["items".to_owned()],
                ..SchemaChange::default()
            })
        );
    }

    #[test]
    fn a_local_table_that_gains_a_key_becomes_replicated() {
        let mut keyless = items();
        keyless.columns[0].pk = 0;
        let plan = plan_change(
            &keyed(vec![keyless.clone()]),
            &keyed(vec![items()]),
            &BTreeSet::new(),
        );
        assert_eq!(
            plan,
            Ok(SchemaChange {
                new_tables: vec!["items".to_owned()],
                ..SchemaChange::default()
            })
        );
        let mut renamed = keyless;
        renamed.columns.push(column("note", 0));
        let plan = plan_change(
            &keyed(vec![items()]),
            &keyed(vec![renamed]),
            &BTreeSet::new(),
        );
        assert_eq!(plan, Ok(SchemaChange::default()));
    }

    #[test]
    fn tables_that_are_not_replicated_are_not_judged() {
        let plan = plan_change(&keyed(vec![items()]), &keyed(vec![]), &BTreeSet::new());
        assert_eq!(plan, Ok(SchemaChange::default()));
    }
}
