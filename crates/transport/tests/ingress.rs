//! The ingress path end to end over real sockets, for both service executors: the state machine's
//! transitions, reply ids, checksums, compression, exhaust, moreToCome, bad input, limits, endAllSessions
//! and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use bson::doc;
use docwire_rpc::{Compressor, ErrorCode, OpCode, OpMsg, OpMsgFlags, OpReply, build_op_query};
use docwire_transport::State::*;
use docwire_transport::{HTTP_ANSWER, ServiceExecutorKind};
use support::*;

async fn server(executor: ServiceExecutorKind) -> TestServer {
    start(Options::new(executor)).await
}

/// Waits (on a notification, not a timer loop) until the server has no sessions left.
async fn drained(server: &TestServer) {
    assert!(
        server.sessions.wait_until_empty(Duration::from_secs(10)).await,
        "sessions did not end"
    );
}

for_both_executors!(standard_command_follows_the_seed_table, |executor| async move {
    let server = server(executor).await;
    let mut client = server.client().await;
    let reply = client.command(doc! {"ping": 1, "$db": "admin"}).await;
    assert_eq!(reply, doc! {"ok": 1.0});
    drop(client);
    drained(&server).await;
    assert_eq!(
        server.states_of(1),
        [
            Source,
            SourceWait,
            ProcessStandard,
            SinkStandard,
            SinkWait,
            Source,
            SourceWait,
            EndSession
        ]
    );
});

