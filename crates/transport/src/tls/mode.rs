//! `--tlsMode`: mongod's four modes and what each does with TLS and plain connections on one port.

use docwire_rpc::{ErrorCode, Status, StatusResult};

/// `--tlsMode`, with mongod's names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// No TLS at all (mongod's default).
    #[default]
    Disabled,
    /// Plain and TLS connections; the server's own outgoing connections are plain.
    AllowTls,
    /// Plain and TLS connections; the server's own outgoing connections use TLS.
    PreferTls,
    /// TLS connections only: plain ones are closed.
    RequireTls,
}

impl TlsMode {
    /// Parses mongod's spelling (`disabled`, `allowTLS`, `preferTLS`, `requireTLS`; case-insensitive).
    pub fn parse(value: &str) -> StatusResult<TlsMode> {
        match value.to_ascii_lowercase().as_str() {
            "disabled" => Ok(TlsMode::Disabled),
            "allowtls" => Ok(TlsMode::AllowTls),
            "prefertls" => Ok(TlsMode::PreferTls),
            "requiretls" => Ok(TlsMode::RequireTls),
            _ => Err(Status::new(
                ErrorCode::BadValue,
                format!("Invalid tlsMode '{value}': expected disabled, allowTLS, preferTLS or requireTLS"),
            )),
        }
    }

    /// mongod's name for the mode (as getCmdLineOpts shows it).
    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Disabled => "disabled",
            TlsMode::AllowTls => "allowTLS",
            TlsMode::PreferTls => "preferTLS",
            TlsMode::RequireTls => "requireTLS",
        }
    }

    /// Whether plain (non-TLS) clients are served.
    pub fn accepts_plain(self) -> bool {
        self != TlsMode::RequireTls
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn mongod_names_round_trip() {
        for mode in [
            TlsMode::Disabled,
            TlsMode::AllowTls,
            TlsMode::PreferTls,
            TlsMode::RequireTls,
        ] {
            assert_eq!(TlsMode::parse(mode.name()).unwrap(), mode);
        }
        assert_eq!(TlsMode::parse("REQUIRETLS").unwrap(), TlsMode::RequireTls);
        assert_eq!(
            TlsMode::parse("requireSSL").unwrap_err().code(),
            ErrorCode::BadValue
        );
        assert!(!TlsMode::RequireTls.accepts_plain() && TlsMode::AllowTls.accepts_plain());
    }
}
