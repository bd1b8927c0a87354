//! PEM files as mongod takes them: `--tlsCertificateKeyFile` (the certificate chain and the private key
//! in one file) and `--tlsCAFile` (one or more CA certificates). Errors are InvalidSSLConfiguration (140)
//! and name the file, never its contents.

use std::path::Path;

use docwire_rpc::{ErrorCode, Status, StatusResult};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

fn invalid(what: String) -> Status {
    Status::new(ErrorCode::InvalidSSLConfiguration, what)
}

/// The certificate chain (leaf first) and the private key in `path`.
pub(crate) fn certificate_key_file(
    path: &Path,
) -> StatusResult<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let shown = path.display();
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("cannot read certificates from {shown}: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(format!("no certificate in {shown}")));
    }
    let key = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| invalid(format!("cannot read a private key from {shown}: {e}")))?;
    Ok((chain, key))
}

/// The CA certificates in `path`, as a root store.
pub(crate) fn ca_file(path: &Path) -> StatusResult<RootCertStore> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format!("cannot read CA certificates from {shown}: {e}")))?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(invalid(format!("no usable CA certificate in {shown}")));
    }
    Ok(roots)
}
