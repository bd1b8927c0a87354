//! `Settings`: the flags merged over the optional TOML config file and mongod's defaults, and the
//! getCmdLineOpts view of them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bson::{Document, doc};
use docwire_transport::auth::AuthOptions;
use docwire_transport::tls::{TlsMode, TlsOptions};
use docwire_transport::{DEFAULT_MAX_CONNS, ServiceExecutorKind, TransportConfig};
use serde::Deserialize;

use crate::cli::{ExecutorArg, LogFormat, ServerArgs, TlsArgs};

/// The config file: the flags' names as keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    port: Option<u16>,
    bind_ip: Option<String>,
    bind_ip_all: Option<bool>,
    #[serde(rename = "maxConns")]
    max_conns: Option<usize>,
    #[serde(rename = "unixSocketPrefix")]
    unix_socket_prefix: Option<PathBuf>,
    nounixsocket: Option<bool>,
    dbpath: Option<PathBuf>,
    #[serde(rename = "storageEngine")]
    storage_engine: Option<String>,
    #[serde(rename = "serviceExecutor")]
    service_executor: Option<ExecutorArg>,
    #[serde(rename = "replSet")]
    repl_set: Option<String>,
    #[serde(rename = "replSetMembers")]
    repl_set_members: Option<String>,
    quiet: Option<bool>,
    verbose: Option<u8>,
    #[serde(rename = "logFormat")]
    log_format: Option<LogFormat>,
    auth: Option<bool>,
    #[serde(rename = "enableLocalhostAuthBypass")]
    enable_localhost_auth_bypass: Option<bool>,
    #[serde(rename = "authFailedDelayMs")]
    auth_failed_delay_ms: Option<u64>,
    #[serde(rename = "maxUnauthenticatedConns")]
    max_unauthenticated_conns: Option<usize>,
    #[serde(rename = "authenticationTimeoutSecs")]
    authentication_timeout_secs: Option<u64>,
    #[serde(rename = "tlsMode")]
    tls_mode: Option<String>,
    #[serde(rename = "tlsCertificateKeyFile")]
    tls_certificate_key_file: Option<PathBuf>,
    #[serde(rename = "tlsCAFile")]
    tls_ca_file: Option<PathBuf>,
    #[serde(rename = "tlsAllowConnectionsWithoutCertificates")]
    tls_allow_connections_without_certificates: Option<bool>,
}

/// The replica set a server is a member of (role simulation, no data replication).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationSettings {
    /// The set's name.
    pub set_name: String,
    /// Every member's `host:port`, comma-separated, as given.
    pub members: String,
}

/// Everything the server runs with, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
    /// TCP port.
    pub port: u16,
    /// Addresses to listen on.
    pub bind_ips: Vec<String>,
    /// Connection limit.
    pub max_conns: usize,
    /// Unix socket directory.
    pub unix_socket_prefix: PathBuf,
    /// Whether the Unix socket is off.
    pub no_unix_socket: bool,
    /// Data directory of the redb engine.
    pub dbpath: PathBuf,
    /// The storage engine's name (`redb` or `inMemory`).
    pub storage_engine: String,
    /// How sessions run.
    pub service_executor: ServiceExecutorKind,
    /// `--replSet` and `--replSetMembers`: the set this server is a (role-simulated) member of.
    pub replication: Option<ReplicationSettings>,
    /// Warnings and errors only.
    pub quiet: bool,
    /// Verbosity (-v count).
    pub verbosity: u8,
    /// Log format.
    pub log_format: LogFormat,
    /// `--auth` and the authentication limits.
    pub auth: AuthOptions,
    /// `--tlsMode` and the certificate files.
    pub tls: TlsOptions,
}

