//! The one rewrite the proxy makes to a request: a standalone mongod refuses `txnNumber` ("Transaction
//! numbers are only allowed on a replica set member or mongos", IllegalOperation 20), yet drivers send it
//! for retryable writes because the proxy presents itself as a mongos. In front of a standalone the field is
//! dropped (the write is then not retryable, as it never is on a standalone); the rest of the message, its
//! document sequences included, is copied as it is.

use bson::RawDocumentBuf;
use docwire_rpc::{ErrorCode, Message, OpMsg, OpMsgBuilder, Status, StatusResult};

/// `msg` rebuilt without the body fields in `drop` (flags kept, checksum not carried over).
pub fn without_body_fields(msg: &OpMsg, drop: &[&str]) -> StatusResult<Message> {
    let mut body = RawDocumentBuf::new();
    for element in msg.body() {
        let (key, value) = element.map_err(|e| Status::new(ErrorCode::InvalidBSON, e.to_string()))?;
        if !drop.contains(&key.as_str()) {
            body.append(key, value);
        }
    }
    let flags = msg.flags().without(docwire_rpc::OpMsgFlags::CHECKSUM_PRESENT);
    let mut builder = OpMsgBuilder::new(flags);
    for sequence in msg.sequences() {
        builder.document_sequence(sequence.identifier(), sequence.iter());
    }
    Ok(builder.finish_with_raw_body(&body))
}

/// The error a standalone gives a multi-document transaction.
pub fn no_transactions_on_standalone() -> Status {
    Status::new(
        ErrorCode::IllegalOperation,
        "Transaction numbers are only allowed on a replica set member or mongos",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bson::{Document, doc, rawdoc};
    use docwire_rpc::OpMsgFlags;

    #[test]
    fn txn_number_is_dropped_and_everything_else_kept() {
        let docs = [rawdoc! {"_id": 1}, rawdoc! {"_id": 2}];
        let mut builder = OpMsgBuilder::new(OpMsgFlags::NONE);
        builder.document_sequence("documents", docs.iter().map(|d| d.as_ref()));
        let original = builder
            .finish_with_body(&doc! {"insert": "c", "lsid": {"id": 1}, "txnNumber": 3_i64, "$db": "d"})
            .unwrap();
        let parsed = OpMsg::parse(&original).unwrap();
        let rewritten = without_body_fields(&parsed, &["txnNumber"]).unwrap();
        let again = OpMsg::parse(&rewritten).unwrap();
        assert_eq!(
            again.merged().unwrap(),
            doc! {"insert": "c", "lsid": {"id": 1}, "$db": "d", "documents": [{"_id": 1}, {"_id": 2}]}
        );
        let body = Document::try_from(again.body()).unwrap();
        assert!(!body.contains_key("txnNumber"));
    }
}
