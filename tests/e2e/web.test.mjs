// The web UI in a real browser against the real server (the acceptance test):
//   - sign-in refused with a wrong password, with a message;
//   - an agent is sent away from the wallboard;
//   - sign-out, and a session that ended on the server (a 401) both return to sign-in;
//   - a manager makes a user in the administration page; an admin picks the tenant; the lists of
//     flows, calendars and numbers, and removing an upload;
//   - the queue editor: a queue's settings changed live, the server's error beside the form,
//     back to the configuration file, a queue made and removed; an agent's capacity;
//   - a manager makes an agent (SIP password, queue, sign-in for the desktop): its phone registers,
//     it signs in and goes available; its name and SIP password changed; then it is removed;
//   - Persian turns the page right-to-left with Jalali dates in Persian digits; Arabic too,
//     with Arabic-Indic digits;
//   - an agent goes available in the browser; a SIPp caller dials 100, presses 1 and waits in
//     the queue; the agent's phone (SIPp, registered with digest) answers; the agent's screen
//     pops the caller's number; the agent hangs up with the button, wraps up with a disposition
//     and notes; the record carries them. Meanwhile a supervisor's wallboard shows the agent's
//     state and the contact within a second of the stream's message reaching it. Also: hold and
//     resume from the browser, and the supervisor putting the agent on a break from the grid.
// Run by tests/e2e/run.sh (ctest: e2e). Nothing here sleeps to synchronise: it waits on the
// page, the stream's frames, the server's API or a process's exit.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as H from './harness.mjs';

const kTenant = 'acme';
const kAgent = { username: '1001', password: 'sara-secret-1001', name: 'Sara' };
const kSupervisor = { username: 'maryam', password: 'maryam-secret', name: 'Maryam' };
const kManager = { username: 'nasrin', password: 'nasrin-secret', name: 'Nasrin' };
const kAdmin = { username: 'root', password: 'root-secret-admin' };
const kCaller = '09121234567';
const kNewAgent = { username: '1009', password: 'omid-desk-1009', name: 'Omid', sip: 'omid-sip-1009', sip2: 'omid-sip-new-1009' };

let server;
let browser;
let work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'tamas-e2e-work-'));
  server = await H.startServer(process.env.E2E_CONFIG || join(H.root, 'tests/e2e/e2e.yaml'));
  await server.addUser(kTenant, kAgent.username, 'agent', kAgent.password, kAgent.name);
  await server.addUser(kTenant, kSupervisor.username, 'supervisor', kSupervisor.password, kSupervisor.name);
  await server.addUser(kTenant, kManager.username, 'manager', kManager.password, kManager.name);
  await server.addUser('', kAdmin.username, 'admin', kAdmin.password);
  browser = await H.launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await H.stopAll();
  if (process.env.KEEP_E2E) {
    console.log(`kept: ${work} and ${server?.dir}`);
  } else {
    server?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  }
});

/** Signs in through the form; resolves when the page has left /signin. */
async function signIn(page, { username, password }, tenant = kTenant) {
  await page.goto(`${server.base}/signin`);
  await page.fill('input[name=tenant]', tenant);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('form button[type=submit]');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 10000 });
}

/** Closes the page's context, failing the test if a script error happened in the page. */
async function closePage(page) {
  const errors = page.scriptErrors;
  await page.context().close();
  assert.deepEqual(errors, [], 'uncaught script errors in the page');
}

/** Records the frames the page's WebSockets receive, with the time each reached the test. */
function watchFrames(page) {
  const frames = [];
  const waiters = new Set();
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      let m;
      try {
        m = JSON.parse(String(payload));
      } catch {
        return;
      }
      const f = { m, at: Date.now() };
      frames.push(f);
      for (const w of waiters) if (w.pred(m)) w.done(f);
    }),
  );
  return {
    mark: () => frames.length,
    /** The first frame from `since` on for which `pred` holds (waiting for it if need be). */
    wait(pred, { since = 0, timeout = 20000, what = 'a stream message' } = {}) {
      const seen = frames.slice(since).find((f) => pred(f.m));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          done: (f) => {
            clearTimeout(w.timer);
            waiters.delete(w);
            resolve(f);
          },
          timer: setTimeout(() => {
            waiters.delete(w);
            reject(new Error(`no ${what} in ${timeout} ms`));
          }, timeout),
        };
        waiters.add(w);
      });
    },
  };
}

