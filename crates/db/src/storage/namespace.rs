//! Namespaces (`db.coll`): splitting and mongod's validity rules for database and collection names.

use docwire_rpc::{ErrorCode, Status};

/// mongod's limit on a full namespace's length in bytes.
const MAX_NS_LEN: usize = 255;
/// mongod's limit on a database name's length in bytes.
const MAX_DB_LEN: usize = 63;

/// Splits `db.coll` at its first dot; InvalidNamespace if either part is empty.
pub fn split_ns(ns: &str) -> Result<(&str, &str), Status> {
    match ns.split_once('.') {
        Some((db, coll)) if !db.is_empty() && !coll.is_empty() => Ok((db, coll)),
        _ => Err(Status::new(
            ErrorCode::InvalidNamespace,
            format!("Invalid namespace specified '{ns}'"),
        )),
    }
}

/// Checks a database name as mongod does (no `/\. "$`, no NUL, at most 63 bytes).
pub fn validate_db_name(db: &str) -> Result<(), Status> {
    let bad = db.is_empty()
        || db.len() > MAX_DB_LEN
        || db
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '\0'));
    if bad {
        return Err(Status::new(
            ErrorCode::InvalidNamespace,
            format!("Invalid database name: '{db}'"),
        ));
    }
    Ok(())
}

/// Checks a full namespace for creating a collection: a valid database, a non-empty collection name
/// without `$` or NUL that does not start with a dot, at most 255 bytes in all.
pub fn validate_ns(ns: &str) -> Result<(), Status> {
    let (db, coll) = split_ns(ns)?;
    validate_db_name(db)?;
    if coll.starts_with('.') || coll.contains('$') || coll.contains('\0') || ns.len() > MAX_NS_LEN {
        return Err(Status::new(
            ErrorCode::InvalidNamespace,
            format!("Invalid collection name: {coll}"),
        ));
    }
    Ok(())
}

/// The catalog-key prefix shared by every collection of `db`.
pub(crate) fn db_prefix(db: &str) -> String {
    format!("{db}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_mongod_rules() {
        assert_eq!(split_ns("a.b.c").ok(), Some(("a", "b.c")));
        assert!(split_ns("a.").is_err() && split_ns(".b").is_err() && split_ns("ab").is_err());
        assert!(validate_ns("test.coll").is_ok());
        assert!(validate_ns("te st.coll").is_err());
        assert!(validate_ns("test.co$ll").is_err());
    }
}
