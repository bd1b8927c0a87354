//! `$regex` patterns: mongod's options (i m s x u) mapped onto the `regex` crate, and how a compiled
//! pattern matches a value (strings and symbols by pattern, a stored regex by identity).

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};
use regex::{Regex, RegexBuilder};

/// A compiled `$regex`, keeping the source so an equal stored regex also matches.
#[derive(Clone, Debug)]
pub struct QueryRegex {
    pattern: String,
    options: String,
    compiled: Regex,
}

impl QueryRegex {
    /// Compiles `pattern` with mongod's `options`; unknown flags are 51108, bad patterns 51091.
    pub fn new(pattern: &str, options: &str) -> StatusResult<QueryRegex> {
        let mut builder = RegexBuilder::new(pattern);
        for flag in options.chars() {
            match flag {
                'i' => builder.case_insensitive(true),
                'm' => builder.multi_line(true),
                's' => builder.dot_matches_new_line(true),
                'x' => builder.ignore_whitespace(true),
                // PCRE's UTF-8 mode: the regex crate is always Unicode-aware.
                'u' => &mut builder,
                other => {
                    return Err(Status::new(
                        ErrorCode::Location(51108),
                        format!("invalid flag in regex options: {other}"),
                    ));
                }
            };
        }
        let compiled = builder.build().map_err(|e| {
            Status::new(
                ErrorCode::Location(51091),
                format!("Regular expression is invalid: {e}"),
            )
        })?;
        Ok(QueryRegex {
            pattern: pattern.to_owned(),
            options: options.to_owned(),
            compiled,
        })
    }

    /// Compiles a BSON regex literal.
    pub fn from_bson(r: &bson::Regex) -> StatusResult<QueryRegex> {
        QueryRegex::new(r.pattern.as_str(), r.options.as_str())
    }

    /// Whether a string (or symbol) matches the pattern.
    pub fn matches_str(&self, s: &str) -> bool {
        self.compiled.is_match(s)
    }

    /// Whether `value` matches: strings and symbols by pattern; a stored regex when identical.
    pub fn matches(&self, value: &Bson) -> bool {
        match value {
            Bson::String(s) | Bson::Symbol(s) => self.matches_str(s),
            Bson::RegularExpression(r) => {
                r.pattern.as_str() == self.pattern && sorted(r.options.as_str()) == sorted(&self.options)
            }
            _ => false,
        }
    }
}

fn sorted(options: &str) -> Vec<char> {
    let mut chars: Vec<char> = options.chars().collect();
    chars.sort_unstable();
    chars
}