/** Waits for a condition in the page, at most one second after `at` (when the stream's
 * message reached the test). */
async function withinASecondOf(at, page, fn, arg, what) {
  const left = 1000 - (Date.now() - at);
  assert.ok(left > 0, `${what}: the test saw the message ${Date.now() - at} ms late`);
  try {
    await page.waitForFunction(fn, arg, { timeout: left, polling: 'raf' });
  } catch (e) {
    throw new Error(`${what} did not show within 1 s of the stream's message: ${e.message}`);
  }
}

test('a wrong password is refused with a message, and the page stays on sign-in', async () => {
  const page = await browser.page();
  await page.goto(`${server.base}/`);
  await page.waitForURL('**/signin');
  await page.fill('input[name=tenant]', kTenant);
  await page.fill('input[name=username]', kSupervisor.username);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('form button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('#signin-error')?.textContent ?? '').length > 0);
  assert.equal(await page.textContent('#signin-error'), 'The tenant, username or password is not right.');
  assert.equal(new URL(page.url()).pathname, '/signin');
  await closePage(page);
});

test('an agent cannot open the wallboard: sent to the agent desktop with a message', async () => {
  const page = await browser.page();
  await signIn(page, kAgent);
  assert.equal(new URL(page.url()).pathname, '/agent');
  await page.goto(`${server.base}/wallboard`);
  await page.waitForURL('**/agent');
  await page.waitForSelector('.flash[data-kind=error]');
  assert.match(await page.textContent('.flash'), /cannot open the wallboard/);
  assert.equal(await page.$('.queue-tiles'), null);
  await closePage(page);
});

test('sign out, and a session ended elsewhere: both back to sign-in with a message', async () => {
  const page = await browser.page();
  await signIn(page, kAgent);
  await page.click('#signout');
  await page.waitForURL('**/signin');
  assert.equal(await page.textContent('.signin-card .notice'), 'You have signed out.');
  // The session ends on the server (as after a restart or expiry): the next call is a 401.
  await signIn(page, kAgent);
  const status = await page.evaluate(async () => {
    const { csrf } = JSON.parse(sessionStorage.getItem('tamas.session'));
    return (await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf } })).status;
  });
  assert.equal(status, 200);
  // The page notices by itself when its stream is refused, or at the next call: either way.
  await page.click('#go-available', { timeout: 5000 }).catch(() => {});
  await page.waitForURL('**/signin');
  assert.equal(await page.textContent('.signin-card .notice'), 'Your session has ended. Please sign in again.');
  await closePage(page);
});

