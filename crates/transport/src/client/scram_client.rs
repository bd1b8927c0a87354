//! The client side of SCRAM-SHA-256 and SCRAM-SHA-1 (RFC 5802, RFC 7677) as drivers run it against
//! mongod: saslStart with client-first, saslContinue with client-final, a check of the server's
//! signature, and the empty closing exchange when the server did not skip it. Egress connections (the
//! pool's, the proxy's) authenticate with it right after their handshake. It reuses the server's
//! primitives ([`ScramMechanism`]: password preparation, H, HMAC, Hi).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};
use rand::RngCore as _;

use super::async_client::AsyncDbClient;
use crate::auth::ScramMechanism;

/// The fewest iterations a client accepts from a server (the drivers' authentication spec).
pub const MIN_ITERATIONS: u32 = 4096;

/// The salted password of one (salt, iterations), kept so that new connections skip PBKDF2, as drivers
/// cache it.
#[derive(Default)]
struct SaltedCache {
    entry: Option<(Vec<u8>, u32, Vec<u8>)>,
}

/// Who an egress connection authenticates as. The password never shows in `Debug`.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The authentication database (authSource).
    pub source: String,
    /// The mechanism.
    pub mechanism: ScramMechanism,
    password: String,
    cache: Arc<Mutex<SaltedCache>>,
}

impl Credentials {
    /// `user` on `source` with `password`, authenticating with `mechanism`.
    pub fn new(
        user: impl Into<String>,
        source: impl Into<String>,
        password: impl Into<String>,
        mechanism: ScramMechanism,
    ) -> Credentials {
        Credentials {
            user: user.into(),
            source: source.into(),
            mechanism,
            password: password.into(),
            cache: Arc::default(),
        }
    }

    /// Hi(prepared password, salt, iterations), from the cache when the server's salt and count match.
    fn salted_password(&self, salt: &[u8], iterations: u32) -> StatusResult<Vec<u8>> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached_salt, cached_iterations, salted)) = &cache.entry
            && cached_salt == salt
            && *cached_iterations == iterations
        {
            return Ok(salted.clone());
        }
        let prepared = self.mechanism.prepare_password(&self.user, &self.password)?;
        let salted = self.mechanism.hi(prepared.as_bytes(), salt, iterations);
        cache.entry = Some((salt.to_vec(), iterations, salted.clone()));
        Ok(salted)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password stays out of logs and panics.
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("source", &self.source)
            .field("mechanism", &self.mechanism.name())
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where a client conversation stands.
#[derive(Debug)]
pub enum ScramClientStep {
    /// client-first was sent; server-first is next.
    AwaitingServerFirst {
        /// The client's nonce, which the server's must extend.
        client_nonce: String,
        /// client-first without the GS2 header, part of the AuthMessage.
        client_first_bare: String,
    },
    /// client-final was sent; server-final must carry this signature.
    AwaitingServerFinal {
        /// The ServerSignature expected.
        server_signature: Vec<u8>,
    },
    /// The server proved it knows the credential.
    Done,
}

/// One client conversation.
#[derive(Debug)]
pub struct ScramClient {
    credentials: Credentials,
    step: ScramClientStep,
}

impl ScramClient {
    /// Starts a conversation with a random nonce; returns it and the client-first message.
    pub fn start(credentials: &Credentials) -> (ScramClient, Vec<u8>) {
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        ScramClient::start_with_nonce(credentials, &BASE64.encode(random))
    }

    /// As [`ScramClient::start`] with a given nonce (the RFC test vectors fix it).
    pub fn start_with_nonce(credentials: &Credentials, client_nonce: &str) -> (ScramClient, Vec<u8>) {
        let client_first_bare = format!("n={},r={client_nonce}", encode_sasl_name(&credentials.user));
        let first = format!("n,,{client_first_bare}");
        let client = ScramClient {
            credentials: credentials.clone(),
            step: ScramClientStep::AwaitingServerFirst {
                client_nonce: client_nonce.to_owned(),
                client_first_bare,
            },
        };
        (client, first.into_bytes())
    }