impl Settings {
    /// Flags over the config file (when given) over mongod's defaults.
    pub fn resolve(args: &ServerArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => read_config(path)?,
            None => FileConfig::default(),
        };
        let auth = auth_options(args, &file);
        let tls = tls_options(&args.tls, &file)?;
        let bind_ip_all = args.bind_ip_all || (args.bind_ip.is_none() && file.bind_ip_all.unwrap_or(false));
        let bind_ips = if bind_ip_all {
            all_addresses()
        } else {
            let list = args
                .bind_ip
                .clone()
                .or(file.bind_ip)
                .unwrap_or_else(|| "127.0.0.1".into());
            let ips: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            anyhow::ensure!(!ips.is_empty(), "--bind_ip lists no address");
            ips
        };
        let executor = args
            .service_executor
            .or(file.service_executor)
            .unwrap_or(ExecutorArg::Async);
        let replication = match (
            args.repl_set.clone().or(file.repl_set),
            args.repl_set_members.clone().or(file.repl_set_members),
        ) {
            (Some(set_name), Some(members)) => Some(ReplicationSettings { set_name, members }),
            (None, None) => None,
            _ => anyhow::bail!("--replSet and --replSetMembers go together"),
        };
        Ok(Settings {
            replication,
            config_file: args.config.clone(),
            port: args.port.or(file.port).unwrap_or(27017),
            bind_ips,
            max_conns: args.max_conns.or(file.max_conns).unwrap_or(DEFAULT_MAX_CONNS),
            unix_socket_prefix: args
                .unix_socket_prefix
                .clone()
                .or(file.unix_socket_prefix)
                .unwrap_or_else(|| PathBuf::from("/tmp")),
            no_unix_socket: args.no_unix_socket || file.nounixsocket.unwrap_or(false),
            dbpath: args
                .dbpath
                .clone()
                .or(file.dbpath)
                .unwrap_or_else(|| PathBuf::from("./docwire-data")),
            storage_engine: args
                .storage_engine
                .clone()
                .or(file.storage_engine)
                .unwrap_or_else(|| "redb".to_owned()),
            service_executor: match executor {
                ExecutorArg::Async => ServiceExecutorKind::Async,
                ExecutorArg::Synchronous => ServiceExecutorKind::Synchronous,
            },
            quiet: args.quiet || file.quiet.unwrap_or(false),
            verbosity: if args.verbose > 0 {
                args.verbose
            } else {
                file.verbose.unwrap_or(0)
            },
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            auth,
            tls,
        })
    }

    /// Settings from command-line flags (without the program name), as `docwire` would read them.
    pub fn from_flags<'a>(flags: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Settings> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(std::iter::once("docwire").chain(flags))?;
        Settings::resolve(&cli.server)
    }

    /// The transport layer's settings.
    pub fn transport(&self) -> TransportConfig {
        TransportConfig {
            bind_ips: self.bind_ips.clone(),
            port: self.port,
            unix_socket_prefix: self.unix_socket_prefix.clone(),
            no_unix_socket: self.no_unix_socket,
            service_executor: self.service_executor,
            tls: self.tls.clone(),
            ..TransportConfig::default()
        }
    }

    /// getCmdLineOpts' `parsed`, nested under mongod's config-file section names.
    pub fn parsed_document(&self) -> Document {
        let mut parsed = Document::new();
        if let Some(path) = &self.config_file {
            parsed.insert("config", path.display().to_string());
        }
        let port = i32::from(self.port);
        let max_conns = i64::try_from(self.max_conns).unwrap_or(i64::MAX);
        parsed.insert(
            "net",
            doc! {
                "bindIp": self.bind_ips.join(","),
                "maxIncomingConnections": max_conns,
                "port": port,
                "serviceExecutor": match self.service_executor {
                    ServiceExecutorKind::Async => "async",
                    ServiceExecutorKind::Synchronous => "synchronous",
                },
                "unixDomainSocket": {
                    "enabled": !self.no_unix_socket,
                    "pathPrefix": self.unix_socket_prefix.display().to_string(),
                },
            },
        );
        if self.tls.mode != TlsMode::Disabled
            && let Ok(net) = parsed.get_document_mut("net")
        {
            net.insert("tls", tls_document(&self.tls));
        }
        if let Some(repl) = &self.replication {
            parsed.insert(
                "replication",
                doc! {"replSetName": repl.set_name.clone(), "replSetMembers": repl.members.clone()},
            );
        }
        parsed.insert(
            "security",
            doc! {"authorization": if self.auth.enabled { "enabled" } else { "disabled" }},
        );
        parsed.insert(
            "storage",
            doc! {"dbPath": self.dbpath.display().to_string(), "engine": self.storage_engine.clone()},
        );
        parsed.insert(
            "systemLog",
            doc! {"quiet": self.quiet, "verbosity": i32::from(self.verbosity)},
        );
        parsed
    }
}

/// `--bind_ip_all`: mongod listens on 0.0.0.0 and :: with IPV6_V6ONLY set on the latter. The transport
/// layer does not set IPV6_V6ONLY, so where `::` is dual-stack (the Linux default) it alone covers
/// IPv4 as well, and binding 0.0.0.0 beside it would fail with "address in use".
fn all_addresses() -> Vec<String> {
    // IPv6 listeners are bound v6-only (as mongod does), so both families are listed.
    let ipv6 = std::fs::read_to_string("/proc/net/if_inet6").is_ok_and(|s| !s.trim().is_empty());
    if ipv6 {
        vec!["0.0.0.0".to_owned(), "::".to_owned()]
    } else {
        vec!["0.0.0.0".to_owned()]
    }
}