test('administration: a manager makes a user and changes an agent\'s queues and skills live; an admin picks the tenant by its id', async () => {
  const page = await browser.page();
  await signIn(page, kManager);
  assert.equal(new URL(page.url()).pathname, '/wallboard');
  await page.click('a[href="/admin"]');
  await page.waitForSelector('tr[data-user=maryam]');
  await page.waitForSelector('tr[data-queue=support]');
  await page.waitForSelector('[data-testid=config-note]');
  await page.fill('#new-username', '1002');
  await page.fill('#new-name', 'Reza');
  await page.selectOption('#new-role', 'agent');
  await page.fill('#new-password', 'reza-secret-1002');
  await page.click('#new-submit');
  await page.waitForSelector('tr[data-user="1002"]');
  // The same name again is refused with a message.
  await page.fill('#new-username', '1002');
  await page.fill('#new-password', 'another-secret-1');
  await page.click('#new-submit');
  await page.waitForFunction(() => document.querySelector('.admin .form-error')?.textContent === 'That username is taken.');
  // Lina (1003) also takes support calls, at tier 2, with a skill: the router has it at once.
  await page.click('tr[data-agent="1003"] button');
  await page.check('tr[data-editor="1003"] input[data-queue=support]');
  await page.fill('tr[data-editor="1003"] input[data-queue=support] + input.tier, tr[data-editor="1003"] label:has(input[data-queue=support]) input.tier', '2');
  await page.fill('[data-testid=agent-skills]', 'farsi 4');
  await page.click('tr[data-editor="1003"] button:not(.secondary)');
  await page.waitForFunction(() => document.querySelector('tr[data-agent="1003"]')?.textContent.includes('support (tier 2)'));
  const manager = await server.client(kTenant, kManager.username, kManager.password);
  const agents = (await manager.get(`/api/v1/tenants/${kTenant}/agents`)).body.agents;
  const lina = agents.find((a) => a.extension === '1003');
  assert.deepEqual(lina.queues, [{ queue: 'sales', tier: 1 }, { queue: 'support', tier: 2 }]);
  assert.deepEqual(lina.skills, { farsi: 4 });
  // A bad skill line is refused on the page, naming what is wrong.
  await page.click('tr[data-agent="1003"] button');
  await page.fill('[data-testid=agent-skills]', 'farsi');
  await page.click('tr[data-editor="1003"] button:not(.secondary)');
  await page.waitForSelector('tr[data-editor="1003"] .form-error');
  // A flow: an error names the line of the upload; a good one is kept and listed as uploaded.
  await page.fill('#flow-name', 'night');
  await page.fill('#flow-yaml', 'start: bye\nnodes:\n  bye: {hangup: , next: nowhere}\n');
  await page.click('#flow-check');
  await page.waitForFunction(() => document.querySelector('[data-testid=flow-message]')?.textContent.startsWith('Line 3'));
  await page.fill('#flow-yaml', 'start: bye\nnodes:\n  bye: {hangup: }\n');
  await page.click('#flow-save');
  await page.waitForSelector('tr[data-flow=night] button');
  const flows = (await manager.get(`/api/v1/tenants/${kTenant}/flows`)).body.flows;
  assert.ok(flows.some((f) => f.name === 'night' && f.uploaded), JSON.stringify(flows));
  // The lists beside the form: the file's entries have no button; an upload can be removed.
  await page.waitForSelector('tr[data-flow=main]:not([data-uploaded])');
  assert.equal(await page.$('tr[data-flow=main] button'), null);
  await page.waitForSelector('tr[data-number="100"]:not([data-uploaded])');
  assert.match(await page.textContent('tr[data-number="100"]'), /main/);
  await page.selectOption('#upload-kind', 'calendars');
  await page.fill('#flow-name', 'office');
  await page.fill('#flow-yaml', 'zone: Asia/Tehran\nhours:\n  sat-wed: "08:00-17:00"\n');
  await page.click('#flow-save');
  await page.waitForSelector('tr[data-calendar=office][data-uploaded] button');
  assert.match(await page.textContent('tr[data-calendar=office]'), /Asia\/Tehran/);
  let calendars = (await manager.get(`/api/v1/tenants/${kTenant}/calendars`)).body.calendars;
  assert.ok(calendars.some((c) => c.name === 'office' && c.uploaded), JSON.stringify(calendars));
  await page.click('tr[data-calendar=office] button');
  await page.waitForFunction(() => !document.querySelector('tr[data-calendar=office]'));
  calendars = (await manager.get(`/api/v1/tenants/${kTenant}/calendars`)).body.calendars;
  assert.ok(!calendars.some((c) => c.name === 'office'), JSON.stringify(calendars));
  await page.click('tr[data-flow=night] button');
  await page.waitForFunction(() => !document.querySelector('tr[data-flow=night]'));
  await closePage(page);

  const admin = await browser.page();
  await signIn(admin, kAdmin, '');
  assert.equal(new URL(admin.url()).pathname, '/admin');
  await admin.fill('#tenant-id', kTenant);
  await admin.click('#tenant-open');
  await admin.waitForSelector('tr[data-user=nasrin]');
  await closePage(admin);
});

