//! The 16-byte identity of a node's database (its actor id).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A site id: created once per database, persisted, never changed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SiteId(pub [u8; 16]);

impl SiteId {
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Reads a site id from a 16-byte slice.
    pub fn from_slice(bytes: &[u8]) -> Option<SiteId> {
        bytes.try_into().ok().map(SiteId)
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SiteId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_lowercase_hex() {
        let mut bytes = [0u8; 16];
        bytes[0] = 0xab;
        bytes[15] = 0x01;
        assert_eq!(
            SiteId(bytes).to_string(),
            "ab000000000000000000000000000001"
        );
    }

    #[test]
    fn from_slice_requires_sixteen_bytes() {
        assert!(SiteId::from_slice(&[0; 15]).is_none());
        assert_eq!(SiteId::from_slice(&[7; 16]), Some(SiteId([7; 16])));
    }
}