/// `--auth` and the authentication limits: flags over the config file over the defaults.
fn auth_options(args: &ServerArgs, file: &FileConfig) -> AuthOptions {
    let defaults = AuthOptions::default();
    AuthOptions {
        enabled: args.auth || file.auth.unwrap_or(false),
        enable_localhost_auth_bypass: args
            .enable_localhost_auth_bypass
            .or(file.enable_localhost_auth_bypass)
            .unwrap_or(defaults.enable_localhost_auth_bypass),
        auth_failed_delay: args
            .auth_failed_delay_ms
            .or(file.auth_failed_delay_ms)
            .map_or(defaults.auth_failed_delay, std::time::Duration::from_millis),
        max_unauthenticated_conns: args
            .max_unauthenticated_conns
            .or(file.max_unauthenticated_conns)
            .unwrap_or(defaults.max_unauthenticated_conns),
        authentication_timeout: args
            .authentication_timeout_secs
            .or(file.authentication_timeout_secs)
            .map_or(defaults.authentication_timeout, std::time::Duration::from_secs),
    }
}

impl TlsArgs {
    /// The TLS settings these flags alone give (the proxy has no config file).
    pub fn options(&self) -> anyhow::Result<TlsOptions> {
        tls_options(self, &FileConfig::default())
    }
}

/// `--tlsMode` and the files: flags over the config file; mongod's checks (a mode needs a certificate,
/// certificate flags need a mode).
fn tls_options(args: &TlsArgs, file: &FileConfig) -> anyhow::Result<TlsOptions> {
    let mode = match (args.tls_mode, &file.tls_mode) {
        (Some(mode), _) => Some(mode),
        (None, Some(name)) => Some(TlsMode::parse(name).map_err(|s| anyhow::anyhow!("{}", s.reason()))?),
        (None, None) => None,
    };
    let options = TlsOptions {
        mode: mode.unwrap_or_default(),
        certificate_key_file: args
            .tls_certificate_key_file
            .clone()
            .or_else(|| file.tls_certificate_key_file.clone()),
        ca_file: args.tls_ca_file.clone().or_else(|| file.tls_ca_file.clone()),
        allow_connections_without_certificates: args.tls_allow_connections_without_certificates
            || file.tls_allow_connections_without_certificates.unwrap_or(false),
        ..TlsOptions::default()
    };
    let files_given = options.certificate_key_file.is_some() || options.ca_file.is_some();
    anyhow::ensure!(
        mode.is_some() || !files_given,
        "need to enable TLS via the tlsMode flag when using TLS configuration parameters"
    );
    anyhow::ensure!(
        options.mode == TlsMode::Disabled || options.certificate_key_file.is_some(),
        "need tlsCertificateKeyFile or certificateSelector when TLS is enabled"
    );
    Ok(options)
}

/// getCmdLineOpts' `net.tls`, with mongod's names.
fn tls_document(tls: &TlsOptions) -> Document {
    let mut doc = doc! {"mode": tls.mode.name()};
    if let Some(path) = &tls.certificate_key_file {
        doc.insert("certificateKeyFile", path.display().to_string());
    }
    if let Some(path) = &tls.ca_file {
        doc.insert("CAFile", path.display().to_string());
    }
    if tls.allow_connections_without_certificates {
        doc.insert("allowConnectionsWithoutCertificates", true);
    }
    doc
}

