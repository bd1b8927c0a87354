//! The command line: mongod's flag names where mongod has them, and the `proxy` subcommand.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use docwire_transport::tls::TlsMode;

/// `docwire`: a MongoDB-compatible server. Drivers and shells connect to it as to mongod.
#[derive(Debug, Parser)]
#[command(
    name = "docwire",
    version,
    about = "A MongoDB wire-protocol server: drivers and shells connect to it as to mongod.",
    long_about = "A MongoDB wire-protocol server: drivers and shells connect to it as to mongod.\n\n\
                  With no subcommand it runs the server. Flags use mongod's names; a --config TOML file \
                  may set the same keys (e.g. `port = 27018`, `bind_ip = \"127.0.0.1,::1\"`), and flags \
                  override it. RUST_LOG, when set, overrides -v/--quiet.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to run (the server when omitted).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The server's settings.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as a pooling, routing proxy in front of an upstream MongoDB deployment.
    Proxy(ProxyArgs),
}

/// `docwire proxy`'s flags.
#[derive(Clone, Debug, Args)]
pub struct ProxyArgs {
    /// The upstream: host:port, or a URI such as mongodb://h1,h2,h3/?replicaSet=rs0.
    #[arg(long, value_name = "URI")]
    pub upstream: String,
    /// The port the proxy listens on (0 picks a free one).
    #[arg(long, default_value_t = 27018)]
    pub port: u16,
    /// Comma-separated addresses to listen on.
    #[arg(long = "bind_ip", default_value = "127.0.0.1")]
    pub bind_ip: String,
    /// Don't listen on a Unix domain socket.
    #[arg(long = "nounixsocket")]
    pub no_unix_socket: bool,
    /// How reads are routed: normal (by read preference), primary (everything to the primary) or shadow.
    #[arg(long, default_value = "normal")]
    pub mode: String,
    /// The shadow upstream (host:port) whose read replies are compared in shadow mode.
    #[arg(long, value_name = "HOST:PORT")]
    pub shadow: Option<String>,
    /// The most client connections.
    #[arg(long = "maxConns", default_value_t = docwire_transport::DEFAULT_MAX_CONNS)]
    pub max_conns: usize,
    /// The most upstream connections per host.
    #[arg(long = "maxPoolSize", default_value_t = 100)]
    pub max_pool_size: usize,
    /// Upstream connections kept open per host.
    #[arg(long = "minPoolSize", default_value_t = 1)]
    pub min_pool_size: usize,
    /// Requests slower than this (ms) are always logged.
    #[arg(long, default_value_t = 100)]
    pub slowms: u64,
    /// The share of requests logged (0.0 to 1.0; slow ones always are).
    #[arg(long = "logSampleRate", default_value_t = 0.0)]
    pub log_sample_rate: f64,
    /// Also write the request log to this JSON-lines file (rotated).
    #[arg(long = "requestLog", value_name = "PATH")]
    pub request_log: Option<std::path::PathBuf>,
    /// Rotate the request log file at this size (MiB).
    #[arg(long = "requestLogSizeMB", default_value_t = 64)]
    pub request_log_size_mb: u64,
    /// Require clients to authenticate to the proxy, against its own users (kept under --dbpath), and
    /// check each forwarded command against the user's roles.
    #[arg(long)]
    pub auth: bool,
    /// Where the proxy keeps its users (admin.system.users in a redb file); required with --auth.
    #[arg(long, value_name = "DIR")]
    pub dbpath: Option<PathBuf>,
    /// Whether a localhost connection may create the proxy's first user under --auth.
    #[arg(
        long = "enableLocalhostAuthBypass",
        value_name = "BOOL",
        default_value_t = true,
        action = ArgAction::Set
    )]
    pub enable_localhost_auth_bypass: bool,
    /// How long a failed authentication waits before it answers, in ms.
    #[arg(long = "authFailedDelayMs", value_name = "MS", default_value_t = 500)]
    pub auth_failed_delay_ms: u64,
    /// The user the proxy authenticates to its upstreams as (its password comes from
    /// --upstreamPasswordFile or the DOCWIRE_UPSTREAM_PASSWORD environment variable, never a flag).
    #[arg(long = "upstreamUser", value_name = "NAME")]
    pub upstream_user: Option<String>,
    /// The upstream user's authentication database.
    #[arg(long = "upstreamAuthSource", value_name = "DB", default_value = "admin")]
    pub upstream_auth_source: String,
    /// How the proxy authenticates to its upstreams: SCRAM-SHA-256 or SCRAM-SHA-1.
    #[arg(long = "upstreamAuthMechanism", value_name = "MECHANISM", default_value = "SCRAM-SHA-256",
          value_parser = ["SCRAM-SHA-256", "SCRAM-SHA-1"])]
    pub upstream_auth_mechanism: String,
    /// A file holding the upstream user's password (a trailing newline is ignored).
    #[arg(long = "upstreamPasswordFile", value_name = "FILE")]
    pub upstream_password_file: Option<PathBuf>,
    /// The log's format.
    #[arg(long = "logFormat", value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
    /// TLS for the proxy's clients (the same flags as the server's).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Connect to the upstreams over TLS (also `tls=true` in a mongodb:// --upstream).
    #[arg(long = "upstreamTLS")]
    pub upstream_tls: bool,
    /// The CAs that verify the upstreams' certificates [default: the Mozilla roots]; implies --upstreamTLS.
    #[arg(long = "upstreamTLSCAFile", value_name = "FILE")]
    pub upstream_tls_ca_file: Option<PathBuf>,
    /// The certificate and key (one PEM file) presented to upstreams that ask; implies --upstreamTLS.
    #[arg(long = "upstreamTLSCertificateKeyFile", value_name = "FILE")]
    pub upstream_tls_certificate_key_file: Option<PathBuf>,
}

