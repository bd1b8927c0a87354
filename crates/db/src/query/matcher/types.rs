//! `$type`: BSON type numbers and mongod's aliases (including "number"), parsed into a set.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::query::compare::as_f64;

/// The BSON type codes `$type` accepts, with their alias names.
const TYPES: &[(i32, &str)] = &[
    (1, "double"),
    (2, "string"),
    (3, "object"),
    (4, "array"),
    (5, "binData"),
    (6, "undefined"),
    (7, "objectId"),
    (8, "bool"),
    (9, "date"),
    (10, "null"),
    (11, "regex"),
    (12, "dbPointer"),
    (13, "javascript"),
    (14, "symbol"),
    (15, "javascriptWithScope"),
    (16, "int"),
    (17, "timestamp"),
    (18, "long"),
    (19, "decimal"),
    (-1, "minKey"),
    (127, "maxKey"),
];

/// The set of types a `$type` accepts.
#[derive(Clone, Debug, Default)]
pub struct TypeSet {
    codes: Vec<i32>,
    all_numbers: bool,
}

impl TypeSet {
    /// Parses a `$type` argument: a code, an alias, or an array of them. `path` names the field in
    /// the "must match at least one type" error.
    pub fn parse(arg: &Bson, path: &str) -> StatusResult<TypeSet> {
        let mut set = TypeSet::default();
        match arg {
            Bson::Array(items) => {
                for item in items {
                    set.add(item)?;
                }
                if items.is_empty() {
                    return Err(Status::new(
                        ErrorCode::FailedToParse,
                        format!("{path} must match at least one type"),
                    ));
                }
            }
            other => set.add(other)?,
        }
        Ok(set)
    }

    fn add(&mut self, item: &Bson) -> StatusResult<()> {
        match item {
            Bson::String(alias) if alias == "number" => self.all_numbers = true,
            Bson::String(alias) => {
                let code = TYPES.iter().find(|(_, name)| name == alias).map(|(c, _)| *c);
                let code = code.ok_or_else(|| {
                    Status::new(ErrorCode::BadValue, format!("Unknown type name alias: {alias}"))
                })?;
                self.codes.push(code);
            }
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
                let n = as_f64(item);
                let known = n.fract() == 0.0 && TYPES.iter().any(|(c, _)| f64::from(*c) == n);
                if !known {
                    return Err(Status::new(
                        ErrorCode::BadValue,
                        format!("Invalid numerical type code: {n}"),
                    ));
                }
                // Checked above: n is one of the small integral codes.
                self.codes.push(n as i32);
            }
            _ => {
                return Err(Status::new(
                    ErrorCode::TypeMismatch,
                    "type must be represented as a number or a string",
                ));
            }
        }
        Ok(())
    }

    /// Whether `value`'s type is in the set.
    pub fn contains(&self, value: &Bson) -> bool {
        let code = type_code(value);
        (self.all_numbers && matches!(code, 1 | 16 | 18 | 19)) || self.codes.contains(&code)
    }
}

/// The BSON type number of a value.
pub fn type_code(value: &Bson) -> i32 {
    match value {
        Bson::Double(_) => 1,
        Bson::String(_) => 2,
        Bson::Document(_) => 3,
        Bson::Array(_) => 4,
        Bson::Binary(_) => 5,
        Bson::Undefined => 6,
        Bson::ObjectId(_) => 7,
        Bson::Boolean(_) => 8,
        Bson::DateTime(_) => 9,
        Bson::Null => 10,
        Bson::RegularExpression(_) => 11,
        Bson::DbPointer(_) => 12,
        Bson::JavaScriptCode(_) => 13,
        Bson::Symbol(_) => 14,
        Bson::JavaScriptCodeWithScope(_) => 15,
        Bson::Int32(_) => 16,
        Bson::Timestamp(_) => 17,
        Bson::Int64(_) => 18,
        Bson::Decimal128(_) => 19,
        Bson::MinKey => -1,
        Bson::MaxKey => 127,
    }
}
