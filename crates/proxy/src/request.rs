//! What the proxy reads of a request: only what routing needs (command name, `$db`, collection,
//! `$readPreference`, `lsid`, `txnNumber`, `startTransaction`/`autocommit`, and the cursor ids of getMore and
//! killCursors), straight from the raw body without decoding the rest.

use bson::raw::{RawArray, RawBsonRef, RawDocument};
use bson::{Document, RawDocumentBuf};
use docwire_executor::sdam::{Operation, ReadPreference, ReadPreferenceMode};
use docwire_rpc::{ErrorCode, OpMsg, Status, StatusResult};

/// Commands that read and may be served by a secondary when the client's read preference allows it.
const SECONDARY_OK_READS: [&str; 9] = [
    "find",
    "aggregate",
    "count",
    "distinct",
    "listCollections",
    "listIndexes",
    "collStats",
    "dbStats",
    "explain",
];

/// Reads a driver may retry (the retryable-reads specification), so the proxy may retry them once too.
const RETRYABLE_READS: [&str; 7] = [
    "find",
    "aggregate",
    "count",
    "distinct",
    "listCollections",
    "listIndexes",
    "listDatabases",
];

/// One request, as far as routing needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestInfo {
    /// The command name (the body's first field).
    pub command: String,
    /// `$db`.
    pub db: String,
    /// The collection the command names (getMore's `collection`), if any.
    pub collection: Option<String>,
    /// `$readPreference`, if the request carried one (absent means primary).
    pub read_preference: Option<ReadPreference>,
    /// `lsid`, the logical session, raw.
    pub lsid: Option<RawDocumentBuf>,
    /// `txnNumber`.
    pub txn_number: Option<i64>,
    /// `startTransaction: true`.
    pub start_transaction: bool,
    /// `autocommit` (false inside a multi-document transaction).
    pub autocommit: Option<bool>,
    /// getMore's cursor id, or killCursors' `cursors`.
    pub cursor_ids: Vec<i64>,
    /// An aggregate ending in `$out` or `$merge` (a write, whatever the read preference).
    pub aggregate_writes: bool,
}

fn int64(value: RawBsonRef<'_>) -> Option<i64> {
    match value {
        RawBsonRef::Int32(v) => Some(i64::from(v)),
        RawBsonRef::Int64(v) => Some(v),
        RawBsonRef::Double(v) if v.fract() == 0.0 => Some(v as i64),
        _ => None,
    }
}

fn read_preference(doc: &RawDocument) -> StatusResult<ReadPreference> {
    let bad = |why: &str| {
        Status::new(
            ErrorCode::FailedToParse,
            format!("invalid $readPreference: {why}"),
        )
    };
    let mode = match doc.get("mode") {
        Ok(Some(RawBsonRef::String(mode))) => {
            ReadPreferenceMode::parse(mode).ok_or_else(|| bad("unknown mode"))?
        }
        Ok(None) => return Err(bad("the mode is missing")),
        _ => return Err(bad("the mode must be a string")),
    };
    let mut tag_sets = Vec::new();
    if let Ok(Some(RawBsonRef::Array(sets))) = doc.get("tags") {
        for set in sets.into_iter().flatten() {
            if let RawBsonRef::Document(set) = set {
                tag_sets.push(Document::try_from(set).map_err(|_| bad("bad tag set"))?);
            }
        }
    }
    Ok(ReadPreference { mode, tag_sets })
}

fn last_stage_writes(pipeline: &RawArray) -> bool {
    let last = pipeline.into_iter().flatten().last();
    let Some(RawBsonRef::Document(stage)) = last else {
        return false;
    };
    stage
        .into_iter()
        .flatten()
        .next()
        .is_some_and(|(name, _)| name == "$out" || name == "$merge")
}

