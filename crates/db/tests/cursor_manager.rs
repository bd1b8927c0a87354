//! The cursor registry on a mock clock: batches, CursorNotFound, namespace and session ownership,
//! CursorInUse, killCursors, idle reaping with noCursorTimeout, and connection cleanup.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use bson::{RawDocumentBuf, doc, rawdoc};
use docwire_db::cursor::*;
use docwire_rpc::ErrorCode;
use docwire_service::MockClock;

fn docs(n: i32) -> Vec<RawDocumentBuf> {
    (0..n).map(|i| rawdoc! {"_id": i}).collect()
}

fn owner(conn: u64) -> CursorOwner {
    CursorOwner {
        connection_id: conn,
        lsid: None,
    }
}

fn setup() -> (Arc<MockClock>, CursorManager) {
    let clock = Arc::new(MockClock::new());
    let manager = CursorManager::new(clock.clone(), DEFAULT_CURSOR_TIMEOUT);
    (clock, manager)
}

#[test]
fn batches_until_exhausted_then_the_cursor_is_gone() {
    let (_, m) = setup();
    let id = m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    assert!(id > 0);
    let mut seen = Vec::new();
    loop {
        let mut pinned = m.check_out(id, "t.c", &owner(1)).unwrap();
        let batch = pinned
            .next_batch(BatchLimit::get_more(Some(2)), &mut || Ok(()))
            .unwrap();
        seen.extend(batch.documents.iter().map(|d| d.get_i32("_id").unwrap()));
        if batch.exhausted {
            break;
        }
    }
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    let err = m.check_out(id, "t.c", &owner(1)).err().unwrap();
    assert_eq!(err.code(), ErrorCode::CursorNotFound);
    assert_eq!(err.reason(), format!("cursor id {id} not found"));
}

#[test]
fn byte_limit_keeps_at_least_one_document() {
    let mut source = VecSource::new(docs(3));
    let batch = source
        .next_batch(
            BatchLimit {
                max_docs: None,
                max_bytes: 1,
            },
            &mut || Ok(()),
        )
        .unwrap();
    assert_eq!(batch.documents.len(), 1);
    assert!(!batch.exhausted);
}

#[test]
fn namespace_session_and_pinning_are_enforced() {
    let (_, m) = setup();
    let id = m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    assert_eq!(
        m.check_out(id, "t.other", &owner(1)).err().unwrap().code(),
        ErrorCode::Unauthorized
    );
    let session = CursorOwner {
        connection_id: 2,
        lsid: Some(doc! {"id": 7}),
    };
    assert_eq!(
        m.check_out(id, "t.c", &session).err().unwrap().code(),
        ErrorCode::Unauthorized
    );
    let pinned = m.check_out(id, "t.c", &owner(1)).unwrap();
    assert_eq!(
        m.check_out(id, "t.c", &owner(1)).err().unwrap().code(),
        ErrorCode::CursorInUse
    );
    drop(pinned);
    assert!(m.check_out(id, "t.c", &owner(1)).is_ok());
    // A session's cursor is usable from another connection in the same session.
    let sid = m.register(
        "t.c",
        session.clone(),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    let other_conn = CursorOwner {
        connection_id: 9,
        lsid: Some(doc! {"id": 7}),
    };
    assert!(m.check_out(sid, "t.c", &other_conn).is_ok());
}

#[test]
fn kill_cursors_reports_killed_and_not_found() {
    let (_, m) = setup();
    let a = m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    let b = m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    let pinned = m.check_out(b, "t.c", &owner(1)).unwrap();
    let result = m.kill(&[a, b, 12345]);
    assert_eq!(result.killed, [a, b]);
    assert_eq!(result.not_found, [12345]);
    drop(pinned);
    assert!(
        m.is_empty(),
        "a cursor killed while pinned is gone once its getMore returns"
    );
}

#[test]
fn idle_cursors_are_reaped_after_the_timeout_unless_no_timeout() {
    let (clock, m) = setup();
    let idle = m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    let keep = m.register(
        "t.c",
        owner(1),
        CursorOptions {
            no_timeout: true,
            comment: None,
        },
        Box::new(VecSource::new(docs(5))),
    );
    clock.advance(DEFAULT_CURSOR_TIMEOUT - Duration::from_millis(1));
    assert_eq!(m.reap_idle(), 0);
    // Using a cursor resets its idle time.
    drop(m.check_out(idle, "t.c", &owner(1)).unwrap());
    clock.advance(Duration::from_millis(2));
    assert_eq!(m.reap_idle(), 0);
    clock.advance(DEFAULT_CURSOR_TIMEOUT);
    assert_eq!(m.reap_idle(), 1);
    assert_eq!(
        m.check_out(idle, "t.c", &owner(1)).err().unwrap().code(),
        ErrorCode::CursorNotFound
    );
    assert!(m.check_out(keep, "t.c", &owner(1)).is_ok());
}

#[test]
fn a_connection_ending_kills_its_sessionless_cursors() {
    let (_, m) = setup();
    m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    m.register(
        "t.c",
        owner(2),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    let in_session = CursorOwner {
        connection_id: 1,
        lsid: Some(doc! {"id": 1}),
    };
    m.register(
        "t.c",
        in_session,
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    assert_eq!(m.kill_for_connection(1), 1);
    assert_eq!(m.len(), 2);
}

#[test]
fn ids_are_unique_and_positive() {
    let (_, m) = setup();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..1000 {
        let id = m.register(
            "t.c",
            owner(1),
            CursorOptions::default(),
            Box::new(VecSource::new(docs(1))),
        );
        assert!(id > 0);
        assert!(ids.insert(id));
    }
}

#[test]
fn ending_a_session_kills_its_cursors() {
    let (_, m) = setup();
    let session = CursorOwner {
        connection_id: 1,
        lsid: Some(doc! {"id": 1}),
    };
    let other = CursorOwner {
        connection_id: 1,
        lsid: Some(doc! {"id": 2}),
    };
    let a = m.register(
        "t.c",
        session.clone(),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    m.register(
        "t.c",
        other,
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    m.register(
        "t.c",
        owner(1),
        CursorOptions::default(),
        Box::new(VecSource::new(docs(5))),
    );
    assert_eq!(m.kill_for_session(&doc! {"id": 1}), 1);
    assert_eq!(
        m.check_out(a, "t.c", &session).err().unwrap().code(),
        ErrorCode::CursorNotFound
    );
    assert_eq!(m.len(), 2);
}
