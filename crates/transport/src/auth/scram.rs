//! SCRAM's primitives (RFC 5802, RFC 7677) for SCRAM-SHA-1 and SCRAM-SHA-256: H, HMAC and Hi over the
//! mechanism's hash, mongod's password preparation, and the salted credentials a user document keeps.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use hmac::{KeyInit, Mac};
use md5::Digest as _;
use rand::RngCore as _;

/// A SCRAM mechanism mongod offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScramMechanism {
    /// SCRAM-SHA-1, whose password is mongod's MONGODB-CR digest.
    Sha1,
    /// SCRAM-SHA-256, whose password is SASLprepped.
    Sha256,
}

impl ScramMechanism {
    /// Both mechanisms, in the order mongod lists them.
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::Sha1, ScramMechanism::Sha256];

    /// The SASL name (`SCRAM-SHA-1`, `SCRAM-SHA-256`), also the key under `credentials`.
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha1 => "SCRAM-SHA-1",
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
        }
    }

    /// The mechanism for a SASL name.
    pub fn from_name(name: &str) -> Option<ScramMechanism> {
        ScramMechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// mongod's default iteration count (scramIterationCount, scramSHA256IterationCount).
    pub fn default_iterations(self) -> u32 {
        match self {
            ScramMechanism::Sha1 => 10_000,
            ScramMechanism::Sha256 => 15_000,
        }
    }

    /// mongod's salt length: the hash's size less the four bytes of Hi's block counter.
    fn salt_len(self) -> usize {
        match self {
            ScramMechanism::Sha1 => 16,
            ScramMechanism::Sha256 => 28,
        }
    }

    /// The password SCRAM hashes, as mongod prepares it: for SHA-1 the hex MD5 of `user:mongo:pwd`
    /// (the MONGODB-CR digest drivers compute too), for SHA-256 the SASLprepped password.
    pub fn prepare_password(self, user: &str, password: &str) -> StatusResult<String> {
        match self {
            ScramMechanism::Sha1 => {
                let digest = md5::Md5::digest(format!("{user}:mongo:{password}").as_bytes());
                Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            ScramMechanism::Sha256 => stringprep::saslprep(password)
                .map(|p| p.into_owned())
                .map_err(|_| Status::new(ErrorCode::BadValue, "Error preparing the password (SASLprep)")),
        }
    }

    /// H(data).
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramMechanism::Sha1 => sha1::Sha1::digest(data).to_vec(),
            ScramMechanism::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    /// HMAC(key, data).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so `new_from_slice` cannot fail; an empty result would only
        // make every proof wrong, never right.
        match self {
            ScramMechanism::Sha1 => hmac::Hmac::<sha1::Sha1>::new_from_slice(key)
                .map(|mut mac| {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
            ScramMechanism::Sha256 => hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
                .map(|mut mac| {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                })
                .unwrap_or_default(),
        }
    }

    /// Hi(password, salt, i): PBKDF2 with HMAC over the mechanism's hash.
    pub fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramMechanism::Sha1 => {
                let mut out = vec![0; 20];
                pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut out);
                out
            }
            ScramMechanism::Sha256 => {
                let mut out = vec![0; 32];
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// One mechanism's stored credential: what the server needs to verify a proof and sign its answer,
/// from which the password cannot be recovered.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// Hi's iteration count.
    pub iteration_count: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// H(ClientKey).
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs and panics.
        f.debug_struct("ScramCredential")
            .field("iteration_count", &self.iteration_count)
            .finish_non_exhaustive()
    }
}

impl ScramCredential {
    /// The credential for an already prepared password (see [`ScramMechanism::prepare_password`]).
    pub fn derive(
        mechanism: ScramMechanism,
        prepared: &str,
        salt: Vec<u8>,
        iterations: u32,
    ) -> ScramCredential {
        let salted = mechanism.hi(prepared.as_bytes(), &salt, iterations);
        let client_key = mechanism.hmac(&salted, b"Client Key");
        ScramCredential {
            iteration_count: iterations,
            stored_key: mechanism.hash(&client_key),
            server_key: mechanism.hmac(&salted, b"Server Key"),
            salt,
        }
    }

    /// A new credential for `user`'s `password` with a random salt and mongod's iteration count.
    pub fn generate(mechanism: ScramMechanism, user: &str, password: &str) -> StatusResult<ScramCredential> {
        let prepared = mechanism.prepare_password(user, password)?;
        let mut salt = vec![0; mechanism.salt_len()];
        rand::rng().fill_bytes(&mut salt);
        Ok(ScramCredential::derive(
            mechanism,
            &prepared,
            salt,
            mechanism.default_iterations(),
        ))
    }

    /// The `credentials.<mechanism>` sub-document of admin.system.users.
    pub fn to_document(&self) -> Document {
        doc! {
            "iterationCount": i32::try_from(self.iteration_count).unwrap_or(i32::MAX),
            "salt": BASE64.encode(&self.salt),
            "storedKey": BASE64.encode(&self.stored_key),
            "serverKey": BASE64.encode(&self.server_key),
        }
    }

    /// Reads a `credentials.<mechanism>` sub-document.
    pub fn from_document(document: &Document) -> StatusResult<ScramCredential> {
        let bad = |field: &str| {
            Status::new(
                ErrorCode::FailedToParse,
                format!("user document has a bad SCRAM credential field '{field}'"),
            )
        };
        let iteration_count = match document.get("iterationCount") {
            Some(Bson::Int32(n)) => u32::try_from(*n).ok(),
            Some(Bson::Int64(n)) => u32::try_from(*n).ok(),
            _ => None,
        }
        .filter(|n| *n > 0)
        .ok_or_else(|| bad("iterationCount"))?;
        let decode = |field: &str| {
            document
                .get_str(field)
                .ok()
                .and_then(|s| BASE64.decode(s).ok())
                .ok_or_else(|| bad(field))
        };
        Ok(ScramCredential {
            iteration_count,
            salt: decode("salt")?,
            stored_key: decode("storedKey")?,
            server_key: decode("serverKey")?,
        })
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn sha1_password_is_mongods_digest() {
        // The MONGODB-CR digest of user "user", password "pencil", as drivers compute it.
        let prepared = ScramMechanism::Sha1.prepare_password("user", "pencil").unwrap();
        assert_eq!(prepared, "1c33006ec1ffd90f9cadcbcc0e118200");
    }

    #[test]
    fn sha256_password_is_saslprepped() {
        // RFC 4013: a non-ASCII space maps to a space, a soft hyphen to nothing.
        let prepared = ScramMechanism::Sha256
            .prepare_password("u", "I\u{00AD}X\u{2000}y")
            .unwrap();
        assert_eq!(prepared, "IX y");
        assert!(ScramMechanism::Sha256.prepare_password("u", "a\u{0007}").is_err());
    }

    #[test]
    fn credential_round_trips_through_its_document() {
        let credential = ScramCredential::generate(ScramMechanism::Sha256, "u", "p").unwrap();
        assert_eq!(credential.iteration_count, 15_000);
        assert_eq!(credential.salt.len(), 28);
        let back = ScramCredential::from_document(&credential.to_document()).unwrap();
        assert_eq!(back, credential);
        assert!(!format!("{credential:?}").contains("stored"));
    }
}
