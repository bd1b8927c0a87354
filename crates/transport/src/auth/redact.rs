//! Commands as mongod quotes them in messages (`{ insert: "c", ordered: true }`: keys bare, values in
//! shell syntax), with the fields that carry secrets blanked so that no password or SASL payload ever
//! reaches a reply, a log line or currentOp.

use bson::{Bson, Document};

/// Fields that carry secrets and are blanked wherever a command is shown.
pub const SENSITIVE_FIELDS: &[&str] = &["pwd", "payload", "speculativeAuthenticate"];

/// Blanks the sensitive top-level fields of `command` in place.
pub fn redact(command: &mut Document) {
    for field in SENSITIVE_FIELDS {
        if command.contains_key(*field) {
            command.insert(*field, "###");
        }
    }
}

/// `command`, redacted, in mongod's shell-like form.
pub fn to_shell_string(command: &Document) -> String {
    let mut redacted = command.clone();
    redact(&mut redacted);
    let mut out = String::new();
    write_document(&mut out, &redacted);
    out
}

fn write_document(out: &mut String, document: &Document) {
    if document.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{ ");
    for (i, (key, value)) in document.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(key);
        out.push_str(": ");
        write_value(out, value);
    }
    out.push_str(" }");
}

fn write_value(out: &mut String, value: &Bson) {
    match value {
        Bson::String(s) => {
            out.push('"');
            out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
        Bson::Document(d) => write_document(out, d),
        Bson::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push_str(" ]");
        }
        Bson::Double(d) if d.fract() == 0.0 && d.is_finite() => out.push_str(&format!("{d:.1}")),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use bson::doc;

    #[test]
    fn shell_form_with_secrets_blanked() {
        let command = doc! {"createUser": "u", "pwd": "secret", "roles": [{"role": "read", "db": "a"}],
        "n": 1, "x": 1.0, "e": [], "$db": "a"};
        assert_eq!(
            to_shell_string(&command),
            "{ createUser: \"u\", pwd: \"###\", roles: [ { role: \"read\", db: \"a\" } ], n: 1, x: 1.0, \
             e: [], $db: \"a\" }"
        );
    }
}