test('queue editor: an admin changes a queue live, is told what is wrong, goes back to the file, makes and removes a queue', async () => {
  const page = await browser.page();
  await signIn(page, kAdmin, '');
  await page.fill('#tenant-id', kTenant);
  await page.click('#tenant-open');
  await page.waitForSelector('tr[data-queue=sales] [data-testid=edit-queue]');
  const admin = await server.client('', kAdmin.username, kAdmin.password);
  const getQueue = async (id) => {
    const r = await admin.get(`/api/v1/tenants/${kTenant}/queues`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.queues.find((q) => q.id === id);
  };
  const file = await getQueue('sales');
  assert.deepEqual(file.customized, []);
  assert.equal(file.added, false);
  assert.equal(file.settings.sl_target, 80);

  // The form opens with the queue's settings; nothing is set here yet, so there is no revert.
  await page.click('tr[data-queue=sales] [data-testid=edit-queue]');
  await page.waitForSelector('#queue-editor[data-queue=sales]');
  assert.equal(await page.inputValue('#q-strategy'), 'longest-idle');
  assert.equal(await page.inputValue('#q-wrap_up'), '5');
  assert.equal(await page.inputValue('#q-sl_target'), '80');
  assert.equal(await page.inputValue('#q-dispositions'), '');
  assert.equal(await page.$('#queue-revert'), null);

  // The service-level target and the dispositions: in effect at once, and listed as set here
  // (the keys not changed keep following the file).
  await page.fill('#q-sl_target', '90');
  await page.fill('#q-dispositions', 'sale\n\nno sale\n');
  await page.click('#queue-save');
  await page.waitForSelector('tr[data-queue=sales][data-customized]');
  assert.equal(await page.$('#queue-editor'), null);
  let q = await getQueue('sales');
  assert.equal(q.settings.sl_target, 90);
  assert.deepEqual(q.settings.dispositions, ['sale', 'no sale']);
  assert.deepEqual(q.dispositions, ['sale', 'no sale']);
  assert.deepEqual([...q.customized].sort(), ['dispositions', 'sl_target']);
  assert.deepEqual({ ...q.settings, sl_target: 80, dispositions: [] }, file.settings);
  assert.match(await page.textContent('tr[data-queue=sales]'), /90%/);

  // A bad value: the server's error names the field beside the form, and nothing changes.
  await page.click('tr[data-queue=sales] [data-testid=edit-queue]');
  await page.waitForSelector('#queue-editor[data-queue=sales]');
  assert.equal(await page.inputValue('#q-sl_target'), '90');
  assert.equal(await page.inputValue('#q-dispositions'), 'sale\nno sale');
  await page.fill('#q-sl_target', '0');
  await page.click('#queue-save');
  await page.waitForFunction(() => (document.querySelector('[data-testid=queue-error]')?.textContent ?? '').includes('sl_target'));
  assert.match(await page.textContent('[data-testid=queue-error]'), /^Service level target \(%\) \(sl_target\)/);
  assert.equal(await page.getAttribute('#q-sl_target', 'aria-invalid'), 'true');
  q = await getQueue('sales');
  assert.equal(q.settings.sl_target, 90);
  // A disposition code of 101 characters: named with its line in the box.
  await page.fill('#q-sl_target', '90');
  await page.fill('#q-dispositions', `sale\n${'x'.repeat(101)}`);
  await page.click('#queue-save');
  await page.waitForFunction(() => /dispositions.*line 2/.test(document.querySelector('[data-testid=queue-error]')?.textContent ?? ''));
  assert.equal(await page.getAttribute('#q-dispositions', 'aria-invalid'), 'true');
  q = await getQueue('sales');
  assert.deepEqual(q.settings.dispositions, ['sale', 'no sale']);
  assert.deepEqual([...q.customized].sort(), ['dispositions', 'sl_target']);

  // Back to the configuration file's settings.
  await page.click('#queue-revert');
  await page.waitForSelector('tr[data-queue=sales]:not([data-customized])');
  q = await getQueue('sales');
  assert.deepEqual(q.customized, []);
  assert.deepEqual(q.settings, file.settings);

  // A new queue, with the defaults to start from; then removed.
  await page.click('#queue-new');
  await page.waitForSelector('#queue-editor[data-new]');
  assert.equal(await page.inputValue('#q-sl_target'), '80');
  assert.equal(await page.inputValue('#q-strategy'), 'longest-idle');
  await page.fill('#q-id', 'billing');
  await page.selectOption('#q-strategy', 'round-robin');
  await page.fill('#q-ring_timeout', '12');
  await page.selectOption('#q-join_empty', 'no-agents-logged-in');
  await page.click('#q-skill-add');
  await page.fill('[data-testid=skill-name]', 'farsi');
  await page.fill('[data-testid=skill-level]', '3');
  await page.fill('#q-dispositions', 'paid\nrefund');
  await page.fill('#q-script', 'Ask for the invoice number.');
  await page.click('#queue-save');
  await page.waitForSelector('tr[data-queue=billing][data-added]');
  q = await getQueue('billing');
  assert.ok(q, 'the new queue is listed');
  assert.equal(q.added, true);
  assert.equal(q.settings.strategy, 'round-robin');
  assert.equal(q.settings.ring_timeout, 12);
  assert.equal(q.settings.join_empty, 'no-agents-logged-in');
  assert.deepEqual(q.settings.skills, { farsi: 3 });
  assert.deepEqual(q.settings.dispositions, ['paid', 'refund']);
  assert.equal(q.settings.script, 'Ask for the invoice number.');
  // The agents' editor offers it.
  await page.click('tr[data-agent="1001"] button');
  await page.waitForSelector('tr[data-editor="1001"] input[data-queue=billing]');
  await page.click('tr[data-editor="1001"] button.secondary');
  await page.click('tr[data-queue=billing] [data-testid=edit-queue]');
  await page.waitForSelector('#queue-editor[data-queue=billing]');
  assert.equal(await page.textContent('#queue-revert'), 'Remove this queue');
  await page.click('#queue-revert');
  await page.waitForFunction(() => !document.querySelector('tr[data-queue=billing]'));
  assert.equal(await getQueue('billing'), undefined);
  await closePage(page);
});

test('agent capacity: saved from the editor and shown again after a reload', async () => {
  const page = await browser.page();
  await signIn(page, kManager);
  await page.goto(`${server.base}/admin`);
  await page.waitForSelector('tr[data-agent="1003"] button');
  await page.click('tr[data-agent="1003"] button');
  const input = (ch) => `tr[data-editor="1003"] [data-testid=capacity-${ch}]`;
  await page.waitForSelector(input('chat'));
  assert.equal(await page.inputValue(input('voice')), '1');
  assert.equal(await page.inputValue(input('chat')), '2');
  await page.fill(input('chat'), '4');
  await page.fill(input('email'), '0');
  await page.click('tr[data-editor="1003"] button:not(.secondary)');
  await page.waitForFunction(() => !document.querySelector('tr[data-editor="1003"]'));
  const manager = await server.client(kTenant, kManager.username, kManager.password);
  const lina = (await manager.get(`/api/v1/tenants/${kTenant}/agents`)).body.agents.find((a) => a.extension === '1003');
  assert.deepEqual(lina.capacity, { voice: 1, chat: 4, email: 0, sms: 2, callback: 1 });
  await page.reload();
  await page.waitForSelector('tr[data-agent="1003"] [data-testid=agent-capacity]');
  assert.match(await page.textContent('tr[data-agent="1003"] [data-testid=agent-capacity]'), /Chat 4, Email 0/);
  await page.click('tr[data-agent="1003"] button');
  await page.waitForSelector(input('chat'));
  assert.equal(await page.inputValue(input('chat')), '4');
  assert.equal(await page.inputValue(input('email')), '0');
  // Out of range: refused by the server, naming the channel; nothing changes.
  await page.fill(input('chat'), '101');
  await page.click('tr[data-editor="1003"] button:not(.secondary)');
  await page.waitForFunction(() => (document.querySelector('tr[data-editor="1003"] .form-error')?.textContent ?? '').includes('capacity.chat'));
  const again = (await manager.get(`/api/v1/tenants/${kTenant}/agents`)).body.agents.find((a) => a.extension === '1003');
  assert.equal(again.capacity.chat, 4);
  await closePage(page);
});

test('a new agent: made with a SIP password and a desktop sign-in, registers, goes available, is changed and removed', async () => {
  const page = await browser.page();
  await signIn(page, kManager);
  await page.goto(`${server.base}/admin`);
  await page.waitForSelector('tr[data-agent="1001"] [data-testid=edit-agent]');
  await page.waitForSelector('tr[data-queue=support]');
  // An agent of the configuration file has no Remove.
  assert.equal(await page.$('tr[data-agent="1001"] [data-testid=remove-agent]'), null);
  const manager = await server.client(kTenant, kManager.username, kManager.password);
  const agents = async () => {
    const r = await manager.get(`/api/v1/tenants/${kTenant}/agents`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.agents;
  };

  // A bad extension: the server's error names the field beside the form; nothing is made.
  await page.click('#agent-new');
  await page.waitForSelector('#agent-form input[data-queue=support]');
  await page.fill('#a-extension', '12ab');
  await page.fill('#a-name', kNewAgent.name);
  await page.fill('#a-password', kNewAgent.sip);
  await page.check('#agent-form input[data-queue=support]');
  await page.fill('#a-signin', kNewAgent.password);
  await page.click('#agent-create');
  await page.waitForFunction(() => (document.querySelector('[data-testid=agent-error]')?.textContent ?? '').includes('(extension)'));
  assert.match(await page.textContent('[data-testid=agent-error]'), /^Extension \(extension\): /);
  assert.equal(await page.getAttribute('#a-extension', 'aria-invalid'), 'true');
  assert.ok(!(await agents()).some((a) => a.extension === '12ab'));

  // 1009 in support, with its sign-in: both tables show it, the API lists it as added.
  await page.fill('#a-extension', kNewAgent.username);
  await page.click('#agent-create');
  await page.waitForSelector(`tr[data-agent="${kNewAgent.username}"][data-added] [data-testid=agent-mark]`);
  await page.waitForSelector(`tr[data-user="${kNewAgent.username}"]`);
  assert.equal(await page.$('#agent-form'), null);
  let omid = (await agents()).find((a) => a.extension === kNewAgent.username);
  assert.ok(omid, 'the new agent is listed');
  assert.equal(omid.added, true);
  assert.equal(omid.name, kNewAgent.name);
  assert.deepEqual(omid.queues, [{ queue: 'support', tier: 1 }]);
  const users = (await manager.get(`/api/v1/tenants/${kTenant}/users`)).body.users;
  assert.equal(users.find((u) => u.username === kNewAgent.username)?.role, 'agent');

  // Its phone registers with the extension and the SIP password; the agent signs in on the
  // desktop and goes available.
  const phones = [await H.startAgentPhone(server, { extension: kNewAgent.username, password: kNewAgent.sip, realm: 'acme', workDir: work })];
  const agent = await browser.page();
  await signIn(agent, kNewAgent);
  assert.equal(new URL(agent.url()).pathname, '/agent');
  await agent.waitForSelector('.stream-dot[data-state=open]');
  await agent.click('#go-available');
  await agent.waitForSelector('.current-status .badge[data-status=available]');
  await H.waitFor(
    async () => (await manager.get(`/api/v1/tenants/${kTenant}/live`)).body?.agents?.find((a) => a.extension === kNewAgent.username)?.status === 'available',
    { what: `agent ${kNewAgent.username} available in GET .../live` },
  );

  // The editor: a new name and a new SIP password, with which the phone registers again.
  await page.click(`tr[data-agent="${kNewAgent.username}"] [data-testid=edit-agent]`);
  const editor = `tr[data-editor="${kNewAgent.username}"]`;
  assert.equal(await page.inputValue(`${editor} [data-testid=agent-name]`), kNewAgent.name);
  assert.equal(await page.inputValue(`${editor} [data-testid=agent-password]`), '');
  await page.fill(`${editor} [data-testid=agent-name]`, 'Omid Karimi');
  await page.fill(`${editor} [data-testid=agent-password]`, kNewAgent.sip2);
  await page.click(`${editor} button:not(.secondary)`);
  await page.waitForFunction((sel) => !document.querySelector(sel), editor);
  omid = (await agents()).find((a) => a.extension === kNewAgent.username);
  assert.equal(omid.name, 'Omid Karimi');
  phones.push(await H.startAgentPhone(server, { extension: kNewAgent.username, password: kNewAgent.sip2, realm: 'acme', workDir: work }));
  await assert.rejects(
    H.startAgentPhone(server, { extension: kNewAgent.username, password: kNewAgent.sip, realm: 'acme', workDir: work }),
    /did not register/,
    'the old SIP password is refused',
  );

  // Logged out, then removed (after the confirmation): gone from the page and the API.
  await agent.click('#go-logged-out');
  await agent.waitForSelector('.current-status .badge[data-status="logged-out"]');
  await closePage(agent);
  page.once('dialog', (d) => d.accept());
  await page.click(`tr[data-agent="${kNewAgent.username}"] [data-testid=remove-agent]`);
  await page.waitForFunction((ext) => !document.querySelector(`tr[data-agent="${ext}"]`), kNewAgent.username);
  assert.ok(!(await agents()).some((a) => a.extension === kNewAgent.username));
  await Promise.all(phones.map((p) => p.stop()));
  await closePage(page);
});

test('the wallboard changes an agent\'s queues live', async () => {
  const page = await browser.page();
  await signIn(page, kSupervisor);
  await page.waitForSelector('tr[data-agent="1002"] [data-testid=change-agent]');
  await page.click('tr[data-agent="1002"] [data-testid=change-agent]');
  await page.check('tr[data-editor="1002"] input[data-queue=sales]');
  await page.click('tr[data-editor="1002"] button:not(.secondary)');
  await page.waitForFunction(() => !document.querySelector('tr[data-editor="1002"]'));
  const sup = await server.client(kTenant, kSupervisor.username, kSupervisor.password);
  const reza = (await sup.get(`/api/v1/tenants/${kTenant}/agents`)).body.agents.find((a) => a.extension === '1002');
  assert.ok(reza.queues.some((m) => m.queue === 'sales'), JSON.stringify(reza));
  await closePage(page);
});

test('Persian: right-to-left, Persian digits and the Jalali calendar; Arabic; back to English', async () => {
  const page = await browser.page();
  await signIn(page, kSupervisor);
  assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
  await page.selectOption('#lang', 'fa');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl' && document.documentElement.lang === 'fa');
  // Jalali by default for Persian: this year in the Persian calendar, in Persian digits.
  const jalaliYear = new Intl.DateTimeFormat('fa-IR', { calendar: 'persian', year: 'numeric' }).format(new Date());
  const gregorianYear = new Intl.DateTimeFormat('fa-IR', { calendar: 'gregory', year: 'numeric' }).format(new Date());
  const today = await page.textContent('[data-testid=today]');
  assert.ok(today.includes(jalaliYear), `"${today}" shows ${jalaliYear}`);
  assert.ok(!today.includes(gregorianYear), `"${today}" is not Gregorian`);
  assert.equal(await page.inputValue('#calendar'), 'persian');
  assert.equal(await page.textContent('#signout'), 'خروج');
  // The layout mirrors: the brand is at the right.
  const brand = await page.locator('.topbar .brand').boundingBox();
  assert.ok(brand.x > 640, `the brand is on the right in RTL (x=${brand.x})`);
  // The Gregorian calendar in Persian, then English again.
  await page.selectOption('#calendar', 'gregory');
  await page.waitForFunction((y) => document.querySelector('[data-testid=today]').textContent.includes(y), gregorianYear);
  // Arabic: right-to-left too, Arabic-Indic digits, Gregorian unless chosen otherwise.
  await page.selectOption('#lang', 'ar');
  await page.waitForFunction(() => document.documentElement.lang === 'ar' && document.documentElement.dir === 'rtl');
  assert.equal(await page.textContent('#signout'), 'تسجيل الخروج');
  assert.match(await page.textContent('[data-testid=today]'), /[٠-٩]{4}/);
  await page.selectOption('#lang', 'en');
  await page.waitForFunction(() => document.documentElement.dir === 'ltr');
  await closePage(page);
});

test('an agent takes a call from the queue, hangs up and wraps up; the wallboard follows within a second', async () => {
  const supervisor = await browser.page();
  const wb = watchFrames(supervisor);
  await signIn(supervisor, kSupervisor);
  assert.equal(new URL(supervisor.url()).pathname, '/wallboard');
  await supervisor.waitForSelector('.stream-dot[data-state=open]');
  await supervisor.waitForSelector('tr[data-agent="1001"][data-status="logged-out"]');

  // The agent's phone registers; the agent signs in and goes available in the browser.
  await H.startAgentPhone(server, { extension: '1001', password: 'acme1001', realm: 'acme', workDir: work });
  const agent = await browser.page();
  await signIn(agent, kAgent);
  assert.equal(new URL(agent.url()).pathname, '/agent');
  await agent.waitForSelector('.stream-dot[data-state=open]');
  let since = wb.mark();
  await agent.click('#go-available');
  await agent.waitForSelector('.current-status .badge[data-status=available]');
  const available = await wb.wait((m) => m.type === 'agent' && m.agent.extension === '1001' && m.agent.status === 'available', {
    since,
    what: "the agent's available message",
  });
  await withinASecondOf(
    available.at,
    supervisor,
    () => document.querySelector('tr[data-agent="1001"]')?.getAttribute('data-status') === 'available',
    null,
    "the agent's new status on the wallboard",
  );

  // A caller dials 100, presses 1 and joins the queue support.
  since = wb.mark();
  const caller = await H.startCaller(server, { number: '100', from: kCaller, workDir: work });
  const queued = await wb.wait((m) => m.type === 'contact' && m.event === 'queued' && m.contact.caller === kCaller, {
    since,
    what: 'the contact queued',
  });
  assert.equal(queued.m.contact.queue, 'support');
  const contactId = queued.m.contact.id;
  await withinASecondOf(
    queued.at,
    supervisor,
    (id) => document.querySelector(`tr[data-contact="${id}"]`) !== null,
    contactId,
    'the contact on the wallboard',
  );
  const busy = await wb.wait(
    (m) => m.type === 'agent' && m.agent.extension === '1001' && (m.agent.state === 'reserved' || m.agent.state === 'on-contact'),
    { since, what: 'the agent ringing or talking' },
  );
  await withinASecondOf(
    busy.at,
    supervisor,
    (state) => {
      const s = document.querySelector('tr[data-agent="1001"]')?.getAttribute('data-state');
      return s === state || s === 'on-contact';
    },
    busy.m.agent.state,
    "the agent's contact state on the wallboard",
  );

  // The agent's screen pops the caller, with the IVR choice and the queue's script.
  await agent.waitForSelector(`[data-testid=caller][data-number="${kCaller}"]`, { timeout: 15000 });
  await agent.waitForSelector('#hangup', { timeout: 15000 });
  assert.equal(await agent.textContent('[data-testid=ivr]'), '1');
  await agent.waitForSelector('.script-text');
  assert.match(await agent.textContent('.script-text'), /Greet the caller by name/);
  await supervisor.waitForFunction(
    (n) => document.querySelector('tr[data-agent="1001"] [data-testid=agent-contact]')?.textContent.includes(n),
    kCaller,
  );

  // The customer's name, kept for the next call.
  await agent.waitForSelector('#customer-name');
  await agent.fill('#customer-name', 'Ali Rezaei');
  await agent.fill('#customer-notes', 'Asked about order 4411.');
  await agent.click('#customer-save');
  const sup = await server.client(kTenant, kSupervisor.username, kSupervisor.password);
  await H.waitFor(async () => (await sup.get(`/api/v1/tenants/${kTenant}/customers/${kCaller}`)).body?.name === 'Ali Rezaei', {
    what: "the customer's name saved",
  });

  // Hold and resume from the browser.
  await agent.click('#hold');
  await agent.waitForSelector('#resume');
  await agent.waitForSelector('.pop.phase-held');
  await agent.click('#resume');
  await agent.waitForSelector('.pop.phase-connected #hold');

  // Hang up from the browser: the caller hears the end, the agent is in wrap-up.
  await agent.click('#hangup');
  const { code } = await caller.exited;
  assert.equal(code, 0, `the caller's SIPp: ${caller.output.slice(-1500)}`);
  await agent.waitForSelector('#disposition');
  const options = await agent.$$eval('#disposition option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.deepEqual(options, ['resolved', 'follow-up', 'wrong-number']);
  await agent.selectOption('#disposition', 'follow-up');
  await agent.fill('#wrap-notes', 'Call back tomorrow with the refund.');
  since = wb.mark();
  await agent.click('#wrap-submit');
  await agent.waitForSelector('.contact-card .empty');
  const idle = await wb.wait((m) => m.type === 'agent' && m.agent.extension === '1001' && m.agent.state === 'idle', {
    since,
    what: 'the agent ready again',
  });
  await withinASecondOf(
    idle.at,
    supervisor,
    () => document.querySelector('tr[data-agent="1001"]')?.getAttribute('data-state') === 'idle',
    null,
    'the agent ready again on the wallboard',
  );

  // The supervisor puts the agent on a lunch break from the wallboard's grid; the agent's
  // desktop shows it.
  await supervisor.selectOption('tr[data-agent="1001"] select', 'break:lunch');
  await agent.waitForSelector('.current-status .badge[data-status=break]');
  await supervisor.waitForSelector('tr[data-agent="1001"][data-status=break]');

  // The record carries the disposition and the notes.
  const record = await H.waitFor(
    async () => {
      const r = await sup.get(`/api/v1/tenants/${kTenant}/interactions?caller=${kCaller}`);
      return r.body?.interactions?.find((i) => i.id === contactId && i.disposition);
    },
    { timeout: 15000, what: 'the interaction record with its disposition' },
  );
  assert.equal(record.agent, '1001');
  assert.equal(record.queue, 'support');
  assert.equal(record.disposition, 'follow-up');
  assert.equal(record.wrapup_notes, 'Call back tomorrow with the refund.');
  assert.equal(record.wrapped_up_by, '1001');
  await closePage(agent);
  await closePage(supervisor);
});
