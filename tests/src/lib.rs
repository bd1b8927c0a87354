//! Cross-crate and real-driver tests for docwire; shared helpers live here, the tests under `tests/`.