/// mongod's TLS flags for incoming connections (the server's and the proxy's).
#[derive(Clone, Debug, Default, Args)]
pub struct TlsArgs {
    /// TLS for incoming TCP connections: disabled, allowTLS, preferTLS or requireTLS [default: disabled].
    #[arg(long = "tlsMode", value_name = "MODE", value_parser = parse_tls_mode)]
    pub tls_mode: Option<TlsMode>,
    /// The server's certificate chain and private key, in one PEM file.
    #[arg(long = "tlsCertificateKeyFile", value_name = "FILE")]
    pub tls_certificate_key_file: Option<PathBuf>,
    /// CA certificates (PEM); when given, clients must present a certificate they signed.
    #[arg(long = "tlsCAFile", value_name = "FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// With --tlsCAFile, still accept clients that present no certificate.
    #[arg(long = "tlsAllowConnectionsWithoutCertificates")]
    pub tls_allow_connections_without_certificates: bool,
}

/// `--tlsMode`'s parser: mongod's names.
fn parse_tls_mode(value: &str) -> Result<TlsMode, String> {
    TlsMode::parse(value).map_err(|status| status.reason().to_owned())
}

/// `--serviceExecutor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorArg {
    /// A dedicated thread per connection (mongod's classic model).
    Synchronous,
    /// Connections as tasks on a shared pool of threads.
    Async,
}

/// `--logFormat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Plain,
    /// One JSON object per line.
    Json,
}

/// The server's flags. Unset flags fall back to the config file, then to mongod's defaults.
#[derive(Debug, Default, Args)]
pub struct ServerArgs {
    /// TCP port to listen on [default: 27017].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Comma-separated IP addresses to listen on [default: 127.0.0.1].
    #[arg(long = "bind_ip", value_name = "IPS", conflicts_with = "bind_ip_all")]
    pub bind_ip: Option<String>,

    /// Listen on every IPv4 and IPv6 address (0.0.0.0 and ::).
    #[arg(long = "bind_ip_all")]
    pub bind_ip_all: bool,

    /// The most connections accepted at once [default: 1000000]; also capped by the open-file limit.
    #[arg(long = "maxConns", value_name = "N")]
    pub max_conns: Option<usize>,

    /// Directory of the Unix socket mongodb-<port>.sock [default: /tmp].
    #[arg(long = "unixSocketPrefix", value_name = "DIR")]
    pub unix_socket_prefix: Option<PathBuf>,

    /// Do not listen on a Unix socket.
    #[arg(long = "nounixsocket")]
    pub no_unix_socket: bool,

    /// Directory for data files [default: ./docwire-data].
    #[arg(long, value_name = "DIR")]
    pub dbpath: Option<PathBuf>,

    /// The storage engine: redb (durable, one file under --dbpath) or inMemory [default: redb].
    #[arg(long = "storageEngine", value_name = "ENGINE", value_parser = ["redb", "inMemory"])]
    pub storage_engine: Option<String>,

    /// Run as a member of this replica set (role simulation: no data is replicated).
    #[arg(long = "replSet", value_name = "NAME", requires = "repl_set_members")]
    pub repl_set: Option<String>,

    /// Every member of the --replSet set, comma-separated host:port (this server is the one on --port).
    #[arg(long = "replSetMembers", value_name = "HOSTS", requires = "repl_set")]
    pub repl_set_members: Option<String>,

    /// How connections are run [default: async].
    #[arg(long = "serviceExecutor", value_enum, value_name = "KIND")]
    pub service_executor: Option<ExecutorArg>,

    /// A TOML file with the same keys as these flags; flags override it.
    #[arg(short = 'f', long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log less: warnings and errors only.
    #[arg(long)]
    pub quiet: bool,

    /// Log more (-v debug, -vv trace).
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,

    /// Log line format [default: plain].
    #[arg(long = "logFormat", value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Require authentication and check each command against the user's roles (off by default).
    #[arg(long)]
    pub auth: bool,

    /// Whether a localhost connection may create the first user under --auth [default: true].
    #[arg(long = "enableLocalhostAuthBypass", value_name = "BOOL")]
    pub enable_localhost_auth_bypass: Option<bool>,

    /// How long a failed authentication waits before it answers, in ms [default: 500].
    #[arg(long = "authFailedDelayMs", value_name = "MS")]
    pub auth_failed_delay_ms: Option<u64>,

    /// Under --auth, the most unauthenticated connections open at once [default: 1000].
    #[arg(long = "maxUnauthenticatedConns", value_name = "N")]
    pub max_unauthenticated_conns: Option<usize>,

    /// Under --auth, how long a connection may stay unauthenticated, in seconds [default: 60].
    #[arg(long = "authenticationTimeoutSecs", value_name = "SECS")]
    pub authentication_timeout_secs: Option<u64>,

    /// TLS for incoming connections.
    #[command(flatten)]
    pub tls: TlsArgs,
}
