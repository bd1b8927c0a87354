//! Query planning and execution for find, count, distinct, update, delete and findAndModify: choose an
//! _id lookup, an index scan on a leading field the filter bounds, or a collection scan; then stream or
//! collect the matching documents, checking for interrupts as it goes. Documents are matched on their
//! stored bytes and decoded only when a caller needs them decoded (a sort, a projection, an update).

use std::ops::Bound;
use std::sync::Arc;

use bson::{Bson, Document, RawDocument, RawDocumentBuf, doc};
use docwire_rpc::{ErrorCode, Status, StatusResult};

use crate::cursor::{Batch, BatchLimit, CursorSource, InterruptCheck};
use crate::query::matcher::{Interval, Matcher};
use crate::query::projection::Projection;
use crate::query::sort::SortSpec;
use crate::storage::{Direction, IndexSpec, ReadTxn, Record, StorageEngine};

use super::util::{decode, encode};

/// How often (in documents examined) a scan checks for interrupts.
const CHECK_EVERY: usize = 128;

/// The access path a query uses.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// `{_id: v}`: one point lookup.
    IdLookup(Bson),
    /// A range on an index's leading field.
    IndexScan(Box<IndexScanPlan>),
    /// Every document.
    CollectionScan,
}

/// An index scan: which index and the bounds on its leading field.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexScanPlan {
    /// The index's name.
    pub index: String,
    /// Its key pattern.
    pub key_pattern: Document,
    /// The bounds on the leading field.
    pub interval: Interval,
}

impl Plan {
    /// explain's winningPlan.
    pub fn explain(&self) -> Document {
        match self {
            Plan::IdLookup(_) => doc! {"stage": "IDHACK"},
            Plan::IndexScan(scan) => doc! {
                "stage": "FETCH",
                "inputStage": {
                    "stage": "IXSCAN",
                    "keyPattern": scan.key_pattern.clone(),
                    "indexName": scan.index.clone(),
                    "direction": "forward",
                },
            },
            Plan::CollectionScan => doc! {"stage": "COLLSCAN", "direction": "forward"},
        }
    }
}

/// Chooses a plan: a hinted index, an _id point, the first index whose leading field the filter bounds,
/// else a collection scan.
pub fn choose_plan(
    read: &dyn ReadTxn,
    ns: &str,
    matcher: &Matcher,
    hint: Option<&Bson>,
) -> StatusResult<Plan> {
    if hint.is_none()
        && let Some(interval) = matcher.index_bounds("_id")
        && interval.is_point()
        && let Bound::Included(id) = interval.lower
    {
        // The point lookup needs no index list, only the collection.
        return Ok(match read.collection_exists(ns)? {
            true => Plan::IdLookup(id),
            false => Plan::CollectionScan,
        });
    }
    let indexes = match read.collection(ns)? {
        Some(info) => info.indexes,
        None => return Ok(Plan::CollectionScan),
    };
    if let Some(hint) = hint {
        return hinted_plan(&indexes, matcher, hint);
    }
    for index in &indexes {
        let Some((field, _)) = index.key.iter().next() else {
            continue;
        };
        if index.sparse {
            continue;
        }
        if let Some(interval) = matcher.index_bounds(field) {
            return Ok(index_plan(index, interval));
        }
    }
    Ok(Plan::CollectionScan)
}

fn hinted_plan(indexes: &[IndexSpec], matcher: &Matcher, hint: &Bson) -> StatusResult<Plan> {
    let found = match hint {
        Bson::String(name) if name == "$natural" => return Ok(Plan::CollectionScan),
        Bson::String(name) => indexes.iter().find(|i| &i.name == name),
        Bson::Document(d) if d.contains_key("$natural") => return Ok(Plan::CollectionScan),
        Bson::Document(pattern) => indexes.iter().find(|i| &i.key == pattern),
        _ => None,
    };
    let Some(index) = found else {
        return Err(Status::new(
            ErrorCode::BadValue,
            "hint provided does not correspond to an existing index",
        ));
    };
    let field = index.key.iter().next().map(|(f, _)| f.as_str()).unwrap_or("_id");
    let interval = matcher.index_bounds(field).unwrap_or(Interval {
        lower: Bound::Unbounded,
        upper: Bound::Unbounded,
    });
    Ok(index_plan(index, interval))
}

