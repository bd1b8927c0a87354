//! Test certificates for the TLS tests (tests/tests/tls_*.rs), made with rcgen at run time into a
//! temporary directory (never checked in): a CA, a server certificate for `localhost` and `127.0.0.1`,
//! also good for client authentication (members present it to each other), a client certificate, and
//! a client certificate from another CA (which the server must refuse).

use std::path::{Path, PathBuf};

use docwire_transport::tls::ClientTls;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The generated files, removed with the directory.
pub struct TestPki {
    dir: tempfile::TempDir,
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The server's certificate chain and key (one PEM file, as `--tlsCertificateKeyFile` takes it).
    pub server: PathBuf,
    /// A client certificate and key signed by the CA.
    pub client: PathBuf,
    /// A client certificate and key signed by an unrelated CA.
    pub stranger: PathBuf,
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.self_signed(&key).expect("a self-signed CA").pem();
    Ca { params, key, pem }
}

/// A leaf certificate signed by `ca`, with its key appended (PEM).
fn leaf(ca: &Ca, common_name: &str, names: &[&str], usages: &[ExtendedKeyUsagePurpose]) -> String {
    let key = KeyPair::generate().expect("a leaf key");
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = usages.to_vec();
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let cert = params.signed_by(&key, &issuer).expect("a signed leaf");
    format!("{}{}", cert.pem(), key.serialize_pem())
}

impl TestPki {
    /// Generates every certificate into a new temporary directory.
    pub fn generate() -> TestPki {
        let dir = tempfile::tempdir().expect("a temp dir");
        let ours = ca("docwire test CA");
        let theirs = ca("some other CA");
        let write = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };
        TestPki {
            ca: write("ca.pem", &ours.pem),
            server: write(
                "server.pem",
                &leaf(
                    &ours,
                    "localhost",
                    &["localhost", "127.0.0.1"],
                    // Members also present it to each other, as mongod's member certificates.
                    &[
                        ExtendedKeyUsagePurpose::ServerAuth,
                        ExtendedKeyUsagePurpose::ClientAuth,
                    ],
                ),
            ),
            client: write(
                "client.pem",
                &leaf(
                    &ours,
                    "docwire test client",
                    &[],
                    &[ExtendedKeyUsagePurpose::ClientAuth],
                ),
            ),
            stranger: write(
                "stranger.pem",
                &leaf(&theirs, "stranger", &[], &[ExtendedKeyUsagePurpose::ClientAuth]),
            ),
            dir,
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server flags for `mode` with the server certificate, plus `--tlsCAFile` when `with_ca`.
    pub fn server_flags(&self, mode: &str, with_ca: bool) -> Vec<String> {
        let mut flags = vec![
            "--tlsMode".to_owned(),
            mode.to_owned(),
            "--tlsCertificateKeyFile".to_owned(),
            path(&self.server),
        ];
        if with_ca {
            flags.extend(["--tlsCAFile".to_owned(), path(&self.ca)]);
        }
        flags
    }

    /// docwire's egress TLS trusting the CA, presenting `certificate` (e.g. [`TestPki::client`]) if given.
    pub fn client_tls(&self, certificate: Option<&Path>) -> ClientTls {
        ClientTls::from_files(Some(&self.ca), certificate).expect("client TLS settings")
    }

    /// A URI for the Rust driver (or pymongo) over TLS to `addr`, trusting the CA and presenting
    /// `certificate` if given.
    pub fn driver_uri(&self, addr: impl std::fmt::Display, certificate: Option<&Path>) -> String {
        let mut uri = format!(
            "mongodb://{addr}/?directConnection=true&tls=true&tlsCAFile={}",
            path(&self.ca)
        );
        if let Some(cert) = certificate {
            uri.push_str(&format!("&tlsCertificateKeyFile={}", path(cert)));
        }
        uri
    }
}

/// A path as a flag value.
pub fn path(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temp path").to_owned()
}

/// `flags` as the `&[&str]` that `start_server` takes.
pub fn as_strs(flags: &[String]) -> Vec<&str> {
    flags.iter().map(String::as_str).collect()
}
