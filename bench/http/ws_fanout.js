#!/usr/bin/env node
// WebSocket fan-out of bench/http/run.sh (see docs/performance.md, "The web side").
//
//   node ws_fanout.js --base http://127.0.0.1:PORT --tenant acme --token TOKEN \
//     [--clients 500] [--changes 50] [--interval-ms 200] [--agents 2150,2151,...] \
//     [--server-pid PID] [--hz 100] [--connect-concurrency 50] [--settle-ms 3000]
//
// Opens --clients WebSockets to /api/v1/tenants/TENANT/stream (Authorization: Bearer, no Origin),
// each subscribes {"subscribe": ["agents", "queues", "contacts"]} and waits for "subscribed".
// Then --changes times, every --interval-ms, it PUTs an agent's status (the agents of --agents in
// turn: logged-out -> available -> break (lunch) -> logged-out ...) and timestamps, for every
// client, the arrival of the `agent` message with that extension and that status, from just before
// the PUT was written. One process, one clock (performance.now()); the arrival time is when Node's
// event loop hands the message to the client's handler, so it includes this process's own delay in
// reading 500 sockets (its CPU is printed too).
//
// With --server-pid it reads the server's utime+stime (/proc/PID/stat) and VmRSS (/proc/PID/status)
// before and after opening the connections, and over the changes. The last line is
// `WS key=value ...` for run.sh.
'use strict';

const fs = require('fs');
const http = require('http');
const { performance } = require('perf_hooks');
const WebSocket = require('ws');

function parseArgs(argv) {
  const o = {
    base: '', tenant: 'acme', token: '', clients: 500, changes: 50, intervalMs: 200,
    agents: '', serverPid: 0, hz: 100, connectConcurrency: 50, settleMs: 3000,
  };
  const names = {
    '--base': 'base', '--tenant': 'tenant', '--token': 'token', '--clients': 'clients',
    '--changes': 'changes', '--interval-ms': 'intervalMs', '--agents': 'agents',
    '--server-pid': 'serverPid', '--hz': 'hz', '--connect-concurrency': 'connectConcurrency',
    '--settle-ms': 'settleMs',
  };
  for (let i = 2; i < argv.length; i += 2) {
    const k = names[argv[i]];
    if (!k || i + 1 >= argv.length) throw new Error(`bad option ${argv[i]}`);
    o[k] = typeof o[k] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!o.base || !o.token) throw new Error('--base and --token are required');
  o.agents = o.agents ? o.agents.split(',') : ['2000'];
  return o;
}

const opt = parseArgs(process.argv);
const wsUrl = `${opt.base.replace(/^http/, 'ws')}/api/v1/tenants/${opt.tenant}/stream`;
const auth = { Authorization: `Bearer ${opt.token}` };