impl RequestInfo {
    /// Reads the routing fields of an OP_MSG; the command name and `$db` must be there.
    pub fn parse(msg: &OpMsg) -> StatusResult<RequestInfo> {
        let command = msg.command_name()?.to_owned();
        let db = msg.database()?.to_owned();
        let body = msg.body();
        let mut info = RequestInfo {
            command,
            db,
            collection: None,
            read_preference: None,
            lsid: None,
            txn_number: None,
            start_transaction: false,
            autocommit: None,
            cursor_ids: Vec::new(),
            aggregate_writes: false,
        };
        for field in body {
            let (key, value) = field.map_err(|e| Status::new(ErrorCode::InvalidBSON, e.to_string()))?;
            match (key.as_str(), value) {
                (k, RawBsonRef::String(coll)) if k == info.command && info.command != "getMore" => {
                    info.collection = Some(coll.to_owned());
                }
                (k, value) if k == info.command && info.command == "getMore" => {
                    info.cursor_ids.extend(int64(value));
                }
                ("collection", RawBsonRef::String(coll)) if info.command == "getMore" => {
                    info.collection = Some(coll.to_owned());
                }
                ("cursors", RawBsonRef::Array(ids)) if info.command == "killCursors" => {
                    info.cursor_ids
                        .extend(ids.into_iter().flatten().filter_map(int64));
                }
                ("pipeline", RawBsonRef::Array(stages)) if info.command == "aggregate" => {
                    info.aggregate_writes = last_stage_writes(stages);
                }
                ("$readPreference", RawBsonRef::Document(doc)) => {
                    info.read_preference = Some(read_preference(doc)?);
                }
                ("lsid", RawBsonRef::Document(doc)) => info.lsid = Some(doc.to_owned()),
                ("txnNumber", value) => info.txn_number = int64(value),
                ("startTransaction", RawBsonRef::Boolean(b)) => info.start_transaction = b,
                ("autocommit", RawBsonRef::Boolean(b)) => info.autocommit = Some(b),
                _ => {}
            }
        }
        Ok(info)
    }

    /// `db.collection`, or `db.$cmd` for a command that names none.
    pub fn namespace(&self) -> String {
        match &self.collection {
            Some(coll) => format!("{}.{coll}", self.db),
            None => format!("{}.$cmd", self.db),
        }
    }

    /// Part of a multi-document transaction (`txnNumber` with `autocommit: false`).
    pub fn in_transaction(&self) -> bool {
        self.txn_number.is_some() && self.autocommit == Some(false)
    }

    /// commitTransaction or abortTransaction: the transaction's pin ends with it.
    pub fn ends_transaction(&self) -> bool {
        matches!(self.command.as_str(), "commitTransaction" | "abortTransaction")
    }

    /// Whether a secondary may serve it: a read command whose read preference is not primary.
    pub fn operation(&self) -> Operation {
        let secondary_ok = SECONDARY_OK_READS.contains(&self.command.as_str())
            && !self.aggregate_writes
            && !self.in_transaction()
            && self
                .read_preference
                .as_ref()
                .is_some_and(|rp| rp.mode != ReadPreferenceMode::Primary);
        if secondary_ok {
            Operation::Read
        } else {
            Operation::Write
        }
    }

    /// The read preference to select with: the request's for reads, primary otherwise.
    pub fn selection_preference(&self) -> ReadPreference {
        match (self.operation(), &self.read_preference) {
            (Operation::Read, Some(rp)) => rp.clone(),
            _ => ReadPreference::primary(),
        }
    }

