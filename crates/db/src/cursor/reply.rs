//! A cursor's reply, `{cursor: {<firstBatch|nextBatch>: [...], id, ns}, ok: 1.0}`, written into one
//! buffer: each batch document is copied once, where appending to nested raw documents copied the
//! whole batch three times (into the array, the array into `cursor`, `cursor` into the reply).

use bson::RawDocumentBuf;
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// BSON element types written here.
const DOUBLE: u8 = 0x01;
const STRING: u8 = 0x02;
const DOCUMENT: u8 = 0x03;
const ARRAY: u8 = 0x04;
const INT64: u8 = 0x12;

/// The reply to a find, getMore or other cursor-returning command, built from stored documents.
/// `batch_field` and `ns` hold no NUL byte (a literal and a validated namespace).
pub fn batch_reply(
    batch_field: &str,
    documents: &[RawDocumentBuf],
    id: i64,
    ns: &str,
) -> StatusResult<RawDocumentBuf> {
    let docs_len: usize = documents.iter().map(|d| d.as_bytes().len()).sum();
    let mut out = Vec::with_capacity(docs_len + documents.len() * 8 + ns.len() + batch_field.len() + 64);
    let reply = open_document(&mut out);
    element(&mut out, DOCUMENT, "cursor");
    let cursor = open_document(&mut out);
    element(&mut out, ARRAY, batch_field);
    let batch = open_document(&mut out);
    let mut index = itoa_buffer();
    for (i, doc) in documents.iter().enumerate() {
        element(&mut out, DOCUMENT, decimal(i, &mut index));
        out.extend_from_slice(doc.as_bytes());
    }
    close_document(&mut out, batch)?;
    element(&mut out, INT64, "id");
    out.extend_from_slice(&id.to_le_bytes());
    element(&mut out, STRING, "ns");
    out.extend_from_slice(&length(ns.len() + 1)?.to_le_bytes());
    out.extend_from_slice(ns.as_bytes());
    out.push(0);
    close_document(&mut out, cursor)?;
    element(&mut out, DOUBLE, "ok");
    out.extend_from_slice(&1.0f64.to_le_bytes());
    close_document(&mut out, reply)?;
    RawDocumentBuf::from_bytes(out).map_err(|e| too_large(&e.to_string()))
}

/// Starts a document: a length placeholder; returns where it starts.
fn open_document(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    start
}

/// Ends the document started at `start`: its terminator, then its length.
fn close_document(out: &mut Vec<u8>, start: usize) -> StatusResult<()> {
    out.push(0);
    let len = length(out.len() - start)?.to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    Ok(())
}

/// An element's type byte and name.
fn element(out: &mut Vec<u8>, kind: u8, name: &str) {
    out.push(kind);
    out.extend_from_slice(name.as_bytes());
    out.push(0);
}

fn length(n: usize) -> StatusResult<i32> {
    i32::try_from(n).map_err(|_| too_large("a cursor reply over 2 GiB"))
}

fn too_large(what: &str) -> Status {
    Status::new(
        ErrorCode::InternalError,
        format!("cannot build the cursor reply: {what}"),
    )
}

/// Room for the decimal digits of any usize.
fn itoa_buffer() -> [u8; 20] {
    [0; 20]
}

/// `i` in decimal (an array index's field name), written into `buf`.
fn decimal(mut i: usize, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (i % 10) as u8;
        i /= 10;
        if i == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[at..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::raw::{RawArrayBuf, RawBson};
    use bson::{cstr, rawdoc};

    /// The same reply assembled with the bson crate's builders.
    fn reference(field: &str, documents: &[RawDocumentBuf], id: i64, ns: &str) -> RawDocumentBuf {
        let mut batch = RawArrayBuf::new();
        for d in documents {
            batch.push(RawBson::Document(d.clone()));
        }
        let mut cursor = RawDocumentBuf::new();
        cursor.append(
            <&bson::raw::CStr>::try_from(field).unwrap(),
            RawBson::Array(batch),
        );
        cursor.append(cstr!("id"), id);
        cursor.append(cstr!("ns"), ns);
        let mut reply = RawDocumentBuf::new();
        reply.append(cstr!("cursor"), RawBson::Document(cursor));
        reply.append(cstr!("ok"), 1.0);
        reply
    }

    #[test]
    fn matches_the_bson_builders_byte_for_byte() {
        for n in [0, 1, 9, 10, 11, 101, 1000] {
            let documents: Vec<RawDocumentBuf> = (0..n)
                .map(|i: i32| rawdoc! {"_id": i, "s": "x".repeat(usize::try_from(i % 7).unwrap())})
                .collect();
            for (field, id) in [("firstBatch", 0), ("nextBatch", 1_234_567_890_123)] {
                let got = batch_reply(field, &documents, id, "db.coll").unwrap();
                assert_eq!(got, reference(field, &documents, id, "db.coll"), "{n} documents");
            }
        }
    }

    #[test]
    fn decimal_names_array_positions() {
        let mut buf = itoa_buffer();
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(101, &mut buf), "101");
        assert_eq!(decimal(usize::MAX, &mut buf), usize::MAX.to_string());
    }
}
