//! Placeholder: filled in by the request_log work.
