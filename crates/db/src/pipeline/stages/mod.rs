//! The pipeline's stages, one file each.

pub mod counting;
pub mod group;
pub mod limits;
pub mod lookup;
pub mod match_stage;
pub mod replace_root;
pub mod shape;
pub mod unwind;
