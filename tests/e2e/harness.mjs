// Support for the browser tests (tests/e2e/*.test.mjs) and scripts/screenshots.sh: the real
// `tamas serve` on free ports with its own data folder, accounts made with `tamas user add`,
// SIPp peers, headless Chromium through playwright-core, and waiting on conditions (never on
// fixed sleeps). Every process started here is stopped by stopAll(), also when a test fails.
//
// Environment: TAMAS_BIN (default build/tamas), CHROMIUM (default /usr/bin/chromium).

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const tamasBin = process.env.TAMAS_BIN || join(root, 'build/tamas');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
export const webDir = join(root, 'web/dist');

const children = new Set();

/** Polls `fn` (sync or async) every `every` ms until it returns a truthy value; returns it.
 * Throws with `what` after `timeout` ms. */
export async function waitFor(fn, { timeout = 10000, every = 50, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (e?.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** A free TCP port of 127.0.0.1 (the kernel's choice). */
export function freeTcpPort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function udpFree(port) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => res(false));
    s.bind(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

const handedOut = new Set(); // ranges given to a process that may not have bound them yet

/** The first port of `count` consecutive free UDP ports, searched from a place that depends on
 * this process (tests that ctest runs in parallel start elsewhere). Never the same range twice
 * in one process. */
export async function freeUdpRange(count, low = 33000, high = 60000) {
  const span = Math.floor((high - low) / count);
  const start = (process.pid * 7919) % span;
  for (let i = 0; i < span; i += 1) {
    const first = low + ((start + i) % span) * count;
    if (handedOut.has(first)) continue;
    let ok = true;
    for (let p = first; p < first + count && ok; p += 1) ok = await udpFree(p);
    if (ok) {
      handedOut.add(first);
      return first;
    }
  }
  throw new Error(`no ${count} free UDP ports in ${low}-${high}`);
}

/** Starts a process, remembered so that stopAll() ends it. Output goes to `logFile`. */
export function startProcess(cmd, args, { logFile, cwd, input } = {}) {
  const child = spawn(cmd, args, { cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d) => {
    output += d.toString();
    if (logFile) writeFileSync(logFile, output);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  if (input !== undefined) child.stdin.end(input);
  const exited = new Promise((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
    // Not started at all (no such file, not executable): an exit of its own kind.
    child.once('error', (e) => {
      onData(`${cmd}: ${e.message}\n`);
      res({ code: -1, signal: null });
    });
  });
  const proc = {
    child,
    exited,
    get output() {
      return output;
    },
    exitCode: null,
    async stop(signal = 'SIGTERM', grace = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), grace);
      await exited;
      clearTimeout(t);
    },
  };
  exited.then(({ code }) => {
    proc.exitCode = code;
    children.delete(proc);
  });
  children.add(proc);
  return proc;
}

/** Stops every process started here (the server last, so that peers leave first). */
export async function stopAll() {
  const list = [...children];
  const servers = list.filter((p) => p.isServer);
  await Promise.all(list.filter((p) => !p.isServer).map((p) => p.stop('SIGTERM', 2000)));
  await Promise.all(servers.map((p) => p.stop('SIGTERM', 8000)));
}

// Killed from outside (ctest's timeout, ^C): stop the server and the peers before leaving.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const p of children) p.child.kill('SIGKILL');
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

/** Runs a command to its end; resolves { code, output }. */
export async function run(cmd, args, input) {
  const p = startProcess(cmd, args, { input });
  const { code } = await p.exited;
  return { code, output: p.output };
}

/** `tamas serve` on free ports, with the web UI. Resolves once HTTP answers and SIP listens. */
export async function startServer(config, { rtpPorts = 200 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tamas-e2e-'));
  const dataDir = join(dir, 'data');
  const httpPort = await freeTcpPort();
  const rtp = await freeUdpRange(rtpPorts + 4);
  const sipPort = rtp + rtpPorts; // the ports after the RTP range, checked free with it
  const logFile = join(dir, 'serve.log');
  const proc = startProcess(
    tamasBin,
    [
      'serve', '--config', config, '--data-dir', dataDir,
      '--sip-listen', `127.0.0.1:${sipPort}`,
      '--rtp-ports', `${rtp}-${rtp + rtpPorts - 1}`,
      '--http-listen', `127.0.0.1:${httpPort}`,
      '--web-dir', webDir,
      '--drain-timeout', '2s',
    ],
    { logFile },
  );
  proc.isServer = true;
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw Object.assign(new Error(`tamas serve exited: ${proc.output}`), { fatal: true });
      if (!/ info serving /.test(proc.output)) return false;
      const r = await fetch(`${base}/api/v1/openapi.json`).catch(() => null);
      return r?.ok;
    },
    { timeout: 60000, every: 100, what: 'tamas serve to listen' },
  );
  const server = {
    proc,
    dir,
    dataDir,
    config,
    base,
    httpPort,
    sipPort,
    sipAddr: `127.0.0.1:${sipPort}`,
    get log() {
      return proc.output;
    },
    /** Creates an account with `tamas user add` (password on standard input). */
    async addUser(tenant, username, role, password, name) {
      const args = ['user', 'add', '--config', config, '--data-dir', dataDir, '--username', username, '--role', role];
      if (tenant) args.push('--tenant', tenant);
      if (name) args.push('--name', name);
      const r = await run(tamasBin, args, `${password}\n`);
      if (r.code !== 0) throw new Error(`tamas user add ${username}: ${r.output}`);
    },
    /** Signs in through the API; returns a client with a Bearer token. */
    async client(tenant, username, password) {
      const r = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tenant, username, password }),
      });
      if (!r.ok) throw new Error(`sign-in of ${username}: ${r.status} ${await r.text()}`);
      const { token } = await r.json();
      const call = async (method, path, body) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      };
      return { get: (p) => call('GET', p), post: (p, b) => call('POST', p, b ?? {}), put: (p, b) => call('PUT', p, b) };
    },
    /** Waits for a line of the server's log matching `re` after `from` characters. */
    waitLog(re, opts = {}) {
      const from = opts.from ?? 0;
      return waitFor(() => proc.output.slice(from).match(re), { what: `a log line ${re}`, ...opts });
    },
    cleanup() {
      if (!process.env.KEEP_E2E) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

// ---------------------------------------------------------------- SIPp
// Each SIPp gets 8 free ports: its SIP port P and its media ports from P+2 (audio RTP and RTCP,
// then video's two).

const sippDir = join(root, 'tests/e2e/sipp');

/** An agent's phone: a SIPp UAS answering every call offered to it (bench/sipp/agent_answer.xml),
 * registered for `extension` with digest (SIPp knows MD5 only: the tenant allows it). */
export async function startAgentPhone(server, { extension, password, realm, workDir }) {
  const uasPort = await freeUdpRange(8, 24000, 32000);
  const uas = startProcess(
    'sipp',
    ['-sf', join(root, 'bench/sipp/agent_answer.xml'), '-i', '127.0.0.1', '-p', String(uasPort), '-mp', String(uasPort + 2),
      '-l', '100', '-nostdin', '-trace_err', '-error_file', join(workDir, `uas-${extension}-errors.log`)],
    { logFile: join(workDir, `uas-${extension}.log`) },
  );
  const csv = join(workDir, `agent-${extension}.csv`);
  writeFileSync(csv, `SEQUENTIAL\n${extension};[authentication username=${extension} password=${password}];127.0.0.1:${uasPort}\n`);
  const regPort = await freeUdpRange(8, 24000, 32000);
  const reg = await run('sipp', [
    server.sipAddr, '-sf', join(sippDir, 'register.xml'), '-inf', csv, '-i', '127.0.0.1', '-p', String(regPort),
    '-mp', String(regPort + 2), '-m', '1', '-nostdin', '-timeout', '20s', '-timeout_error', '-key', 'realm', realm,
  ]);
  if (reg.code !== 0) throw new Error(`the agent's phone did not register (SIPp exit ${reg.code}): ${reg.output.slice(0, 1500)}`);
  return uas;
}

/** A caller: dials `number`, presses 1 after a second (RFC 2833) and waits for the
 * server's BYE (the agent hangs up). From: <sip:`from`@…>. */
export async function startCaller(server, { number, from, workDir }) {
  const port = await freeUdpRange(8, 24000, 32000);
  return startProcess(
    'sipp',
    [server.sipAddr, '-sf', join(sippDir, 'caller.xml'), '-s', number, '-i', '127.0.0.1', '-p', String(port),
      '-mp', String(port + 2), '-m', '1', '-nostdin', '-timeout', '120s', '-timeout_error',
      '-key', 'caller', from],
    { logFile: join(workDir, `caller-${from}.log`) },
  );
}

// ---------------------------------------------------------------- Chromium

export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Headless Chromium (the machine's, never a downloaded one). Playwright gives it a fresh,
 * temporary profile (user-data-dir) and removes it on close; each user of a test gets a context
 * of their own (newContext: separate cookies), 1280×800. */
export async function launchBrowser() {
  const { chromium } = await import(join(root, 'web/node_modules/playwright-core/index.mjs'));
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  return {
    browser,
    /** A new context (its own cookies and storage) with one page. The page's uncaught script
     * errors are collected in `page.scriptErrors`. */
    async page({ locale = 'en-GB' } = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
      const page = await context.newPage();
      page.scriptErrors = [];
      page.on('pageerror', (e) => page.scriptErrors.push(e.message));
      return page;
    },
    close: () => browser.close(),
  };
}
