//! The embedded database behind the default server: storage engines, the query language, updates,
//! aggregation, and the commands and cursors that drivers use.
//!
//! Layers, bottom up: [`storage`] (the `StorageEngine` trait with redb and in-memory engines, indexes);
//! [`query`] (BSON comparison order, the filter matcher, projection, sort); [`update`] (update operators
//! and replacement); [`pipeline`] (aggregation stages and expressions). The command layer on top registers
//! handlers in the transport crate's `CommandRegistry`.

pub mod commands;
pub mod cursor;
pub mod database;
pub mod pipeline;
pub mod query;
pub mod storage;
pub mod update;
pub mod users;