function serverCpu() {  // seconds of utime+stime, or NaN
  if (!opt.serverPid) return NaN;
  try {
    const s = fs.readFileSync(`/proc/${opt.serverPid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');  // f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12])) / opt.hz;
  } catch { return NaN; }
}
function serverRssKb() {
  if (!opt.serverPid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${opt.serverPid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

// expected["ext|status"] = index of the change that is waiting for that message
const expected = new Map();
const clients = [];
let closedEarly = 0;
let errors = 0;
const errorSamples = new Map();
const msgTypes = {};

function openClient(i) {
  return new Promise((resolve) => {
    const c = {
      i, ws: null, subscribed: false, closed: false, got: new Map(), messages: 0,
      tOpen: performance.now(), connectMs: NaN,
    };
    clients.push(c);
    let settled = false;
    const done = (ok) => { if (!settled) { settled = true; resolve(ok); } };
    const ws = new WebSocket(wsUrl, { headers: auth, perMessageDeflate: false, handshakeTimeout: 10000 });
    c.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ subscribe: ['agents', 'queues', 'contacts'] })));
    ws.on('message', (data) => {
      const t = performance.now();
      c.messages++;
      let m;
      try { m = JSON.parse(data.toString()); } catch { return; }
      msgTypes[m.type] = (msgTypes[m.type] || 0) + 1;
      if (m.type === 'subscribed') {
        c.subscribed = true;
        c.connectMs = t - c.tOpen;
        done(true);
      } else if (m.type === 'agent' && m.agent) {
        const k = expected.get(`${m.agent.extension}|${m.agent.status}`);
        if (k !== undefined && !c.got.has(k)) c.got.set(k, t);
      }
    });
    ws.on('error', (e) => {
      errors++;
      const key = String(e.message || e).slice(0, 120);
      errorSamples.set(key, (errorSamples.get(key) || 0) + 1);
      done(false);
    });
    ws.on('close', (code) => {
      c.closed = true;
      if (c.subscribed && !stopping) closedEarly++;
      c.closeCode = code;
      done(false);
    });
  });
}

let stopping = false;
const agentAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function put(ext, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request(`${opt.base}/api/v1/tenants/${opt.tenant}/agents/${ext}/status`, {
      method: 'PUT', agent: agentAgent,
      headers: { ...auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

async function main() {
  const n = opt.clients;
  const cpu0 = serverCpu(), rss0 = serverRssKb(), tc0 = performance.now();
  const me0 = process.cpuUsage();
  let next = 0, ok = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      if (await openClient(i)) ok++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(opt.connectConcurrency, n) }, worker));
  const tc1 = performance.now(), cpu1 = serverCpu(), rss1 = serverRssKb();
  const connectMs = clients.filter((c) => c.subscribed).map((c) => c.connectMs).sort((a, b) => a - b);
  console.log(`connect: ${ok} of ${n} subscribed in ${f1((tc1 - tc0) / 1000)} s ` +
    `(${opt.connectConcurrency} at a time; upgrade+subscribe p50 ${f1(pct(connectMs, 50))} ms, ` +
    `p99 ${f1(pct(connectMs, 99))} ms, max ${f1(connectMs[connectMs.length - 1])} ms); ` +
    `server CPU ${f2(cpu1 - cpu0)} s, RSS ${Math.round(rss0 / 1024)} -> ${Math.round(rss1 / 1024)} MB ` +
    `(${f1((rss1 - rss0) / Math.max(ok, 1))} KB per connection); errors ${errors}`);
  for (const [k, v] of errorSamples) console.log(`  error x${v}: ${k}`);
  if (!ok) { console.log('WS subscribed=0'); process.exit(1); }

  await sleep(1000);  // let the subscriptions' first messages pass
  const live = clients.filter((c) => c.subscribed && !c.closed);
  const status = new Map();  // what the bench set last, per agent (they start logged-out)
  const cycle = [
    { status: 'available' }, { status: 'break', reason: 'lunch' }, { status: 'logged-out' },
  ];
  const changes = [];
  const cpu2 = serverCpu(), me1 = process.cpuUsage(), tw0 = performance.now();
  for (let k = 0; k < opt.changes; k++) {
    const ext = opt.agents[k % opt.agents.length];
    const step = status.has(ext) ? (status.get(ext) + 1) % cycle.length : 0;
    status.set(ext, step);
    const body = cycle[step];
    expected.set(`${ext}|${body.status}`, k);
    const t0 = performance.now();
    const ch = { k, ext, status: body.status, t0, code: 0, putMs: NaN };
    changes.push(ch);
    put(ext, body).then((code) => { ch.code = code; ch.putMs = performance.now() - t0; });
    const wait = t0 + opt.intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  // the last change's messages
  const tEnd = performance.now() + opt.settleMs;
  while (performance.now() < tEnd) {
    const all = live.every((c) => c.closed || c.got.size >= opt.changes);
    if (all) break;
    await sleep(50);
  }
  await sleep(200);
  const tw1 = performance.now(), cpu3 = serverCpu(), rss3 = serverRssKb(), me2 = process.cpuUsage();

  const lat = [];
  const perChange = changes.map(() => ({ got: 0, max: 0 }));
  let gotAll = 0;
  for (const c of live) {
    if (c.got.size === opt.changes) gotAll++;
    for (const [k, t] of c.got) {
      const d = t - changes[k].t0;
      lat.push(d);
      perChange[k].got++;
      if (d > perChange[k].max) perChange[k].max = d;
    }
  }
  lat.sort((a, b) => a - b);
  const within1s = perChange.filter((p) => p.got === live.length && p.max <= 1000).length;
  const lastArrival = perChange.map((p) => p.max).sort((a, b) => a - b);
  const putMs = changes.map((c) => c.putMs).filter(Number.isFinite).sort((a, b) => a - b);
  const badPut = changes.filter((c) => c.code !== 200).length;
  const expectedMsgs = live.length * opt.changes;
  const secs = (tw1 - tw0) / 1000;
  const meCpu = (me2.user - me1.user + me2.system - me1.system) / 1e6;
  const meConnectCpu = (me1.user - me0.user + me1.system - me0.system) / 1e6;
  console.log(`changes: ${opt.changes} PUTs, one every ${opt.intervalMs} ms, over ${f1(secs)} s ` +
    `(PUT status not 200: ${badPut}; PUT answered p50 ${f2(pct(putMs, 50))} ms, max ${f2(putMs[putMs.length - 1])} ms)`);
  console.log(`delivery: ${lat.length} of ${expectedMsgs} expected agent messages ` +
    `(${live.length} clients x ${opt.changes} changes); PUT -> client p50 ${f2(pct(lat, 50))} ms, ` +
    `p90 ${f2(pct(lat, 90))} ms, p99 ${f2(pct(lat, 99))} ms, max ${f2(lat[lat.length - 1])} ms`);
  console.log(`per change, the last of the ${live.length} clients: p50 ${f2(pct(lastArrival, 50))} ms, ` +
    `p99 ${f2(pct(lastArrival, 99))} ms, max ${f2(lastArrival[lastArrival.length - 1])} ms; ` +
    `changes with every client updated within 1 s: ${within1s} of ${opt.changes}`);
  console.log(`clients that got every change: ${gotAll} of ${live.length}; closed during the run: ` +
    `${closedEarly}; messages by type: ${JSON.stringify(msgTypes)}`);
  console.log(`server: CPU ${f2(cpu3 - cpu2)} s over ${f1(secs)} s of changes ` +
    `(${f1((100 * (cpu3 - cpu2)) / secs)}% of a core), RSS ${Math.round(rss3 / 1024)} MB; ` +
    `this client: CPU ${f2(meConnectCpu)} s connecting, ${f2(meCpu)} s during the changes`);
  console.log(['WS', `clients=${n}`, `subscribed=${ok}`, `connect_s=${f2((tc1 - tc0) / 1000)}`,
    `connect_p50_ms=${f1(pct(connectMs, 50))}`, `connect_p99_ms=${f1(pct(connectMs, 99))}`,
    `connect_cpu_s=${f2(cpu1 - cpu0)}`, `rss0_kb=${rss0}`, `rss1_kb=${rss1}`, `rss_end_kb=${rss3}`,
    `changes=${opt.changes}`, `put_not_200=${badPut}`, `delivered=${lat.length}`, `expected=${expectedMsgs}`,
    `p50_ms=${f2(pct(lat, 50))}`, `p90_ms=${f2(pct(lat, 90))}`, `p99_ms=${f2(pct(lat, 99))}`,
    `max_ms=${f2(lat[lat.length - 1])}`, `last_p50_ms=${f2(pct(lastArrival, 50))}`,
    `last_max_ms=${f2(lastArrival[lastArrival.length - 1])}`, `within_1s=${within1s}`,
    `got_all=${gotAll}`, `live=${live.length}`, `closed_early=${closedEarly}`, `errors=${errors}`,
    `changes_s=${f2(secs)}`, `changes_cpu_s=${f2(cpu3 - cpu2)}`, `client_cpu_s=${f2(meCpu)}`].join(' '));
  stopping = true;
  for (const c of clients) if (!c.closed) c.ws.terminate();
  agentAgent.destroy();
  const fail = ok < n || gotAll < live.length || closedEarly > 0 || badPut > 0;
  process.exit(fail ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
