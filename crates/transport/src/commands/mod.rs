//! The handshake and admin commands every docwire server answers (hello, ping, buildInfo, ...).
