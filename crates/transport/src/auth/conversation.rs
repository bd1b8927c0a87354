//! The server side of one SCRAM conversation (RFC 5802 §5, as mongod runs it): client-first ->
//! server-first, client-final -> server-final, then, unless the client asked to skip it, one empty
//! exchange that ends it. A state machine over [`ScramStep`]; the user's credential is looked up by
//! the caller between parsing the client-first message and answering it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use docwire_rpc::{ErrorCode, Status, StatusResult};
use rand::RngCore as _;

use super::scram::{ScramCredential, ScramMechanism, constant_time_eq};

/// The parsed client-first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The user name, with `=2C` and `=3D` decoded.
    pub user: String,
    /// The client's nonce.
    pub nonce: String,
    /// The GS2 header (`n,,`), which the client-final message's channel binding must repeat.
    gs2_header: String,
    /// The message without the GS2 header, part of the AuthMessage.
    bare: String,
}

impl ClientFirst {
    /// Parses `n,,n=<user>,r=<nonce>` (no channel binding, no authzid other than empty).
    pub fn parse(payload: &[u8]) -> StatusResult<ClientFirst> {
        let text = std::str::from_utf8(payload).map_err(|_| bad_message("client-first is not UTF-8"))?;
        let mut parts = text.splitn(3, ',');
        let (Some(cbind), Some(authzid), Some(bare)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad_message("incorrect number of fields in client-first"));
        };
        match cbind {
            "n" | "y" => {}
            "p" => {
                return Err(Status::new(
                    ErrorCode::BadValue,
                    "Server does not support channel binding",
                ));
            }
            _ => return Err(bad_message("incorrect channel binding flag in client-first")),
        }
        if !authzid.is_empty() && !authzid.starts_with("a=") {
            return Err(bad_message("incorrect authzid in client-first"));
        }
        let mut user = None;
        let mut nonce = None;
        for attribute in bare.split(',') {
            if let Some(name) = attribute.strip_prefix("n=") {
                user = Some(decode_sasl_name(name)?);
            } else if let Some(value) = attribute.strip_prefix("r=") {
                nonce = Some(value.to_owned());
            } else if attribute.starts_with("m=") {
                return Err(bad_message("SCRAM mandatory extensions are not supported"));
            }
        }
        let (Some(user), Some(nonce)) = (user, nonce) else {
            return Err(bad_message("client-first lacks the user name or the nonce"));
        };
        if user.is_empty() || nonce.is_empty() {
            return Err(bad_message("client-first has an empty user name or nonce"));
        }
        Ok(ClientFirst {
            user,
            nonce,
            gs2_header: format!("{cbind},{authzid},"),
            bare: bare.to_owned(),
        })
    }
}

/// Where a conversation stands.
#[derive(Debug)]
pub enum ScramStep {
    /// server-first was sent; the client-final message is next.
    AwaitingClientFinal {
        /// The AuthMessage so far: client-first-bare "," server-first.
        auth_message_prefix: String,
        /// The combined nonce the client must echo.
        nonce: String,
        /// The GS2 header the channel binding must carry.
        gs2_header: String,
        /// The user's credential.
        credential: ScramCredential,
    },
    /// server-final was sent; an empty message ends the conversation.
    AwaitingEmptyFinal,
    /// The client proved its identity.
    Done,
}

/// One conversation for one user.
#[derive(Debug)]
pub struct ScramConversation {
    mechanism: ScramMechanism,
    user: String,
    step: ScramStep,
}

/// What a step produced: the payload to send and whether the conversation is complete.
#[derive(Debug, PartialEq, Eq)]
pub struct StepReply {
    /// The server's message.
    pub payload: Vec<u8>,
    /// Whether the client is now authenticated.
    pub done: bool,
}

impl ScramConversation {
    /// Answers `first` for a user whose credential is `credential`, with a random server nonce.
    pub fn start(
        mechanism: ScramMechanism,
        first: &ClientFirst,
        credential: ScramCredential,
    ) -> (ScramConversation, Vec<u8>) {
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        ScramConversation::start_with_nonce(mechanism, first, credential, &BASE64.encode(random))
    }

