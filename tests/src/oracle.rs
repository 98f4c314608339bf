//! A real PostgreSQL 15 (the oracle) and a patina node side by side, with
//! the same schema, for tests that compare their answers.

use tokio_postgres::Client;

use crate::{Patina, Postgres};

/// Both servers and a connection to each.
#[derive(Debug)]
pub struct Oracle {
    pub postgres: Postgres,
    pub patina: Patina,
    /// Connected to PostgreSQL.
    pub pg: Client,
    /// Connected to patina.
    pub node: Client,
}

impl Oracle {
    /// Starts both and runs `schema` (statements separated by `;`) on each.
    pub async fn start(schema: &str) -> Oracle {
        let (postgres, patina) = tokio::join!(Postgres::start(), Patina::start());
        let (pg, node) = tokio::join!(postgres.connect(), patina.connect());
        pg.batch_execute(schema)
            .await
            .expect("schema on PostgreSQL");
        node.batch_execute(schema).await.expect("schema on patina");
        Oracle {
            postgres,
            patina,
            pg,
            node,
        }
    }
}