fn index_plan(index: &IndexSpec, interval: Interval) -> Plan {
    Plan::IndexScan(Box::new(IndexScanPlan {
        index: index.name.clone(),
        key_pattern: index.key.clone(),
        interval,
    }))
}

/// A matching document.
pub struct Matched {
    /// The document, decoded.
    pub doc: Document,
    /// The document as stored.
    pub raw: RawDocumentBuf,
}

/// Whether a stored document satisfies `matcher`, read in place from its bytes. A document whose
/// bytes cannot be read where the filter looks is decoded instead: InvalidBSON if it does not decode
/// (as when every document was decoded), else the decoded matcher's answer.
pub fn record_matches(matcher: &Matcher, raw: &RawDocument) -> StatusResult<bool> {
    match matcher.matches_raw(raw) {
        Ok(matched) => Ok(matched),
        Err(_) => Ok(matcher.matches(&decode(raw)?)),
    }
}

/// Runs `plan` and returns every document `matcher` accepts (at most `limit`), in plan order,
/// decoded for the caller (sorts, updates, pipelines); only matching documents are decoded.
pub fn collect(
    read: &dyn ReadTxn,
    ns: &str,
    plan: &Plan,
    matcher: &Matcher,
    limit: Option<usize>,
    check: InterruptCheck<'_>,
) -> StatusResult<Vec<Matched>> {
    collect_raw(read, ns, plan, matcher, limit, check)?
        .into_iter()
        .map(|raw| {
            Ok(Matched {
                doc: decode(&raw)?,
                raw,
            })
        })
        .collect()
}

/// Runs `plan` and returns every document `matcher` accepts (at most `limit`), in plan order, as
/// stored: nothing is decoded.
pub fn collect_raw(
    read: &dyn ReadTxn,
    ns: &str,
    plan: &Plan,
    matcher: &Matcher,
    limit: Option<usize>,
    check: InterruptCheck<'_>,
) -> StatusResult<Vec<RawDocumentBuf>> {
    let mut out = Vec::new();
    if limit == Some(0) {
        return Ok(out);
    }
    let records: Box<dyn Iterator<Item = StatusResult<Record>> + '_> = match plan {
        Plan::IdLookup(id) => {
            let found = read.find_by_id(ns, id)?;
            Box::new(found.into_iter().map(|doc| Ok(Record { key: Vec::new(), doc })))
        }
        Plan::IndexScan(scan) => read.index_scan(
            ns,
            &scan.index,
            bound_ref(&scan.interval.lower),
            bound_ref(&scan.interval.upper),
            Direction::Forward,
        )?,
        Plan::CollectionScan => read.scan(ns, Bound::Unbounded, Direction::Forward)?,
    };
    for (examined, record) in records.enumerate() {
        if examined % CHECK_EVERY == 0 {
            check()?;
        }
        let record = record?;
        if record_matches(matcher, &record.doc)? {
            out.push(record.doc);
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
    }
    Ok(out)
}

