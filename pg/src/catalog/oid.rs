//! Object identifiers of the user's objects. They must be stable for the
//! life of an object and equal on every node that has the same schema, so
//! they are derived from what identifies the object — its catalog and
//! qualified name — by hashing into PostgreSQL's user range. Two objects
//! whose hashes are equal are told apart in the views by their names (the
//! later name in byte order takes the next OID), which every node does
//! the same way.

/// The first OID PostgreSQL gives to user objects (`FirstNormalObjectId`).
pub const FIRST_USER_OID: u32 = 16384;

/// The OID of the object `name` in `catalog` (`pg_class`,
/// `pg_constraint`, …): FNV-1a of `catalog`, a zero byte and `name`,
/// folded into `16384..2^32 - 16`, which leaves room to step past a
/// collision.
pub fn object_oid(catalog: &str, name: &str) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in catalog.bytes().chain([0]).chain(name.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    let span = u64::from(u32::MAX - 16) - u64::from(FIRST_USER_OID);
    let offset = u32::try_from(hash % span).unwrap_or(0);
    FIRST_USER_OID + offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_are_stable_and_in_the_user_range() {
        let a = object_oid("pg_class", "items");
        assert_eq!(a, object_oid("pg_class", "items"));
        assert!(a >= FIRST_USER_OID);
        assert_ne!(a, object_oid("pg_class", "items_pkey"));
        assert_ne!(a, object_oid("pg_constraint", "items"));
        // pinned: a change would renumber every object of running clusters
        assert_eq!(a, 2_946_195_969);
        for name in ["a", "b", "c", "orders", "order_lines", "x_pkey"] {
            let oid = object_oid("pg_class", name);
            assert!((FIRST_USER_OID..u32::MAX - 16).contains(&oid), "{name}");
        }
    }
}
