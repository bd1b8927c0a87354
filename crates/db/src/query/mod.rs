//! The query language: mongod's BSON comparison order, and (being written) dotted paths, the filter
//! matcher, projection and sort.

pub mod compare;