    /// Safe to send again after the upstream failed it: a retryable read, or a write carrying lsid and
    /// txnNumber outside a transaction (the server applies it at most once).
    pub fn is_retryable(&self) -> bool {
        if self.in_transaction() || self.autocommit.is_some() {
            return false;
        }
        let retryable_read = RETRYABLE_READS.contains(&self.command.as_str()) && !self.aggregate_writes;
        let retryable_write = self.lsid.is_some() && self.txn_number.is_some();
        retryable_read || retryable_write
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bson::doc;
    use docwire_rpc::{OpMsgBuilder, OpMsgFlags};

    fn info(body: Document) -> RequestInfo {
        let message = OpMsgBuilder::new(OpMsgFlags::NONE)
            .finish_with_body(&body)
            .unwrap();
        RequestInfo::parse(&OpMsg::parse(&message).unwrap()).unwrap()
    }

    #[test]
    fn a_find_with_a_secondary_read_preference_is_a_read() {
        let find = info(doc! {
            "find": "items", "filter": {"x": 1}, "$db": "shop",
            "$readPreference": {"mode": "secondaryPreferred", "tags": [{"dc": "east"}, {}]},
            "lsid": {"id": 1},
        });
        assert_eq!(find.command, "find");
        assert_eq!(find.namespace(), "shop.items");
        assert_eq!(find.operation(), Operation::Read);
        let rp = find.selection_preference();
        assert_eq!(rp.mode, ReadPreferenceMode::SecondaryPreferred);
        assert_eq!(rp.tag_sets, vec![doc! {"dc": "east"}, doc! {}]);
        assert!(find.is_retryable());
    }

    #[test]
    fn writes_and_primary_reads_go_to_the_primary() {
        let insert = info(doc! {"insert": "items", "$db": "shop",
        "$readPreference": {"mode": "secondary"}});
        assert_eq!(insert.operation(), Operation::Write);
        assert_eq!(insert.selection_preference().mode, ReadPreferenceMode::Primary);
        let out = info(
            doc! {"aggregate": "items", "pipeline": [{"$match": {}}, {"$out": "copy"}],
            "cursor": {}, "$db": "shop", "$readPreference": {"mode": "secondary"}},
        );
        assert!(out.aggregate_writes);
        assert_eq!(out.operation(), Operation::Write);
        assert!(!out.is_retryable());
        let plain = info(doc! {"find": "items", "$db": "shop"});
        assert_eq!(
            plain.operation(),
            Operation::Write,
            "no read preference means primary"
        );
    }

    #[test]
    fn retryable_writes_carry_lsid_and_txn_number_outside_transactions() {
        let retryable = info(doc! {"insert": "c", "$db": "d", "lsid": {"id": 1}, "txnNumber": 4_i64});
        assert!(retryable.is_retryable());
        assert_eq!(retryable.txn_number, Some(4));
        let plain = info(doc! {"insert": "c", "$db": "d", "lsid": {"id": 1}});
        assert!(!plain.is_retryable());
        let txn = info(
            doc! {"insert": "c", "$db": "d", "lsid": {"id": 1}, "txnNumber": 4_i64,
            "startTransaction": true, "autocommit": false},
        );
        assert!(txn.in_transaction() && txn.start_transaction);
        assert!(!txn.is_retryable());
        let commit = info(doc! {"commitTransaction": 1, "$db": "admin", "lsid": {"id": 1},
        "txnNumber": 4_i64, "autocommit": false});
        assert!(commit.ends_transaction() && commit.in_transaction());
    }

    #[test]
    fn cursor_ids_of_get_more_and_kill_cursors() {
        let get_more = info(doc! {"getMore": 77_i64, "collection": "items", "$db": "shop"});
        assert_eq!(get_more.cursor_ids, vec![77]);
        assert_eq!(get_more.namespace(), "shop.items");
        assert!(!get_more.is_retryable());
        let kill = info(doc! {"killCursors": "items", "cursors": [1_i64, 2_i64], "$db": "shop"});
        assert_eq!(kill.cursor_ids, vec![1, 2]);
        assert_eq!(kill.namespace(), "shop.items");
    }

    #[test]
    fn a_bad_read_preference_is_failed_to_parse() {
        let message = OpMsgBuilder::new(OpMsgFlags::NONE)
            .finish_with_body(&doc! {"find": "c", "$db": "d", "$readPreference": {"mode": "sometimes"}})
            .unwrap();
        let err = RequestInfo::parse(&OpMsg::parse(&message).unwrap()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FailedToParse);
    }
}
