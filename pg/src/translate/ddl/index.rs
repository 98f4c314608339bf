//! `CREATE INDEX`.

use sqlparser::ast::{CreateIndex, Expr};

use crate::error::Error;
use crate::translate::context::Translator;
use crate::translate::names::{fold, unqualified};

use super::Want;

impl Translator<'_> {
    /// Translates `CREATE INDEX`.
    pub(crate) fn create_index(&mut self, index: &CreateIndex) -> Result<String, Error> {
        if index.r#async
            || !index.include.is_empty()
            || index.nulls_distinct == Some(false)
            || !index.with.is_empty()
            || !index.index_options.is_empty()
            || !index.alter_options.is_empty()
        {
            return Err(Error::Unsupported(format!("index option in {index}")));
        }
        if let Some(using) = &index.using
            && !using.to_string().eq_ignore_ascii_case("btree")
        {
            return Err(Error::Unsupported(format!("index method {using}")));
        }
        let table_ident = unqualified(&index.table_name)?;
        let table = fold(&table_ident);
        let columns = self.table_columns(&table)?;
        let mut keys = Vec::with_capacity(index.columns.len());
        let mut key_names = Vec::new();
        for column in &index.columns {
            if column.operator_class.is_some()
                || column.column.with_fill.is_some()
                || column.column.options.nulls_first.is_some()
            {
                return Err(Error::Unsupported(format!("index key {}", column.column)));
            }
            if let Expr::Identifier(ident) = &column.column.expr {
                key_names.push(fold(ident));
            } else {
                key_names.push("expr".to_string());
            }
            let mut key = column.column.clone();
            key.expr = self.table_expr(&key.expr, &columns, Want::Any)?;
            keys.push(key.to_string());
        }
        let name = match &index.name {
            Some(name) => unqualified(name)?.to_string(),
            None => format!("{table}_{}_idx", key_names.join("_")),
        };
        let mut sql = format!(
            "CREATE {}INDEX {}{name} ON {table_ident} ({})",
            if index.unique { "UNIQUE " } else { "" },
            if index.if_not_exists {
                "IF NOT EXISTS "
            } else {
                ""
            },
            keys.join(", ")
        );
        if let Some(predicate) = &index.predicate {
            let translated = self.table_expr(predicate, &columns, Want::Condition)?;
            sql.push_str(&format!(" WHERE {translated}"));
        }
        Ok(sql)
    }
}