for_both_executors!(exhaust_stream_follows_the_seed_table, |executor| async move {
    let server = server(executor).await;
    let mut client = server.client().await;
    let request = client.message(OpMsgFlags::EXHAUST_ALLOWED, doc! {"countdown": 2, "$db": "test"});
    client.send(&request).await;
    let mut ns = Vec::new();
    let mut more = Vec::new();
    let mut response_to = Vec::new();
    for _ in 0..3 {
        let (m, body) = client.receive_body().await;
        ns.push(body.get_i32("n").unwrap());
        more.push(OpMsg::parse(&m).unwrap().flags().more_to_come());
        response_to.push((m.request_id(), m.response_to()));
    }
    assert_eq!(ns, [2, 1, 0]);
    assert_eq!(
        more,
        [true, true, false],
        "all but the last reply stream with moreToCome"
    );
    // The first reply answers the request; each later one answers the previous reply.
    assert_eq!(response_to[0].1, request.request_id());
    assert_eq!(response_to[1].1, response_to[0].0);
    assert_eq!(response_to[2].1, response_to[1].0);
    // After the stream the session serves ordinary requests again.
    assert_eq!(
        client.command(doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
    drop(client);
    drained(&server).await;
    assert_eq!(
        server.states_of(1),
        [
            Source,
            SourceWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            ProcessExhaust,
            SinkMoreToCome,
            SinkWait,
            ProcessExhaust,
            SinkFinal,
            SinkWait,
            Source,
            SourceWait,
            ProcessStandard,
            SinkStandard,
            SinkWait,
            Source,
            SourceWait,
            EndSession
        ]
    );
});

for_both_executors!(more_to_come_requests_get_no_reply, |executor| async move {
    let server = server(executor).await;
    let mut client = server.client().await;
    let fire_and_forget = client.message(OpMsgFlags::MORE_TO_COME, doc! {"ping": 1, "$db": "admin"});
    client.send(&fire_and_forget).await;
    let ping = client.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
    client.send(&ping).await;
    let (reply, _) = client.receive_body().await;
    assert_eq!(
        reply.response_to(),
        ping.request_id(),
        "the first reply answers the second request"
    );
    drop(client);
    drained(&server).await;
    assert_eq!(
        server.states_of(1)[..6],
        [
            Source,
            SourceWait,
            ProcessMoreToCome,
            Source,
            SourceWait,
            ProcessStandard
        ]
    );
});

for_both_executors!(
    replies_get_fresh_ids_checksums_and_the_request_compressor,
    |executor| async move {
        let server = server(executor).await;
        let mut client = server.client().await;
        let a = client.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
        client.send(&a).await;
        let (ra, _) = client.receive_body().await;
        let b = client.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
        client.send(&b).await;
        let (rb, _) = client.receive_body().await;
        assert_eq!(
            (ra.response_to(), rb.response_to()),
            (a.request_id(), b.request_id())
        );
        assert_ne!(ra.request_id(), rb.request_id());

        let mut with_crc = client.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
        docwire_rpc::append_checksum(&mut with_crc);
        client.send(&with_crc).await;
        let (reply, _) = client.receive_body().await;
        assert!(
            OpMsg::parse(&reply).unwrap().flags().checksum_present(),
            "checksum requested, checksum sent"
        );

        for compressor in [Compressor::Snappy, Compressor::Zlib, Compressor::Zstd] {
            // Padded so the request itself compresses (a message that would grow is sent as it is).
            client
                .send_compressed(
                    doc! {"big": 1, "$db": "admin", "pad": "z".repeat(500)},
                    compressor,
                )
                .await;
            let (reply, used) = client.receive().await.unwrap();
            assert_eq!(used, Some(compressor));
            assert!(OpMsg::parse(&reply).unwrap().body().get_str("text").is_ok());
        }
    }
);

for_both_executors!(
    unix_socket_serves_and_stale_files_are_replaced,
    |executor| async move {
        let mut options = Options::new(executor);
        options.unix_socket = true;
        let server = start(options).await;
        let path = server.unix_path.clone().unwrap();
        let mut session = docwire_transport::connect(path.to_str().unwrap(), Duration::from_secs(5))
            .await
            .unwrap();
        let mut m = docwire_rpc::OpMsgBuilder::default()
            .finish_with_body(&doc! {"ping": 1, "$db": "admin"})
            .unwrap();
        m.set_ids(1, 0);
        session.sink_message(&m).await.unwrap();
        match session.source_message(Duration::from_secs(5)).await.unwrap() {
            docwire_transport::Received::Message(reply) => assert_eq!(reply.response_to(), 1),
            other => panic!("{other:?}"),
        }
    }
);

for_both_executors!(
    bad_input_closes_or_answers_and_others_keep_being_served,
    |executor| async move {
        let server = server(executor).await;
        let mut bystander = server.client().await;

        // Length below 16, above the limit, and an unknown opcode: clean close.
        for bytes in [
            12i32
                .to_le_bytes()
                .iter()
                .chain(&[0u8; 8])
                .copied()
                .collect::<Vec<u8>>(),
            48_000_001i32
                .to_le_bytes()
                .iter()
                .chain(&[0u8; 12])
                .copied()
                .collect(),
            docwire_rpc::Message::from_parts(OpCode::Unknown(9999), 1, 0, b"xxxx")
                .as_bytes()
                .to_vec(),
        ] {
            let mut c = server.client().await;
            c.send_raw(&bytes).await;
            assert!(c.is_closed().await);
        }
        // A connection-fatal OP_MSG error (an unknown required flag): closed.
        let mut c = server.client().await;
        let m = c.message(OpMsgFlags(1 << 5), doc! {"ping": 1, "$db": "admin"});
        c.send(&m).await;
        assert!(c.is_closed().await);
        // A malformed OP_MSG that is not connection-fatal (two bodies): an error reply, and the session lives.
        let mut c = server.client().await;
        let body = doc! {"ping": 1, "$db": "admin"}.to_vec().unwrap();
        let mut data = 0u32.to_le_bytes().to_vec();
        for _ in 0..2 {
            data.push(0);
            data.extend(&body);
        }
        c.send(&docwire_rpc::Message::from_parts(OpCode::Msg, 5, 0, &data))
            .await;
        let (_, reply) = c.receive_body().await;
        assert_eq!(reply.get_i32("code").unwrap(), 40430);
        assert_eq!(
            c.command(doc! {"ping": 1, "$db": "admin"}).await,
            doc! {"ok": 1.0}
        );
        // An OP_COMPRESSED whose claimed size lies: closed.
        let mut c = server.client().await;
        let ping = c.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
        let mut lie = docwire_rpc::compress_message(&ping, Compressor::Noop)
            .unwrap()
            .as_bytes()
            .to_vec();
        lie[20..24].copy_from_slice(&1000i32.to_le_bytes());
        c.send_raw(&lie).await;
        assert!(c.is_closed().await);
        // OP_QUERY for anything but the handshake: UnsupportedOpQueryCommand 352, answered with OP_REPLY.
        let mut c = server.client().await;
        let mut q = build_op_query(0, "test.$cmd", 0, -1, &doc! {"find": "c"}).unwrap();
        q.set_ids(9, 0);
        c.send(&q).await;
        let (reply, _) = c.receive().await.unwrap();
        let reply = OpReply::parse(&reply).unwrap().command_reply().unwrap();
        assert_eq!(
            reply.get_i32("code").unwrap(),
            ErrorCode::UnsupportedOpQueryCommand.code()
        );
        // OP_QUERY for a handshake-allowed command is answered.
        let mut q = build_op_query(0, "admin.$cmd", 0, -1, &doc! {"ping": 1}).unwrap();
        q.set_ids(10, 0);
        c.send(&q).await;
        let (reply, _) = c.receive().await.unwrap();
        assert_eq!(
            OpReply::parse(&reply).unwrap().command_reply().unwrap(),
            doc! {"ok": 1.0}
        );
        // An unknown command: CommandNotFound with mongod's message.
        let reply = c.command(doc! {"frobnicate": 1, "$db": "admin"}).await;
        assert_eq!(reply.get_i32("code").unwrap(), 59);
        assert_eq!(reply.get_str("errmsg").unwrap(), "no such command: 'frobnicate'");
        // HTTP on the native port: mongod's short answer, then close.
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut http = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
            http.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            http.read_to_end(&mut answer).await.unwrap();
            assert_eq!(answer, HTTP_ANSWER);
        }

        // Through all of it the first client is still served.
        assert_eq!(
            bystander.command(doc! {"ping": 1, "$db": "admin"}).await,
            doc! {"ok": 1.0}
        );
    }
);

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_stalled_half_header_is_dropped_after_the_timeout() {
    let mut options = Options::new(ServiceExecutorKind::Async);
    options.partial_timeout = Duration::from_secs(5);
    let server = start(options).await;
    let mut staller = server.client().await;
    staller.send_raw(&[0x10, 0, 0]).await;
    // Virtual time: the runtime jumps to the server's timeout while both sides wait.
    assert!(staller.is_closed().await, "the stalled session is dropped");
    let mut other = server.client().await;
    assert_eq!(
        other.command(doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
}

for_both_executors!(max_conns_rejects_without_a_reply, |executor| async move {
    let mut options = Options::new(executor);
    options.max_conns = 2;
    let server = start(options).await;
    let mut a = server.client().await;
    let mut b = server.client().await;
    assert_eq!(
        a.command(doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
    assert_eq!(
        b.command(doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
    let mut c = server.client().await;
    let m = c.message(OpMsgFlags::NONE, doc! {"ping": 1, "$db": "admin"});
    let _ = c.session.sink_message(&m).await;
    assert!(c.is_closed().await, "over the limit: closed without a reply");
    let stats = server.sessions.stats();
    assert_eq!(
        (
            stats.current,
            stats.available,
            stats.total_created,
            stats.rejected
        ),
        (2, 0, 2, 1)
    );
    drop(a);
    drop(b);
    drained(&server).await;
    let mut d = server.client().await;
    assert_eq!(
        d.command(doc! {"ping": 1, "$db": "admin"}).await,
        doc! {"ok": 1.0}
    );
});

for_both_executors!(
    an_injected_failure_ends_the_session_cleanly,
    |executor| async move {
        let server = server(executor).await;
        let mut client = server.client().await;
        let reply = client.command(doc! {"ping": 1, "$db": "admin"}).await;
        assert_eq!(reply, doc! {"ok": 1.0});
        let m = client.message(OpMsgFlags::NONE, doc! {"explode": 1, "$db": "admin"});
        client.send(&m).await;
        assert!(client.is_closed().await);
        drained(&server).await;
        assert_eq!(server.service.operation_count(), 0, "the operation was delisted");
        let states = server.states_of(1);
        assert_eq!(
            states.iter().filter(|s| **s == EndSession).count(),
            1,
            "EndSession exactly once"
        );
        assert_eq!(states[states.len() - 2..], [ProcessStandard, EndSession]);
    }
);

for_both_executors!(
    a_peer_that_leaves_mid_exhaust_ends_the_stream,
    |executor| async move {
        let server = server(executor).await;
        let mut client = server.client().await;
        let request = client.message(
            OpMsgFlags::EXHAUST_ALLOWED,
            doc! {"countdown": 1_000_000, "$db": "test"},
        );
        client.send(&request).await;
        let (_, first) = client.receive_body().await;
        assert_eq!(first.get_i32("n").unwrap(), 1_000_000);
        drop(client);
        drained(&server).await;
        let states = server.states_of(1);
        assert_eq!(states.last(), Some(&EndSession));
        assert_eq!(server.service.operation_count(), 0);
    }
);

for_both_executors!(
    end_all_sessions_spares_matching_tags_and_pending,
    |executor| async move {
        let server = server(executor).await;
        let mut pending = server.client().await;
        let mut tagged = server.client().await;
        let mut plain = server.client().await;
        for c in [&mut pending, &mut tagged, &mut plain] {
            c.command(doc! {"ping": 1, "$db": "admin"}).await;
        }
        let infos = server.sessions.sessions();
        let by_id = |id: u64| infos.iter().find(|i| i.id() == id).unwrap().clone();
        // Session 1 stays pending (no handshake); 2 keeps-open; 3 finished its handshake, no keep-open bit.
        by_id(2).mutate_tags(|_| docwire_transport::tags::KEEP_OPEN);
        by_id(3).mutate_tags(|_| docwire_transport::tags::EXTERNAL_CLIENT_KEEP_OPEN);
        let ended = server
            .sessions
            .end_all_sessions(docwire_transport::tags::KEEP_OPEN);
        assert_eq!(ended, 1);
        assert!(plain.is_closed().await);
        assert_eq!(
            pending.command(doc! {"ping": 1, "$db": "admin"}).await,
            doc! {"ok": 1.0}
        );
        assert_eq!(
            tagged.command(doc! {"ping": 1, "$db": "admin"}).await,
            doc! {"ok": 1.0}
        );
    }
);

for_both_executors!(
    graceful_shutdown_interrupts_a_request_in_flight,
    |executor| async move {
        let server = server(executor).await;
        let mut client = server.client().await;
        let m = client.message(OpMsgFlags::NONE, doc! {"block": 1, "$db": "admin"});
        client.send(&m).await;
        // Wait until the operation is running.
        while server.service.operation_count() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(
            server.handle.shutdown(Duration::from_secs(10)).await,
            "drained within the grace period"
        );
        // The blocked request was interrupted (mongod answers InterruptedAtShutdown), then the session closed.
        if let Some((reply, _)) = client.receive().await {
            let body = bson::Document::try_from(OpMsg::parse(&reply).unwrap().body()).unwrap();
            assert_eq!(
                body.get_i32("code").unwrap(),
                ErrorCode::InterruptedAtShutdown.code()
            );
        }
        assert!(client.is_closed().await);
        assert_eq!(server.sessions.stats().current, 0);
        // New connections are refused once shut down.
        assert!(
            docwire_transport::connect(&server.addr, Duration::from_secs(2))
                .await
                .map(|_| ())
                .is_err()
                || server.client().await.is_closed().await
        );
    }
);
