//! The query language: mongod's BSON comparison order, dotted paths, the filter matcher,
//! projection and sort.

pub mod compare;
pub mod matcher;
pub mod path;
pub mod projection;
pub mod sort;
