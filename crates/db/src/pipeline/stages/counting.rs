//! `$count` and `$sortByCount` arguments; both expand into `$group` (plus `$project` or `$sort`),
//! as mongod does.

use bson::Bson;
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::expression::Expression;
use crate::pipeline::expression::value::type_name;

fn err(code: i32, msg: String) -> Status {
    Status::new(ErrorCode::Location(code), msg)
}

/// The output field `$count` names (40156-40160 for bad names).
pub fn parse_count(value: &Bson) -> StatusResult<String> {
    let Bson::String(name) = value else {
        return Err(err(
            40156,
            format!(
                "the count field must be a non-empty string, but found {}",
                type_name(Some(value))
            ),
        ));
    };
    if name.is_empty() {
        return Err(err(40157, "the count field must be a non-empty string".into()));
    }
    if name.starts_with('$') {
        return Err(err(40158, "the count field cannot be a $-prefixed path".into()));
    }
    if name.contains('\0') {
        return Err(err(40159, "the count field cannot contain a null byte".into()));
    }
    if name.contains('.') {
        return Err(err(40160, "the count field cannot contain '.'".into()));
    }
    Ok(name.clone())
}

/// The grouping expression of `$sortByCount` (40147-40149 for other forms).
pub fn parse_sort_by_count(value: &Bson) -> StatusResult<Expression> {
    match value {
        Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => Expression::parse(value),
        Bson::Document(_) => Err(err(
            40147,
            "the sortByCount field must be defined as a $-prefixed path or an expression inside an object"
                .into(),
        )),
        Bson::String(s) if s.starts_with('$') => Expression::parse(value),
        Bson::String(_) => Err(err(
            40148,
            "the sortByCount field must be defined as a $-prefixed path or an expression".into(),
        )),
        _ => Err(err(
            40149,
            "the sortByCount field must be specified as a string or as an object".into(),
        )),
    }
}
