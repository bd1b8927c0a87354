//! `$lookup` within a database: the equality form (`localField` / `foreignField`, matching as the
//! query `{foreignField: {$in: <local values>}}` does, with null or missing matching null or
//! missing) and the pipeline form (`let` variables evaluated on the local document, then a
//! sub-pipeline over the foreign collection), alone or combined.

use bson::{Bson, Document, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::pipeline::Pipeline;
use crate::pipeline::expression::value::type_name;
use crate::pipeline::expression::{Expression, Vars};
use crate::query::matcher::Matcher;
use crate::query::path::{Candidate, FieldPath, LeafArrays, candidates, check_field_path};

fn bad(msg: String) -> Status {
    Status::new(ErrorCode::FailedToParse, msg)
}

/// A parsed `$lookup`.
#[derive(Clone, Debug)]
pub struct Lookup {
    from: String,
    as_path: Vec<String>,
    equality: Option<(FieldPath, String)>,
    lets: Vec<(String, Expression)>,
    pipeline: Option<Pipeline>,
}

fn string_argument(key: &str, value: &Bson) -> StatusResult<String> {
    match value {
        Bson::String(s) => Ok(s.clone()),
        other => Err(bad(format!(
            "$lookup argument '{key}: {other}' must be a string, found {}",
            type_name(Some(other))
        ))),
    }
}

impl Lookup {
    /// Parses the stage (FailedToParse for missing or conflicting arguments, as mongod).
    pub fn parse(spec: &Bson) -> StatusResult<Lookup> {
        let Bson::Document(spec) = spec else {
            return Err(bad(format!(
                "the $lookup specification must be an Object, but found {}",
                type_name(Some(spec))
            )));
        };
        let (mut from, mut as_field, mut local, mut foreign) = (None, None, None, None);
        let mut lets = None;
        let mut pipeline = None;
        for (key, value) in spec {
            match key.as_str() {
                "pipeline" => {
                    let Bson::Array(stages) = value else {
                        return Err(bad("'pipeline' option must be specified as an array".into()));
                    };
                    pipeline = Some(Pipeline::parse_array(stages)?);
                }
                "let" => {
                    let Bson::Document(vars) = value else {
                        return Err(bad(format!(
                            "$lookup argument 'let: {value}' must be an object, is type {}",
                            type_name(Some(value))
                        )));
                    };
                    let mut parsed = Vec::with_capacity(vars.len());
                    for (name, expr) in vars {
                        crate::pipeline::expression::validate_variable_name(name)?;
                        parsed.push((name.clone(), Expression::parse(expr)?));
                    }
                    lets = Some(parsed);
                }
                "from" => from = Some(string_argument(key, value)?),
                "as" => as_field = Some(string_argument(key, value)?),
                "localField" => local = Some(string_argument(key, value)?),
                "foreignField" => foreign = Some(string_argument(key, value)?),
                _ => return Err(bad(format!("unknown argument to $lookup: {key}"))),
            }
        }
        let from = from.ok_or_else(|| bad("must specify 'from' field for a $lookup".into()))?;
        let as_field = as_field.ok_or_else(|| bad("must specify 'as' field for a $lookup".into()))?;
        check_field_path(&as_field)?;
        let equality = match (local, foreign) {
            (Some(l), Some(f)) => {
                check_field_path(&l)?;
                check_field_path(&f)?;
                Some((FieldPath::new(&l), f))
            }
            (None, None) if pipeline.is_some() => None,
            (None, None) => {
                return Err(bad(
                    "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified"
                        .into(),
                ));
            }
            _ if pipeline.is_some() => {
                return Err(bad(
                    "$lookup requires both or neither of 'localField' and 'foreignField' to be specified"
                        .into(),
                ));
            }
            _ => {
                return Err(bad(
                    "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified"
                        .into(),
                ));
            }
        };
        if lets.is_some() && pipeline.is_none() {
            return Err(bad("$lookup with 'let' must also specify 'pipeline'".into()));
        }
        Ok(Lookup {
            from,
            as_path: as_field.split('.').map(str::to_owned).collect(),
            equality,
            lets: lets.unwrap_or_default(),
            pipeline,
        })
    }

    /// The foreign collection.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// Where the results go.
    pub fn as_path(&self) -> &[String] {
        &self.as_path
    }

    /// The sub-pipeline, for the pipeline form.
    pub fn pipeline(&self) -> Option<&Pipeline> {
        self.pipeline.as_ref()
    }

    /// The foreign documents the equality condition admits (all of them without one).
    pub fn matching(&self, local: &Document, foreign: &[Document]) -> StatusResult<Vec<Document>> {
        let Some((local_path, foreign_field)) = &self.equality else {
            return Ok(foreign.to_vec());
        };
        let mut values: Vec<Bson> = Vec::new();
        for c in candidates(local, local_path, LeafArrays::Expand) {
            match c {
                // An array's elements were already yielded; the array itself is not a key.
                Candidate::Value {
                    value: Bson::Array(_),
                    from_array: false,
                } => {}
                Candidate::Value { value, .. } => values.push(value.clone()),
                Candidate::Missing => {}
            }
        }
        if values.is_empty() {
            values.push(Bson::Null);
        }
        let matcher = Matcher::parse(&doc! { foreign_field.as_str(): { "$in": values } })?;
        Ok(foreign.iter().filter(|d| matcher.matches(d)).cloned().collect())
    }

    /// The `let` variables evaluated on the local document.
    pub fn let_values(&self, vars: &Vars<'_>) -> StatusResult<Vec<(String, Option<Bson>)>> {
        self.lets
            .iter()
            .map(|(name, expr)| Ok((name.clone(), expr.evaluate(vars)?)))
            .collect()
    }
}
