//! Property tests: random bodies, sequences, flags, checksums and compressors survive build -> parse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bson::{Bson, Document, RawDocumentBuf};
use docwire_rpc::{
    Compressor, OpMsg, OpMsgBuilder, OpMsgFlags, append_checksum, compress_message, decompress_message,
};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<bool>().prop_map(Bson::Boolean),
        "[a-z ]{0,40}".prop_map(Bson::String),
        (-1e9f64..1e9).prop_map(Bson::Double),
        Just(Bson::Null),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Bson::Array),
            prop::collection::vec(("[a-z]{1,8}", inner), 0..5)
                .prop_map(|kv| Bson::Document(kv.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = Document> {
    prop::collection::vec(("[a-z]{1,10}", value()), 0..6).prop_map(|kv| kv.into_iter().collect())
}

fn command_body() -> impl Strategy<Value = Document> {
    (document(), "[a-z]{1,12}").prop_map(|(d, db)| {
        // Sequence identifiers below start with "seq_", so no body key may collide with them.
        let mut d: Document = d.into_iter().filter(|(k, _)| !k.starts_with("seq")).collect();
        d.insert("$db", db);
        d
    })
}

fn compressor() -> impl Strategy<Value = Option<Compressor>> {
    prop_oneof![
        Just(None),
        prop::sample::select(Compressor::ALL.to_vec()).prop_map(Some)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn build_then_parse_is_identity(
        body in command_body(),
        sequences in prop::collection::vec(prop::collection::vec(document(), 0..8), 0..=2),
        optional_flags in any::<u16>(),
        more_to_come in any::<bool>(),
        checksum in any::<bool>(),
        compressor in compressor(),
        ids in any::<(i32, i32)>(),
    ) {
        let mut flags = OpMsgFlags((optional_flags as u32) << 16);
        if more_to_come {
            flags = flags.with(OpMsgFlags::MORE_TO_COME);
        }
        let mut builder = OpMsgBuilder::new(flags);
        let raw_sequences: Vec<Vec<RawDocumentBuf>> = sequences
            .iter()
            .map(|docs| docs.iter().map(|d| RawDocumentBuf::try_from(d).unwrap()).collect())
            .collect();
        for (i, docs) in raw_sequences.iter().enumerate() {
            builder.document_sequence(&format!("seq_{i}"), docs.iter().map(|d| d.as_ref()));
        }
        let mut msg = builder.finish_with_body(&body).unwrap();
        msg.set_ids(ids.0, ids.1);
        if checksum {
            append_checksum(&mut msg);
        }
        let wire = match compressor {
            Some(c) => compress_message(&msg, c).unwrap(),
            None => msg.clone(),
        };
        let (received, _) = decompress_message(&wire).unwrap();
        prop_assert_eq!(&received, &msg);
        prop_assert_eq!((received.request_id(), received.response_to()), ids);

        let parsed = OpMsg::parse(&received).unwrap();
        let expected_flags = if checksum { flags.with(OpMsgFlags::CHECKSUM_PRESENT) } else { flags };
        prop_assert_eq!(parsed.flags(), expected_flags);
        prop_assert_eq!(Document::try_from(parsed.body()).unwrap(), body);
        prop_assert_eq!(parsed.sequences().count(), sequences.len());
        for (i, docs) in sequences.iter().enumerate() {
            let seq = parsed.sequence(&format!("seq_{i}")).unwrap();
            let got: Vec<Document> = seq.iter().map(|d| Document::try_from(d).unwrap()).collect();
            prop_assert_eq!(&got, docs);
        }
    }

    #[test]
    fn parse_never_panics_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..200), op in 0usize..3) {
        let op = [docwire_rpc::OpCode::Msg, docwire_rpc::OpCode::Query, docwire_rpc::OpCode::Compressed][op];
        let msg = docwire_rpc::Message::from_parts(op, 1, 0, &data);
        let _ = OpMsg::parse(&msg);
        let _ = docwire_rpc::OpQuery::parse(&msg);
        let _ = decompress_message(&msg);
    }
}
