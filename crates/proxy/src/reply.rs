//! What the proxy reads of an upstream reply, from the raw body: `ok`, the error code, and the cursor it
//! opened (id and namespace), so it can pin cursors, count errors and notice a failover.

use bson::Document;
use bson::raw::{RawBsonRef, RawDocument};
use docwire_rpc::{Message, OpCode, OpMsg, StatusResult};

/// The parts of a reply the proxy acts on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplySummary {
    /// `ok` was 1.
    pub ok: bool,
    /// `code` when not ok (0 when ok, or absent).
    pub code: i32,
    /// `codeName` when not ok.
    pub code_name: Option<String>,
    /// `cursor.id` and `cursor.ns`, when the reply carries a cursor.
    pub cursor: Option<(i64, String)>,
    /// The whole reply, decoded only when it failed (for failover detection and error labels).
    pub error: Option<Document>,
}

fn number(value: RawBsonRef<'_>) -> Option<f64> {
    match value {
        RawBsonRef::Int32(v) => Some(f64::from(v)),
        RawBsonRef::Int64(v) => Some(v as f64),
        RawBsonRef::Double(v) => Some(v),
        RawBsonRef::Boolean(b) => Some(if b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn cursor_of(body: &RawDocument) -> Option<(i64, String)> {
    let Ok(Some(RawBsonRef::Document(cursor))) = body.get("cursor") else {
        return None;
    };
    let id = match cursor.get("id").ok().flatten()? {
        RawBsonRef::Int64(id) => id,
        RawBsonRef::Int32(id) => i64::from(id),
        _ => return None,
    };
    let ns = match cursor.get("ns") {
        Ok(Some(RawBsonRef::String(ns))) => ns.to_owned(),
        _ => String::new(),
    };
    Some((id, ns))
}

/// Summarizes a reply body.
pub fn summarize_body(body: &RawDocument) -> ReplySummary {
    let ok = matches!(body.get("ok"), Ok(Some(v)) if number(v) == Some(1.0));
    if ok {
        return ReplySummary {
            ok,
            cursor: cursor_of(body),
            ..ReplySummary::default()
        };
    }
    let error = Document::try_from(body).ok();
    let code = error
        .as_ref()
        .and_then(|d| d.get("code"))
        .and_then(|c| {
            c.as_i32()
                .or_else(|| c.as_i64().and_then(|v| i32::try_from(v).ok()))
        })
        .unwrap_or(0);
    let code_name = error
        .as_ref()
        .and_then(|d| d.get_str("codeName").ok())
        .map(str::to_owned);
    ReplySummary {
        ok,
        code,
        code_name,
        cursor: None,
        error,
    }
}

/// Summarizes an OP_MSG reply (anything else counts as a failed reply without a code).
pub fn summarize(reply: &Message) -> StatusResult<ReplySummary> {
    if reply.op_code() != OpCode::Msg {
        return Ok(ReplySummary::default());
    }
    let msg = OpMsg::parse(reply)?;
    Ok(summarize_body(msg.body()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use bson::rawdoc;

    #[test]
    fn an_ok_reply_with_a_cursor() {
        let body = rawdoc! {"cursor": {"firstBatch": [], "id": 42_i64, "ns": "shop.items"}, "ok": 1.0};
        let summary = summarize_body(&body);
        assert!(summary.ok);
        assert_eq!(summary.cursor, Some((42, "shop.items".to_owned())));
        assert_eq!(summary.error, None);
    }

    #[test]
    fn a_failed_reply_keeps_its_code_and_body() {
        let body =
            rawdoc! {"ok": 0.0, "errmsg": "not primary", "code": 10107, "codeName": "NotWritablePrimary"};
        let summary = summarize_body(&body);
        assert!(!summary.ok);
        assert_eq!(summary.code, 10107);
        assert_eq!(summary.code_name.as_deref(), Some("NotWritablePrimary"));
        assert!(summary.error.is_some());
        assert!(summarize_body(&rawdoc! {"ok": 1}).ok, "ok may be an int");
    }
}
