// The Node driver against docwire: connect, ping, buildInfo, the handshake's wire version and the
// monitor's streaming (awaited) heartbeats. Usage: node node_smoke.mjs URI NODE_MODULES (the folder
// `cargo xtask drivers` installed the `mongodb` package into). Prints one JSON line that the Rust test
// (tests/tests/node_driver.rs) checks; exits non-zero on any failure.
import { createRequire } from 'node:module';
import path from 'node:path';

const [uri, nodeModules] = process.argv.slice(2);
const require = createRequire(path.join(nodeModules, 'package.json'));
const { MongoClient } = require('mongodb');
const driverVersion = require('mongodb/package.json').version;
const PATIENCE_MS = 15000;

const client = new MongoClient(uri, {
  heartbeatFrequencyMS: 500,
  serverSelectionTimeoutMS: PATIENCE_MS,
});
const heartbeatFailures = [];
client.on('serverHeartbeatFailed', (event) => heartbeatFailures.push(String(event.failure)));
const awaited = new Promise((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`no awaited heartbeat; failures: ${heartbeatFailures}`)),
    PATIENCE_MS,
  );
  // The driver reports the monitor's connection handshake as awaited already once the server offers
  // a topologyVersion; the second awaited success is the first reply streamed to an exhaust hello.
  let awaitedCount = 0;
  client.on('serverHeartbeatSucceeded', (event) => {
    if (event.awaited && ++awaitedCount === 2) {
      clearTimeout(timer);
      resolve(event.reply.connectionId);
    }
  });
});

try {
  await client.connect();
  const admin = client.db('admin');
  const out = { mongodb: driverVersion };
  out.ping = (await admin.command({ ping: 1 })).ok;
  const buildInfo = await admin.command({ buildInfo: 1 });
  out.version = buildInfo.version;
  out.docwire = buildInfo.docwire;
  out.maxWireVersion = (await admin.command({ hello: 1 })).maxWireVersion;
  out.awaitedConnectionId = Number(await awaited);
  out.awaitedHeartbeat = true;
  out.heartbeatFailures = heartbeatFailures;
  console.log(JSON.stringify(out));
} finally {
  await client.close();
}