    /// As [`ScramConversation::start`] with a given server nonce (the RFC test vectors fix it).
    pub fn start_with_nonce(
        mechanism: ScramMechanism,
        first: &ClientFirst,
        credential: ScramCredential,
        server_nonce: &str,
    ) -> (ScramConversation, Vec<u8>) {
        let nonce = format!("{}{server_nonce}", first.nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&credential.salt),
            credential.iteration_count
        );
        let conversation = ScramConversation {
            mechanism,
            user: first.user.clone(),
            step: ScramStep::AwaitingClientFinal {
                auth_message_prefix: format!("{},{server_first}", first.bare),
                nonce,
                gs2_header: first.gs2_header.clone(),
                credential,
            },
        };
        (conversation, server_first.into_bytes())
    }

    /// The mechanism.
    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// The user the client claims to be.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether the client has proved its identity.
    pub fn is_done(&self) -> bool {
        matches!(self.step, ScramStep::Done)
    }

    /// Takes the client's next message. `skip_empty_exchange` (saslStart's option) ends the
    /// conversation with server-final instead of waiting for an empty message.
    pub fn step(&mut self, payload: &[u8], skip_empty_exchange: bool) -> StatusResult<StepReply> {
        let step = std::mem::replace(&mut self.step, ScramStep::Done);
        match step {
            ScramStep::AwaitingClientFinal {
                auth_message_prefix,
                nonce,
                gs2_header,
                credential,
            } => {
                let server_final = self.verify_client_final(
                    payload,
                    &auth_message_prefix,
                    &nonce,
                    &gs2_header,
                    &credential,
                )?;
                if skip_empty_exchange {
                    self.step = ScramStep::Done;
                } else {
                    self.step = ScramStep::AwaitingEmptyFinal;
                }
                Ok(StepReply {
                    payload: server_final.into_bytes(),
                    done: skip_empty_exchange,
                })
            }
            ScramStep::AwaitingEmptyFinal => {
                if !payload.is_empty() {
                    return Err(bad_message("the final SCRAM message must be empty"));
                }
                self.step = ScramStep::Done;
                Ok(StepReply {
                    payload: Vec::new(),
                    done: true,
                })
            }
            ScramStep::Done => Err(Status::new(
                ErrorCode::ProtocolError,
                "The SCRAM conversation is already complete",
            )),
        }
    }

    /// Checks client-final (`c=...,r=...,p=...`) and returns server-final (`v=...`).
    fn verify_client_final(
        &self,
        payload: &[u8],
        auth_message_prefix: &str,
        nonce: &str,
        gs2_header: &str,
        credential: &ScramCredential,
    ) -> StatusResult<String> {
        let text = std::str::from_utf8(payload).map_err(|_| bad_message("client-final is not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| bad_message("client-final lacks the proof"))?;
        let mut binding = None;
        let mut echoed = None;
        for attribute in without_proof.split(',') {
            if let Some(value) = attribute.strip_prefix("c=") {
                binding = Some(value);
            } else if let Some(value) = attribute.strip_prefix("r=") {
                echoed = Some(value);
            }
        }
        let binding = binding
            .and_then(|b| BASE64.decode(b).ok())
            .ok_or_else(|| bad_message("client-final lacks the channel binding"))?;
        if binding != gs2_header.as_bytes() {
            return Err(bad_message("the channel binding does not match the GS2 header"));
        }
        if echoed != Some(nonce) {
            return Err(Status::new(
                ErrorCode::BadValue,
                "Unmatched SCRAM nonce received from client in second step",
            ));
        }
        let proof = BASE64
            .decode(proof)
            .map_err(|_| bad_message("the client proof is not base64"))?;
        let auth_message = format!("{auth_message_prefix},{without_proof}");
        let mechanism = self.mechanism;
        let client_signature = mechanism.hmac(&credential.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(authentication_failed());
        }
        let client_key: Vec<u8> = proof.iter().zip(&client_signature).map(|(p, s)| p ^ s).collect();
        if !constant_time_eq(&mechanism.hash(&client_key), &credential.stored_key) {
            return Err(authentication_failed());
        }
        let server_signature = mechanism.hmac(&credential.server_key, auth_message.as_bytes());
        Ok(format!("v={}", BASE64.encode(server_signature)))
    }
}

/// mongod's answer to every failed proof or unknown user, saying no more than that.
pub fn authentication_failed() -> Status {
    Status::new(ErrorCode::AuthenticationFailed, "Authentication failed.")
}

fn bad_message(what: &str) -> Status {
    Status::new(ErrorCode::BadValue, format!("Invalid SCRAM message: {what}"))
}

/// RFC 5802's saslname: `=2C` is a comma, `=3D` an equals sign; any other `=` is an error.
fn decode_sasl_name(name: &str) -> StatusResult<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3);
        match escape {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(bad_message("bad escape in the user name")),
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn run_vector(
        mechanism: ScramMechanism,
        client_first: &str,
        server_nonce: &str,
        salt: &str,
        server_first: &str,
        client_final: &str,
        server_final: &str,
    ) {
        let first = ClientFirst::parse(client_first.as_bytes()).unwrap();
        assert_eq!(first.user, "user");
        // The RFCs hash the password as given.
        let credential = ScramCredential::derive(mechanism, "pencil", BASE64.decode(salt).unwrap(), 4096);
        let (mut conversation, reply) =
            ScramConversation::start_with_nonce(mechanism, &first, credential.clone(), server_nonce);
        assert_eq!(String::from_utf8(reply).unwrap(), server_first);
        let reply = conversation.step(client_final.as_bytes(), false).unwrap();
        assert_eq!(String::from_utf8(reply.payload).unwrap(), server_final);
        assert!(!reply.done && !conversation.is_done());
        let last = conversation.step(b"", false).unwrap();
        assert!(last.done && conversation.is_done());

        // The same exchange with a proof one bit off fails.
        let (mut conversation, _) =
            ScramConversation::start_with_nonce(mechanism, &first, credential, server_nonce);
        let (head, proof) = client_final.rsplit_once(",p=").unwrap();
        let mut bytes = BASE64.decode(proof).unwrap();
        bytes[0] ^= 1;
        let tampered = format!("{head},p={}", BASE64.encode(bytes));
        let err = conversation.step(tampered.as_bytes(), true).unwrap_err();
        assert_eq!(err.code(), ErrorCode::AuthenticationFailed);
    }

    #[test]
    fn rfc5802_sha1_test_vector() {
        run_vector(
            ScramMechanism::Sha1,
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            "3rfcNHYJY1ZVvWVs7j",
            "QSXCR+Q6sek8bf92",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        );
    }

    #[test]
    fn rfc7677_sha256_test_vector() {
        run_vector(
            ScramMechanism::Sha256,
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
    }

    #[test]
    fn skip_empty_exchange_finishes_at_server_final() {
        let first = ClientFirst::parse(b"n,,n=user,r=abc").unwrap();
        let credential = ScramCredential::derive(ScramMechanism::Sha256, "pencil", b"salt".to_vec(), 4096);
        let (mut conversation, _) =
            ScramConversation::start_with_nonce(ScramMechanism::Sha256, &first, credential, "def");
        // A wrong nonce is refused before the proof is looked at.
        let err = conversation.step(b"c=biws,r=abcXXX,p=AAAA", true).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadValue);
    }

    #[test]
    fn client_first_parsing() {
        let first = ClientFirst::parse(b"n,,n=a=2Cb=3Dc,r=xyz").unwrap();
        assert_eq!(first.user, "a,b=c");
        assert!(ClientFirst::parse(b"p=tls-unique,,n=u,r=x").is_err());
        assert!(ClientFirst::parse(b"n,,n=u").is_err());
        assert!(ClientFirst::parse(b"n,,n=u=41,r=x").is_err());
        assert!(ClientFirst::parse(b"n,,m=ext,n=u,r=x").is_err());
    }
}
