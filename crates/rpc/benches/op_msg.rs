//! Criterion benchmarks of OP_MSG parse and build: a ping, an insert of 1,000 small documents as a
//! document sequence, and a 16 MiB body. Run with `cargo xtask bench rpc`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use bson::{Document, RawDocumentBuf, doc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use docwire_rpc::{Message, OpMsg, OpMsgBuilder, OpMsgFlags, append_checksum};

fn ping_message() -> Message {
    OpMsgBuilder::default()
        .finish_with_body(&doc! {"ping": 1, "$db": "admin"})
        .unwrap()
}

fn small_docs() -> Vec<RawDocumentBuf> {
    (0..1000)
        .map(|i| {
            RawDocumentBuf::try_from(&doc! {"_id": i, "name": format!("user{i}"), "age": i % 90}).unwrap()
        })
        .collect()
}

fn insert_message(docs: &[RawDocumentBuf]) -> Message {
    let mut b = OpMsgBuilder::with_capacity(OpMsgFlags::NONE, 64 * 1024);
    b.document_sequence("documents", docs.iter().map(|d| d.as_ref()));
    b.finish_with_body(&doc! {"insert": "users", "ordered": true, "$db": "test"})
        .unwrap()
}

fn big_body() -> RawDocumentBuf {
    // One binary field that fills the body to 16 MiB exactly.
    let overhead = RawDocumentBuf::try_from(&doc! {"insert": "c", "$db": "test", "blob": bson::Binary {
    subtype: bson::spec::BinarySubtype::Generic, bytes: vec![] }})
    .unwrap()
    .as_bytes()
    .len();
    let blob = vec![7u8; 16 * 1024 * 1024 - overhead];
    let d: Document = doc! {"insert": "c", "$db": "test", "blob": bson::Binary {
    subtype: bson::spec::BinarySubtype::Generic, bytes: blob }};
    RawDocumentBuf::try_from(&d).unwrap()
}

fn ping(c: &mut Criterion) {
    let mut g = c.benchmark_group("rpc ping");
    let msg = ping_message();
    let mut with_crc = msg.clone();
    append_checksum(&mut with_crc);
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("parse", |b| b.iter(|| OpMsg::parse(black_box(&msg)).unwrap()));
    g.bench_function("parse with checksum", |b| {
        b.iter(|| OpMsg::parse(black_box(&with_crc)).unwrap())
    });
    g.bench_function("build", |b| {
        b.iter(|| {
            OpMsgBuilder::default()
                .finish_with_body(black_box(&doc! {"ping": 1, "$db": "admin"}))
                .unwrap()
        })
    });
    g.finish();
}

fn insert_1000(c: &mut Criterion) {
    let mut g = c.benchmark_group("rpc insert 1000 docs");
    let docs = small_docs();
    let msg = insert_message(&docs);
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("parse", |b| b.iter(|| OpMsg::parse(black_box(&msg)).unwrap()));
    g.bench_function("parse and iterate", |b| {
        b.iter(|| {
            let m = OpMsg::parse(black_box(&msg)).unwrap();
            m.sequence("documents")
                .unwrap()
                .iter()
                .map(|d| d.as_bytes().len())
                .sum::<usize>()
        })
    });
    g.bench_function("build", |b| b.iter(|| insert_message(black_box(&docs))));
    g.finish();
}

fn body_16mib(c: &mut Criterion) {
    let mut g = c.benchmark_group("rpc 16MiB body");
    g.sample_size(20);
    let body = big_body();
    let msg =
        OpMsgBuilder::with_capacity(OpMsgFlags::NONE, body.as_bytes().len() + 64).finish_with_raw_body(&body);
    let mut with_crc = msg.clone();
    append_checksum(&mut with_crc);
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("parse", |b| b.iter(|| OpMsg::parse(black_box(&msg)).unwrap()));
    g.bench_function("parse with checksum", |b| {
        b.iter(|| OpMsg::parse(black_box(&with_crc)).unwrap())
    });
    g.bench_function("build", |b| {
        b.iter(|| {
            OpMsgBuilder::with_capacity(OpMsgFlags::NONE, body.as_bytes().len() + 64)
                .finish_with_raw_body(black_box(&body))
        })
    });
    g.finish();
}

criterion_group!(benches, ping, insert_1000, body_16mib);
criterion_main!(benches);
