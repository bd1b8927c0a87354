//! The role-simulation state machine on its own: config parsing, electionId encoding, elections by
//! member order, heartbeats that reveal a newer primary, step-down periods and the handoff target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use docwire_executor::repl::{Health, Heartbeat, ReplSetConfig, ReplState, Role, election_id, term_of};
use docwire_rpc::ErrorCode;
use docwire_service::ClockTime;

const MEMBERS: &str = "127.0.0.1:1001,127.0.0.1:1002,127.0.0.1:1003";

fn at_ms(ms: u64) -> ClockTime {
    ClockTime::from_micros(ms * 1000)
}

#[test]
fn config_finds_this_member_by_port_and_refuses_bad_lists() {
    let config = ReplSetConfig::new("rs0", MEMBERS, 1002).unwrap();
    assert_eq!((config.me, config.me()), (1, "127.0.0.1:1002"));
    assert_eq!(config.others().collect::<Vec<_>>(), [0, 2]);
    let code = |members: &str, port: u16| ReplSetConfig::new("rs0", members, port).unwrap_err().code();
    assert_eq!(code(MEMBERS, 9), ErrorCode::InvalidReplicaSetConfig);
    assert_eq!(code("", 1001), ErrorCode::InvalidReplicaSetConfig);
    assert_eq!(code("a:1,a:1", 1), ErrorCode::InvalidReplicaSetConfig);
    assert!(ReplSetConfig::new("", MEMBERS, 1001).is_err());
}

#[test]
fn election_ids_order_as_their_terms() {
    assert_eq!(election_id(1).to_hex(), "7fffffff0000000000000001");
    assert!(election_id(2).bytes() > election_id(1).bytes());
    assert_eq!(term_of(&election_id(42)), 42);
}

#[test]
fn the_preferred_member_stands_first() {
    let first = ReplSetConfig::new("rs0", MEMBERS, 1001).unwrap();
    let second = ReplSetConfig::new("rs0", MEMBERS, 1002).unwrap();
    let state = ReplState::new(3, at_ms(0));
    assert!(!state.should_stand(&first, at_ms(999)));
    assert!(state.should_stand(&first, at_ms(1000)));
    assert!(!state.should_stand(&second, at_ms(1999)));
    assert!(state.should_stand(&second, at_ms(2000)));
}

#[test]
fn a_primary_steps_down_when_it_hears_of_a_higher_term() {
    let mut state = ReplState::new(3, at_ms(0));
    assert!(state.step_up(0, at_ms(1)).unwrap());
    assert_eq!(
        (state.role, state.term, state.primary),
        (Role::Primary, 1, Some(0))
    );
    assert!(
        !state.step_up(0, at_ms(2)).unwrap(),
        "already primary: nothing changes"
    );
    // A stale primary is ignored; a newer one takes over.
    assert!(!state.on_heartbeat(1, Heartbeat::Primary { term: 1 }, at_ms(3)));
    assert!(state.on_heartbeat(1, Heartbeat::Primary { term: 2 }, at_ms(4)));
    assert!(!state.is_primary());
    assert_eq!((state.term, state.primary), (2, Some(1)));
    // The primary steps down (secondary now) or stops answering: no primary known.
    assert!(state.on_heartbeat(1, Heartbeat::Failed, at_ms(5)));
    assert_eq!((state.primary, state.no_primary_since), (None, at_ms(5)));
    assert_eq!(state.peers[1].health, Health::Down);
}

#[test]
fn step_down_bars_the_member_for_its_period_and_names_a_handoff_target() {
    let config = ReplSetConfig::new("rs0", MEMBERS, 1003).unwrap();
    let mut state = ReplState::new(3, at_ms(0));
    let not_primary = state
        .step_down(Duration::from_secs(60), false, at_ms(0))
        .unwrap_err();
    assert_eq!(not_primary.code(), ErrorCode::NotWritablePrimary);
    state.step_up(2, at_ms(0)).unwrap();
    // Nobody reachable: only a forced step-down goes through.
    let alone = state
        .step_down(Duration::from_secs(60), false, at_ms(0))
        .unwrap_err();
    assert_eq!(alone.code(), ErrorCode::ExceededTimeLimit);
    state.on_heartbeat(1, Heartbeat::Secondary, at_ms(1));
    state
        .step_down(Duration::from_secs(60), false, at_ms(10))
        .unwrap();
    assert_eq!(
        state.role,
        Role::Secondary {
            electable_at: at_ms(60_010)
        }
    );
    assert_eq!(state.handoff_target(&config), Some(1));
    let barred = state.step_up(2, at_ms(20)).unwrap_err();
    assert_eq!(barred.code(), ErrorCode::CommandFailed);
    assert!(!state.should_stand(&config, at_ms(60_000)));
    assert!(state.should_stand(&config, at_ms(60_010)));
    assert!(state.step_up(2, at_ms(60_010)).unwrap());
    assert_eq!(state.term, 2);
}
