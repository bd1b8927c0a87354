//! update (being written).
