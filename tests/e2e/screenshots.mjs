// Writes docs/screenshots/{agent,wallboard,admin,admin-queue,wallboard-fa}.png (1280×800) from a real server
// with a little SIPp traffic: an earlier call (so the customer has a history and the chart a bar),
// agent 1001 talking to a caller, agent 1002 on a lunch break, a second caller waiting.
// Run through scripts/screenshots.sh. Every process started here is stopped at the end.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as H from './harness.mjs';

const out = process.argv[2] || join(H.root, 'docs/screenshots');
const T = 'acme';
const users = {
  sara: { username: '1001', password: 'sara-secret-1001', role: 'agent', name: 'Sara' },
  reza: { username: '1002', password: 'reza-secret-1002', role: 'agent', name: 'Reza' },
  maryam: { username: 'maryam', password: 'maryam-secret', role: 'supervisor', name: 'Maryam' },
  boss: { username: 'nasrin', password: 'nasrin-secret', role: 'manager', name: 'Nasrin' },
};
const work = mkdtempSync(join(tmpdir(), 'tamas-shots-'));
mkdirSync(out, { recursive: true });

let server;
let browser;
try {
  server = await H.startServer(join(H.root, 'tests/e2e/e2e.yaml'));
  for (const u of Object.values(users)) await server.addUser(T, u.username, u.role, u.password, u.name);
  await server.addUser(T, 'kaveh', 'analyst', 'kaveh-secret', 'Kaveh');
  const sup = await server.client(T, users.maryam.username, users.maryam.password);
  const api = `/api/v1/tenants/${T}`;
  const waitState = (ext, pred, what) =>
    H.waitFor(async () => (await sup.get(`${api}/live`)).body?.agents?.find((a) => a.extension === ext && pred(a)), { what, timeout: 20000 });

  await H.startAgentPhone(server, { extension: '1001', password: 'acme1001', realm: 'acme', workDir: work });
  await H.startAgentPhone(server, { extension: '1002', password: 'acme1002', realm: 'acme', workDir: work });
  await sup.put(`${api}/customers/09121234567`, { name: 'Ali Rezaei', notes: 'Prefers calls after 10:00. Order 4411.', tags: ['vip'] });

  // An earlier call, answered by 1001 and wrapped up, for the history and the chart.
  await sup.put(`${api}/agents/1001/status`, { status: 'available' });
  await waitState('1001', (a) => a.status === 'available', '1001 available');
  const first = await H.startCaller(server, { number: '100', from: '09121234567', workDir: work });
  await waitState('1001', (a) => a.state === 'on-contact', '1001 on the first call');
  await sup.post(`${api}/agents/1001/contact/hangup`);
  await first.exited;
  await waitState('1001', (a) => a.state === 'wrap-up', '1001 in wrap-up');
  await sup.post(`${api}/agents/1001/contact/wrapup`, { disposition: 'resolved', notes: 'Order status given.' });
  await sup.put(`${api}/agents/1002/status`, { status: 'break', reason: 'lunch' });

  browser = await H.launchBrowser();
  const signIn = async (page, u) => {
    await page.goto(`${server.base}/signin`);
    await page.fill('input[name=tenant]', T);
    await page.fill('input[name=username]', u.username);
    await page.fill('input[name=password]', u.password);
    await page.click('form button[type=submit]');
    await page.waitForURL((x) => !x.pathname.startsWith('/signin'));
  };

  const wallboard = await browser.page();
  await signIn(wallboard, users.maryam);
  await wallboard.waitForSelector('.stream-dot[data-state=open]');

  const agent = await browser.page();
  await signIn(agent, users.sara);
  await agent.waitForSelector('.stream-dot[data-state=open]');

  // The call on the agent's screen, then a second caller who waits.
  H.startCaller(server, { number: '100', from: '09121234567', workDir: work });
  await agent.waitForSelector('#hangup', { timeout: 20000 });
  await agent.waitForSelector('.customer-name:not(:empty)');
  await agent.waitForSelector('#customer-name');
  H.startCaller(server, { number: '100', from: '09359876543', workDir: work });
  await wallboard.waitForSelector('[data-queue=support] [data-testid=waiting]:not(:text("0"))', { timeout: 20000 });
  // Let the counters tick a few seconds so that the times are not all zero.
  await wallboard.waitForFunction(() => [...document.querySelectorAll('[data-queue=support] [data-since]')].some((e) => /0:0[4-9]|0:[1-5]\d/.test(e.textContent)), null, { timeout: 20000 });

  await agent.screenshot({ path: join(out, 'agent.png') });
  await wallboard.screenshot({ path: join(out, 'wallboard.png') });
  await wallboard.selectOption('#lang', 'fa');
  await wallboard.waitForFunction(() => document.documentElement.dir === 'rtl');
  await wallboard.waitForSelector('.chart[data-lang=fa] canvas'); // redrawn on the next frame
  await wallboard.screenshot({ path: join(out, 'wallboard-fa.png') });

  const admin = await browser.page();
  await signIn(admin, users.boss);
  await admin.click('a[href="/admin"]');
  await admin.waitForSelector('tr[data-user=kaveh]');
  await admin.waitForSelector('tr[data-queue=support]');
  await admin.screenshot({ path: join(out, 'admin.png') });
  await admin.click('tr[data-queue=support] [data-testid=edit-queue]');
  await admin.waitForSelector('#queue-editor[data-queue=support]');
  await admin.evaluate(() => document.querySelector('#queue-editor').scrollIntoView({ block: 'start' }));
  await admin.screenshot({ path: join(out, 'admin-queue.png') });
  console.log(`screenshots: written to ${out}`);
} catch (e) {
  console.error(`screenshots: ${e.stack || e}`);
  if (server) console.error(server.log.slice(-4000));
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  await H.stopAll();
  server?.cleanup();
  rmSync(work, { recursive: true, force: true });
}
