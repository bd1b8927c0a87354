//! `ClientMetadata`: the `client` document a driver sends in its first hello, checked as mongod checks it.

use bson::{Bson, Document};
use docwire_rpc::{ErrorCode, Status, StatusResult};

/// mongod's limit on the whole metadata document, in BSON bytes.
pub const MAX_CLIENT_METADATA_BYTES: usize = 512;

/// mongod's limit on `application.name`, in bytes.
pub const MAX_APP_NAME_BYTES: usize = 128;

/// The handshake's `client` document and the application name read from it.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientMetadata {
    document: Document,
    app_name: Option<String>,
}

impl ClientMetadata {
    /// Checks `document` as mongod does: at most 512 bytes (ClientMetadataDocumentTooLarge),
    /// `application.name` a string of at most 128 bytes (ClientMetadataAppNameTooLarge), and
    /// `driver.name`, `driver.version` and `os.type` present (ClientMetadataMissingField).
    pub fn parse(document: Document) -> StatusResult<ClientMetadata> {
        let size = document.to_vec().map(|bytes| bytes.len()).unwrap_or(usize::MAX);
        if size > MAX_CLIENT_METADATA_BYTES {
            return Err(Status::new(
                ErrorCode::ClientMetadataDocumentTooLarge,
                format!(
                    "The client metadata document must be less then or equal to {MAX_CLIENT_METADATA_BYTES} bytes"
                ),
            ));
        }
        let app_name = match document.get("application") {
            None => None,
            Some(Bson::Document(application)) => match application.get("name") {
                None => None,
                Some(Bson::String(name)) if name.len() <= MAX_APP_NAME_BYTES => Some(name.clone()),
                Some(Bson::String(_)) => {
                    return Err(Status::new(
                        ErrorCode::ClientMetadataAppNameTooLarge,
                        format!(
                            "The 'application.name' field must be less than or equal to {MAX_APP_NAME_BYTES} bytes in the client metadata document"
                        ),
                    ));
                }
                Some(_) => return Err(type_mismatch("application.name")),
            },
            Some(_) => return Err(type_mismatch("application")),
        };
        for (section, field) in [("driver", "name"), ("driver", "version"), ("os", "type")] {
            let present = document
                .get_document(section)
                .is_ok_and(|d| d.get_str(field).is_ok());
            if !present {
                return Err(Status::new(
                    ErrorCode::ClientMetadataMissingField,
                    format!("Missing required field '{section}.{field}' in the client metadata document"),
                ));
            }
        }
        Ok(ClientMetadata { document, app_name })
    }

    /// The metadata document as the driver sent it.
    pub fn document(&self) -> &Document {
        &self.document
    }

    /// `application.name`, when the driver gave one.
    pub fn app_name(&self) -> Option<&str> {
        self.app_name.as_deref()
    }
}

fn type_mismatch(field: &str) -> Status {
    Status::new(
        ErrorCode::TypeMismatch,
        format!("The '{field}' field is the wrong type in the client metadata document"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn driver() -> Document {
        doc! {"driver": {"name": "nodejs", "version": "6.0"}, "os": {"type": "Linux"}}
    }

    #[test]
    fn reads_app_name() {
        let mut d = driver();
        d.insert("application", doc! {"name": "inventory"});
        let md = ClientMetadata::parse(d).unwrap();
        assert_eq!(md.app_name(), Some("inventory"));
        assert_eq!(ClientMetadata::parse(driver()).unwrap().app_name(), None);
    }

    #[test]
    fn rejects_what_mongod_rejects() {
        let mut long_name = driver();
        long_name.insert("application", doc! {"name": "x".repeat(129)});
        assert_eq!(
            ClientMetadata::parse(long_name).unwrap_err().code(),
            ErrorCode::ClientMetadataAppNameTooLarge
        );
        let mut big = driver();
        big.insert("platform", "p".repeat(600));
        assert_eq!(
            ClientMetadata::parse(big).unwrap_err().code(),
            ErrorCode::ClientMetadataDocumentTooLarge
        );
        let missing = doc! {"driver": {"name": "x"}, "os": {"type": "Linux"}};
        assert_eq!(
            ClientMetadata::parse(missing).unwrap_err().code(),
            ErrorCode::ClientMetadataMissingField
        );
    }
}
