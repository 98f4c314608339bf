//! Applying a batch of remote versions: in one transaction when it can,
//! else item by item, so one version the store refuses (written under a
//! key this node does not have yet) does not hold back the rest. Versions
//! that need a table or column still on its way are kept by the store
//! until it arrives (`MergeOutcome::versions_kept`).

use std::ops::RangeInclusive;

use patina_store::{MergeError, SiteId, Versions};

use super::Storage;

/// Per item of the batch: its site, its versions and whether it is applied.
pub(super) type Applied = Vec<(SiteId, RangeInclusive<u64>, bool)>;

pub(super) async fn apply<S: Storage>(storage: &S, batch: Vec<Versions>) -> Applied {
    let items: Vec<(SiteId, RangeInclusive<u64>)> = batch
        .iter()
        .map(|item| (item.site_id(), item.versions()))
        .collect();
    // Kept to retry item by item, which a single item never needs.
    let retry = (batch.len() != 1).then(|| batch.clone());
    let error = match storage.merge(batch).await {
        Ok(outcome) => {
            if outcome.versions_kept > 0 {
                tracing::info!(
                    kept = outcome.versions_kept,
                    "kept remote versions until the table or column they need arrives"
                );
            }
            return items.into_iter().map(|(s, v)| (s, v, true)).collect();
        }
        Err(error) => error,
    };
    let Some(batch) = retry else {
        warn_refused(&error, 1, &items[0]);
        return items.into_iter().map(|(s, v)| (s, v, false)).collect();
    };
    let mut results = Vec::with_capacity(batch.len());
    let mut first_refusal = None;
    for item in batch {
        let (site, versions) = (item.site_id(), item.versions());
        let ok = match storage.merge(vec![item]).await {
            Ok(_) => true,
            Err(error) => {
                first_refusal.get_or_insert((error, (site, versions.clone())));
                false
            }
        };
        results.push((site, versions, ok));
    }
    if let Some((error, item)) = first_refusal {
        let refused = results.iter().filter(|(_, _, ok)| !ok).count();
        warn_refused(&error, refused, &item);
    }
    results
}

fn warn_refused(error: &MergeError, refused: usize, first: &(SiteId, RangeInclusive<u64>)) {
    tracing::warn!(
        %error,
        refused,
        site = %first.0,
        versions = ?first.1,
        "cannot apply remote changes; they will be fetched again by anti-entropy"
    );
}
