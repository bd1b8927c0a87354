// The Node driver's CRUD scenario against docwire's embedded database: insertMany; find with filters,
// sort and projection; a cursor across many getMores; the exhaust cursor flag; update and upsert;
// delete; findOneAndUpdate; countDocuments; distinct; an aggregation; create/list/drop indexes; w:0
// writes then a read. Usage: node node_crud.mjs URI NODE_MODULES. Prints one JSON line,
// {"driver": ..., "steps": {name: result}}, that the Rust test (tests/tests/node_crud.rs, via
// docwire_tests::crud) checks; a step that threw reports {"error": "..."} so every step is checked.
// The scenario is the same in pymongo_crud.py and rust_driver_crud.rs.
import { createRequire } from 'node:module';
import path from 'node:path';

const [uri, nodeModules] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, 'package.json'));
const { MongoClient } = require('mongodb');
const driverVersion = require('mongodb/package.json').version;
const PATIENCE_MS = 15000;
const N = 3000;

const client = new MongoClient(uri, {
  serverSelectionTimeoutMS: PATIENCE_MS,
  monitorCommands: true,
});
let getMores = 0;
const getMoreCommands = [];
client.on('commandStarted', (event) => {
  if (event.commandName === 'getMore') {
    getMoreCommands.push(event.command);
  }
});
client.on('commandSucceeded', (event) => {
  if (event.commandName === 'getMore') {
    getMores += 1;
  }
});

const doc = (i) => ({ _id: i, n: i, group: i % 5, tag: `t${i % 3}`, sub: { k: i % 7 }, s: 'doc' });
const db = client.db('crud');
const items = db.collection('items');
const steps = {};

async function step(name, body) {
  try {
    steps[name] = await body();
  } catch (e) {
    steps[name] = { error: `${e.name}: ${e.message}` };
  }
}

try {
  await client.connect();
  await step('insertMany', async () => {
    const result = await items.insertMany(Array.from({ length: N }, (_, i) => doc(i)));
    return { inserted: result.insertedCount };
  });
  await step('find', async () => {
    const ranged = await items
      .find({ n: { $gte: 10, $lt: 20 }, 'sub.k': { $ne: 0 } }, { projection: { _id: 0, n: 1, 'sub.k': 1 } })
      .sort({ n: -1 })
      .toArray();
    const either = await items
      .find({ $or: [{ n: { $lt: 3 } }, { n: { $gt: N - 4 } }] }, { projection: { n: 1 } })
      .sort({ n: 1 })
      .toArray();
    return { ranged, either: either.map((d) => d.n) };
  });
  await step('getMores', async () => {
    const before = getMores;
    const ids = (await items.find({}, { projection: { _id: 1 }, batchSize: 7 }).toArray()).map((d) => d._id);
    return { count: ids.length, distinctIds: new Set(ids).size, getMores: getMores - before };
  });
  await step('exhaust', async () => {
    // The driver accepts the exhaust cursor flag but only its monitor streams (exhaustAllowed):
    // a cursor's getMores are ordinary ones. Check the flag still reads everything, and say why.
    const from = getMoreCommands.length;
    const cursor = items.find({}, { projection: { _id: 1 }, batchSize: 50 }).addCursorFlag('exhaust', true);
    const count = (await cursor.toArray()).length;
    const streamed = getMoreCommands.slice(from).some((c) => c.exhaustAllowed);
    return {
      supported: streamed,
      reason: `the Node driver ${driverVersion} has no exhaust cursor over OP_MSG: addCursorFlag('exhaust') is accepted `
        + `but its getMores are ordinary request/reply ones (${count} documents read that way)`,
    };
  });
  await step('update', async () => {
    const many = await items.updateMany({ group: 0 }, { $inc: { n: 100000 }, $set: { touched: true } });
    const upsert = await items.updateOne({ _id: 'up' }, { $set: { n: -1 } }, { upsert: true });
    const again = await items.updateOne({ _id: 'up' }, { $set: { n: -1 } }, { upsert: true });
    const summary = (r) => ({ matched: r.matchedCount, modified: r.modifiedCount, upsertedId: r.upsertedId });
    return {
      many: { matched: many.matchedCount, modified: many.modifiedCount },
      upsert: summary(upsert),
      again: summary(again),
      upserted: await items.findOne({ _id: 'up' }),
      touched: await items.findOne({ _id: 10 }, { projection: { _id: 0, n: 1, touched: 1 } }),
    };
  });
  await step('delete', async () => {
    const many = await items.deleteMany({ group: 4 });
    const one = await items.deleteOne({ _id: 'up' });
    const remaining = (await items.find({}, { projection: { _id: 1 } }).toArray()).length;
    return { many: many.deletedCount, one: one.deletedCount, remaining };
  });
  await step('findOneAndUpdate', async () => {
    const projection = { n: 1, flag: 1 };
    const after = await items.findOneAndUpdate(
      { _id: 7 },
      { $set: { flag: 'x' }, $inc: { n: 1 } },
      { projection, returnDocument: 'after' },
    );
    const before = await items.findOneAndUpdate({ _id: 8 }, { $set: { flag: 'y' } }, { projection });
    const missing = await items.findOneAndUpdate({ _id: 'nothing' }, { $set: { flag: 'z' } });
    return { after, before, missing };
  });
  await step('countDocuments', async () => ({
    group1: await items.countDocuments({ group: 1 }),
    all: await items.countDocuments({}),
  }));
  await step('distinct', async () => ({
    tags: (await items.distinct('tag')).sort(),
    groups: (await items.distinct('group', { n: { $lt: 10 } })).sort((a, b) => a - b),
  }));
  await step('aggregate', async () => ({
    groups: await items
      .aggregate([
        { $match: { group: { $in: [1, 2, 3] } } },
        { $group: { _id: '$group', count: { $sum: 1 }, maxN: { $max: '$n' }, total: { $sum: '$n' } } },
        { $sort: { _id: -1 } },
      ])
      .toArray(),
  }));
  await step('indexes', async () => {
    const names = async () => (await items.listIndexes().toArray()).map((i) => i.name).sort();
    const created = [await items.createIndex({ n: 1 }), await items.createIndex({ tag: 1, n: -1 }, { name: 'tag_n' })];
    const listed = await names();
    await items.dropIndex('n_1');
    return { created, listed, afterDrop: await names() };
  });
  await step('w0', async () => {
    const w0 = db.collection('w0', { writeConcern: { w: 0 } });
    const result = await w0.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: i, w: 0 })));
    await w0.insertOne({ _id: 100, w: 0 });
    const deadline = Date.now() + PATIENCE_MS;
    let visible = 0;
    while (Date.now() < deadline) {
      visible = (await db.collection('w0').find({ w: 0 }, { projection: { _id: 1 } }).toArray()).length;
      if (visible === 101) break;
    }
    return { acknowledged: result.acknowledged, visible };
  });
  console.log(JSON.stringify({ driver: `node ${driverVersion}`, steps }));
} finally {
  await client.close();
}
