//! Byte-level equality of values (mongod's `binaryEqualValues`): same types, same field order. A
//! `$set` to an identical value is a no-op, but one that only reorders fields or changes `1` to `1.0`
//! is a change. (`Bson`'s own `==` ignores document field order.)

use bson::Bson;

/// Whether two values would serialize to the same bytes.
pub(crate) fn binary_equal(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Double(x), Bson::Double(y)) => x.to_bits() == y.to_bits(),
        (Bson::Document(x), Bson::Document(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && binary_equal(va, vb))
        }
        (Bson::Array(x), Bson::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(va, vb)| binary_equal(va, vb))
        }
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => {
            x.code == y.code
                && binary_equal(&Bson::Document(x.scope.clone()), &Bson::Document(y.scope.clone()))
        }
        _ => a == b,
    }
}

/// Byte-level equality of two documents.
pub(crate) fn documents_binary_equal(a: &bson::Document, b: &bson::Document) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .all(|((ka, va), (kb, vb))| ka == kb && binary_equal(va, vb))
}