fn read_config(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("bad config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use clap::Parser;

    fn settings(args: &[&str]) -> Settings {
        let cli =
            crate::cli::Cli::try_parse_from(std::iter::once("docwire").chain(args.iter().copied())).unwrap();
        Settings::resolve(&cli.server).unwrap()
    }

    #[test]
    fn auth_is_off_by_default_and_its_limits_are_flags() {
        let s = settings(&[]);
        assert_eq!(s.auth, AuthOptions::default());
        assert!(!s.auth.enabled && s.auth.enable_localhost_auth_bypass);
        assert_eq!(
            s.parsed_document().get_document("security").unwrap(),
            &doc! {"authorization": "disabled"}
        );
        let s = settings(&[
            "--auth",
            "--enableLocalhostAuthBypass",
            "false",
            "--authFailedDelayMs",
            "0",
            "--maxUnauthenticatedConns",
            "5",
            "--authenticationTimeoutSecs",
            "7",
        ]);
        assert_eq!(
            s.auth,
            AuthOptions {
                enabled: true,
                enable_localhost_auth_bypass: false,
                auth_failed_delay: std::time::Duration::ZERO,
                max_unauthenticated_conns: 5,
                authentication_timeout: std::time::Duration::from_secs(7),
            }
        );
        assert_eq!(
            s.parsed_document().get_document("security").unwrap(),
            &doc! {"authorization": "enabled"}
        );
    }

    #[test]
    fn tls_keys_in_the_config_file_and_flags_over_them() {
        let dir = std::env::temp_dir().join(format!("docwire-config-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("docwire.toml");
        std::fs::write(
            &file,
            "tlsMode = \"requireTLS\"\ntlsCertificateKeyFile = \"/etc/docwire/server.pem\"\n\
             tlsCAFile = \"/etc/docwire/ca.pem\"\ntlsAllowConnectionsWithoutCertificates = true\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let s = settings(&["--config", path]);
        assert_eq!(s.tls.mode, TlsMode::RequireTls);
        assert_eq!(s.tls.ca_file, Some(PathBuf::from("/etc/docwire/ca.pem")));
        assert!(s.tls.allow_connections_without_certificates);
        assert_eq!(s.transport().tls, s.tls);
        let s = settings(&[
            "--config",
            path,
            "--tlsMode",
            "allowTLS",
            "--tlsCAFile",
            "/other/ca.pem",
        ]);
        assert_eq!(s.tls.mode, TlsMode::AllowTls);
        assert_eq!(s.tls.ca_file, Some(PathBuf::from("/other/ca.pem")));
        assert_eq!(
            s.tls.certificate_key_file,
            Some(PathBuf::from("/etc/docwire/server.pem"))
        );
        assert_eq!(
            s.parsed_document()
                .get_document("net")
                .unwrap()
                .get_document("tls")
                .unwrap(),
            &doc! {
                "mode": "allowTLS",
                "certificateKeyFile": "/etc/docwire/server.pem",
                "CAFile": "/other/ca.pem",
                "allowConnectionsWithoutCertificates": true,
            }
        );
        assert_eq!(settings(&[]).tls, TlsOptions::default());
        assert!(
            !settings(&[])
                .parsed_document()
                .get_document("net")
                .unwrap()
                .contains_key("tls")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mongod_defaults() {
        let s = settings(&[]);
        assert_eq!(s.port, 27017);
        assert_eq!(s.bind_ips, ["127.0.0.1"]);
        assert_eq!(s.max_conns, DEFAULT_MAX_CONNS);
        assert_eq!(s.unix_socket_prefix, PathBuf::from("/tmp"));
        assert!(!s.no_unix_socket && !s.quiet);
        assert_eq!(s.service_executor, ServiceExecutorKind::Async);
        assert_eq!(s.log_format, LogFormat::Plain);
        assert_eq!(s.dbpath, PathBuf::from("./docwire-data"));
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = std::env::temp_dir().join(format!("docwire-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("docwire.toml");
        std::fs::write(
            &file,
            "port = 1234\nbind_ip = \"127.0.0.1, ::1\"\nmaxConns = 7\nserviceExecutor = \"synchronous\"\n\
             logFormat = \"json\"\nverbose = 2\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let s = settings(&["--config", path]);
        assert_eq!((s.port, s.max_conns, s.verbosity), (1234, 7, 2));
        assert_eq!(s.bind_ips, ["127.0.0.1", "::1"]);
        assert_eq!(s.service_executor, ServiceExecutorKind::Synchronous);
        assert_eq!(s.log_format, LogFormat::Json);
        let s = settings(&[
            "--config",
            path,
            "--port",
            "999",
            "--serviceExecutor",
            "async",
            "-v",
        ]);
        assert_eq!((s.port, s.verbosity), (999, 1));
        assert_eq!(s.service_executor, ServiceExecutorKind::Async);
        let parsed = s.parsed_document();
        assert_eq!(parsed.get_document("net").unwrap().get_i32("port").unwrap(), 999);
        assert_eq!(parsed.get_str("config").unwrap(), path);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bind_ip_all_and_bad_values() {
        assert!(
            !settings(&["--bind_ip_all"])
                .bind_ips
                .contains(&"127.0.0.1".to_owned())
        );
        let cli = crate::cli::Cli::try_parse_from(["docwire", "--serviceExecutor", "fixed"]);
        assert!(cli.is_err());
        let cli = crate::cli::Cli::try_parse_from(["docwire", "--bind_ip", "::1", "--bind_ip_all"]);
        assert!(cli.is_err());
    }
}