    /// Takes server-first (`r=...,s=...,i=...`) and returns client-final (`c=biws,r=...,p=...`).
    pub fn server_first(&mut self, payload: &[u8]) -> StatusResult<Vec<u8>> {
        let step = std::mem::replace(&mut self.step, ScramClientStep::Done);
        let ScramClientStep::AwaitingServerFirst {
            client_nonce,
            client_first_bare,
        } = step
        else {
            return Err(out_of_order());
        };
        let text = std::str::from_utf8(payload).map_err(|_| bad_reply("server-first is not UTF-8"))?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attribute in text.split(',') {
            if let Some(value) = attribute.strip_prefix("r=") {
                nonce = Some(value);
            } else if let Some(value) = attribute.strip_prefix("s=") {
                salt = BASE64.decode(value).ok();
            } else if let Some(value) = attribute.strip_prefix("i=") {
                iterations = value.parse::<u32>().ok();
            } else if attribute.starts_with("m=") {
                return Err(bad_reply("server-first has a mandatory extension"));
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(bad_reply(
                "server-first lacks the nonce, the salt or the iteration count",
            ));
        };
        if !nonce.starts_with(&client_nonce) || nonce.len() == client_nonce.len() {
            return Err(bad_reply("the server's nonce does not extend the client's"));
        }
        if iterations < MIN_ITERATIONS {
            return Err(bad_reply("the server's iteration count is below 4096"));
        }
        let mechanism = self.credentials.mechanism;
        let salted = self.credentials.salted_password(&salt, iterations)?;
        // `biws` is base64("n,,"): no channel binding, no authzid.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{client_first_bare},{text},{without_proof}");
        let client_key = mechanism.hmac(&salted, b"Client Key");
        let stored_key = mechanism.hash(&client_key);
        let client_signature = mechanism.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = mechanism.hmac(&salted, b"Server Key");
        self.step = ScramClientStep::AwaitingServerFinal {
            server_signature: mechanism.hmac(&server_key, auth_message.as_bytes()),
        };
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)).into_bytes())
    }

    /// Takes server-final (`v=...`, or `e=...` for a refusal) and checks the server's signature.
    pub fn server_final(&mut self, payload: &[u8]) -> StatusResult<()> {
        let step = std::mem::replace(&mut self.step, ScramClientStep::Done);
        let ScramClientStep::AwaitingServerFinal { server_signature } = step else {
            return Err(out_of_order());
        };
        let text = std::str::from_utf8(payload).map_err(|_| bad_reply("server-final is not UTF-8"))?;
        if let Some(error) = text.strip_prefix("e=") {
            return Err(Status::new(
                ErrorCode::AuthenticationFailed,
                format!("the server refused the SCRAM proof: {error}"),
            ));
        }
        let verifier = text
            .split(',')
            .find_map(|a| a.strip_prefix("v="))
            .and_then(|v| BASE64.decode(v).ok())
            .ok_or_else(|| bad_reply("server-final lacks the server signature"))?;
        if verifier != server_signature {
            return Err(Status::new(
                ErrorCode::AuthenticationFailed,
                "the server's SCRAM signature is wrong: it does not know this user's credential",
            ));
        }
        Ok(())
    }

    /// Whether the server has proved itself.
    pub fn is_done(&self) -> bool {
        matches!(self.step, ScramClientStep::Done)
    }
}

/// Authenticates `client` as `credentials` say, with saslStart and saslContinue on the
/// authentication database. A server's refusal comes back as its own status (AuthenticationFailed 18).
pub async fn authenticate(client: &mut AsyncDbClient, credentials: &Credentials) -> StatusResult<()> {
    let (mut scram, first) = ScramClient::start(credentials);
    let db = credentials.source.as_str();
    let reply = client
        .run_command(
            db,
            doc! {
                "saslStart": 1,
                "mechanism": credentials.mechanism.name(),
                "payload": binary(first),
                "autoAuthorize": 1,
                "options": {"skipEmptyExchange": true},
            },
        )
        .await?;
    let (conversation_id, payload, _) = sasl_reply(&reply)?;
    let last = scram.server_first(&payload)?;
    let reply = client
        .run_command(
            db,
            doc! {"saslContinue": 1, "conversationId": conversation_id.clone(), "payload": binary(last)},
        )
        .await?;
    let (_, payload, mut done) = sasl_reply(&reply)?;
    scram.server_final(&payload)?;
    // A server that does not skip the empty exchange ends the conversation after one more round.
    let mut rounds = 0;
    while !done {
        rounds += 1;
        if rounds > 2 {
            return Err(bad_reply("the SASL conversation did not end"));
        }
        let reply = client
            .run_command(
                db,
                doc! {
                    "saslContinue": 1,
                    "conversationId": conversation_id.clone(),
                    "payload": binary(Vec::new()),
                },
            )
            .await?;
        done = sasl_reply(&reply)?.2;
    }
    Ok(())
}

fn binary(bytes: Vec<u8>) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    }
}