fn bound_ref(b: &Bound<Bson>) -> Bound<&Bson> {
    match b {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// A find's shape: what to return and in which order.
pub struct FindShape {
    /// The filter.
    pub matcher: Arc<Matcher>,
    /// The sort, if any.
    pub sort: Option<SortSpec>,
    /// The projection, if any.
    pub projection: Option<Arc<Projection>>,
    /// Documents to skip.
    pub skip: usize,
    /// At most this many documents in all.
    pub limit: Option<usize>,
    /// The index hint.
    pub hint: Option<Bson>,
}

/// Executes a find: a streaming collection scan when nothing needs ordering or an index, else the
/// documents collected (sorted, skipped, limited, projected) up front.
pub fn execute_find(
    engine: &Arc<dyn StorageEngine>,
    ns: &str,
    shape: FindShape,
    check: InterruptCheck<'_>,
) -> StatusResult<(Box<dyn CursorSource>, Plan)> {
    let read = engine.begin_read()?;
    let plan = choose_plan(read.as_ref(), ns, &shape.matcher, shape.hint.as_ref())?;
    if plan == Plan::CollectionScan && shape.sort.is_none() {
        let source = ScanSource {
            engine: engine.clone(),
            ns: ns.to_owned(),
            matcher: shape.matcher,
            projection: shape.projection,
            resume: None,
            skip: shape.skip,
            remaining: shape.limit,
            done: false,
        };
        return Ok((Box::new(source), plan));
    }
    let Some(sort) = &shape.sort else {
        // No order to establish: skip + limit bound the work, and the documents go out as stored
        // unless a projection reshapes them.
        let wanted = shape.limit.map(|limit| shape.skip + limit);
        let mut matched = collect_raw(read.as_ref(), ns, &plan, &shape.matcher, wanted, check)?;
        let start = shape.skip.min(matched.len());
        let mut documents = Vec::with_capacity(matched.len() - start);
        for raw in matched.drain(start..) {
            documents.push(project(shape.projection.as_deref(), raw)?);
        }
        return Ok((Box::new(crate::cursor::VecSource::new(documents)), plan));
    };
    // With a sort, everything matching is needed first.
    let matched = collect(read.as_ref(), ns, &plan, &shape.matcher, None, check)?;
    let mut keyed: Vec<(Vec<Bson>, Matched)> = matched.into_iter().map(|m| (sort.key(&m.doc), m)).collect();
    keyed.sort_by(|a, b| sort.compare_keys(&a.0, &b.0));
    let end = shape
        .limit
        .map_or(keyed.len(), |l| (shape.skip + l).min(keyed.len()));
    let start = shape.skip.min(end);
    let mut documents = Vec::with_capacity(end - start);
    for (_, m) in keyed.drain(start..end) {
        documents.push(match &shape.projection {
            Some(p) => encode(&p.apply(&m.doc))?,
            None => m.raw,
        });
    }
    Ok((Box::new(crate::cursor::VecSource::new(documents)), plan))
}

/// A matching document as it goes out: as stored, or decoded and reshaped by the projection.
fn project(projection: Option<&Projection>, raw: RawDocumentBuf) -> StatusResult<RawDocumentBuf> {
    match projection {
        Some(p) => encode(&p.apply(&decode(&raw)?)),
        None => Ok(raw),
    }
}

/// A collection scan that reads each batch from a fresh snapshot, resuming after the last record key
/// (as mongod's plans yield and restore between batches).
struct ScanSource {
    engine: Arc<dyn StorageEngine>,
    ns: String,
    matcher: Arc<Matcher>,
    projection: Option<Arc<Projection>>,
    resume: Option<Vec<u8>>,
    skip: usize,
    remaining: Option<usize>,
    done: bool,
}

impl CursorSource for ScanSource {
    fn next_batch(&mut self, limit: BatchLimit, check: InterruptCheck<'_>) -> StatusResult<Batch> {
        let mut batch = Batch::default();
        if self.done || self.remaining == Some(0) {
            batch.exhausted = true;
            return Ok(batch);
        }
        if limit.max_docs == Some(0) {
            // batchSize 0: an empty first batch and an open cursor, as mongod answers.
            return Ok(batch);
        }
        let read = self.engine.begin_read()?;
        let resume = match &self.resume {
            Some(key) => Bound::Excluded(key.as_slice()),
            None => Bound::Unbounded,
        };
        let mut bytes = 0usize;
        let mut records = read.scan(&self.ns, resume, Direction::Forward)?.enumerate();
        loop {
            let Some((examined, record)) = records.next() else {
                self.done = true;
                break;
            };
            if examined % CHECK_EVERY == 0 {
                check()?;
            }
            let Record { key, doc } = record?;
            self.resume = Some(key);
            if !record_matches(&self.matcher, &doc)? {
                continue;
            }
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            let out = project(self.projection.as_deref(), doc)?;
            bytes += out.as_bytes().len();
            batch.documents.push(out);
            if let Some(r) = self.remaining.as_mut() {
                *r -= 1;
                if *r == 0 {
                    self.done = true;
                    break;
                }
            }
            let full_by_count = limit.max_docs.is_some_and(|n| batch.documents.len() >= n);
            if full_by_count || bytes >= limit.max_bytes {
                break;
            }
        }
        // A batch that ended exactly at the last record learns it only on the next read; report
        // exhaustion when the scan already ran dry.
        batch.exhausted = self.done;
        Ok(batch)
    }
}
