//! The query language: mongod's BSON comparison order, dotted paths (on decoded documents and on raw
//! bytes), the filter matcher, projection and sort.

pub mod compare;
pub mod matcher;
pub mod path;
pub mod projection;
pub mod raw_path;
pub mod sort;