/// A SASL reply's conversationId, payload and done flag, or the server's error.
fn sasl_reply(reply: &Document) -> StatusResult<(Bson, Vec<u8>, bool)> {
    if let Some(status) = Status::from_reply_document(reply) {
        return Err(status);
    }
    let conversation_id = reply
        .get("conversationId")
        .cloned()
        .ok_or_else(|| bad_reply("the SASL reply lacks conversationId"))?;
    let payload = match reply.get("payload") {
        Some(Bson::Binary(binary)) => binary.bytes.clone(),
        Some(Bson::String(text)) => text.clone().into_bytes(),
        _ => return Err(bad_reply("the SASL reply lacks its payload")),
    };
    Ok((conversation_id, payload, reply.get_bool("done").unwrap_or(false)))
}

/// RFC 5802's saslname: `,` is `=2C` and `=` is `=3D`.
fn encode_sasl_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn bad_reply(what: &str) -> Status {
    Status::new(
        ErrorCode::AuthenticationFailed,
        format!("Invalid SCRAM reply from the server: {what}"),
    )
}

fn out_of_order() -> Status {
    Status::new(ErrorCode::ProtocolError, "SCRAM client step out of order")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::auth::{ClientFirst, ScramConversation, ScramCredential};

    /// The RFC vectors hash the password as given; mongod's preparation does not apply to them, so the
    /// vectors drive the primitives through a client whose prepared password is the raw one.
    fn vector(
        mechanism: ScramMechanism,
        nonce: &str,
        server_first: &str,
        client_final: &str,
        server_final: &str,
    ) {
        let credentials = Credentials::new("user", "admin", "pencil", mechanism);
        let (mut client, first) = ScramClient::start_with_nonce(&credentials, nonce);
        assert_eq!(first, format!("n,,n=user,r={nonce}").into_bytes());
        // Seed the cache with Hi over the raw password, as the RFCs compute it.
        let (salt, iterations) = {
            let salt = server_first
                .split(',')
                .find_map(|a| a.strip_prefix("s="))
                .unwrap();
            (BASE64.decode(salt).unwrap(), 4096)
        };
        let salted = mechanism.hi(b"pencil", &salt, iterations);
        credentials.cache.lock().unwrap().entry = Some((salt, iterations, salted));
        let last = client.server_first(server_first.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(last).unwrap(), client_final);
        client.server_final(server_final.as_bytes()).unwrap();
        assert!(client.is_done());
    }

    #[test]
    fn rfc5802_sha1_test_vector() {
        vector(
            ScramMechanism::Sha1,
            "fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        );
    }

    #[test]
    fn rfc7677_sha256_test_vector() {
        vector(
            ScramMechanism::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
    }

    #[test]
    fn the_client_and_the_server_conversation_agree_and_wrong_passwords_fail() {
        for mechanism in ScramMechanism::ALL {
            let credential = ScramCredential::generate(mechanism, "svc, =x", "s3cret").unwrap();
            for (password, accepted) in [("s3cret", true), ("wrong", false)] {
                let credentials = Credentials::new("svc, =x", "admin", password, mechanism);
                let (mut client, first) = ScramClient::start(&credentials);
                let parsed = ClientFirst::parse(&first).unwrap();
                assert_eq!(parsed.user, "svc, =x");
                let (mut server, server_first) =
                    ScramConversation::start(mechanism, &parsed, credential.clone());
                let last = client.server_first(&server_first).unwrap();
                match server.step(&last, true) {
                    Ok(reply) => {
                        assert!(accepted && reply.done);
                        client.server_final(&reply.payload).unwrap();
                    }
                    Err(status) => {
                        assert!(!accepted);
                        assert_eq!(status.code(), ErrorCode::AuthenticationFailed);
                    }
                }
            }
        }
    }

    #[test]
    fn a_server_that_does_not_know_the_credential_is_caught() {
        let credentials = Credentials::new("user", "admin", "pencil", ScramMechanism::Sha256);
        let (mut client, _) = ScramClient::start_with_nonce(&credentials, "abc");
        client.server_first(b"r=abcdef,s=c2FsdA==,i=4096").unwrap();
        let err = client.server_final(b"v=AAAA").unwrap_err();
        assert_eq!(err.code(), ErrorCode::AuthenticationFailed);
        // A nonce that does not extend the client's, and too few iterations, are refused.
        let (mut client, _) = ScramClient::start_with_nonce(&credentials, "abc");
        assert!(client.server_first(b"r=xyz123,s=c2FsdA==,i=4096").is_err());
        let (mut client, _) = ScramClient::start_with_nonce(&credentials, "abc");
        assert!(client.server_first(b"r=abcdef,s=c2FsdA==,i=1000").is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let credentials = Credentials::new("svc", "admin", "hunter2-secret", ScramMechanism::Sha1);
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("svc") && shown.contains("SCRAM-SHA-1"), "{shown}");
    }
}
