// The supervisor wallboard (/wallboard): per queue the callers waiting, the longest wait
// (ticking here), service level against the queue's target, answered and abandoned, agents by
// state; every agent with state, reason, time in state (ticking), current contact and a control
// to change their status; the contacts in progress; a chart of contacts per minute today.
//
// GET .../live gives the state, then the stream carries changes; the live view is read again
// after each reconnection. The chart counts `queued` contact events per minute, seeded from
// today's interaction records. A queue turns to the warning colour when its service level is
// under target or its longest wait over the threshold set here (kept in localStorage).

import uPlot from 'uplot';
import {
  type AgentLive,
  type AgentSetup,
  type AgentStatus,
  allInteractionsSince,
  api,
  ApiError,
  type ContactBrief,
  type QueueLive,
  type QueueSetup,
} from '../api';
import { fmtTime, tickingSince } from '../dates';
import { field, h, replace } from '../dom';
import { currentLang, type Key, num, t, tDynamic } from '../i18n';
import { errorText, phone, stateBadge } from '../format';
import type { Page, PageContext } from '../shell';
import { type ContactEventName, LiveStream, type StreamEvent } from '../stream';
import { type AgentEdit, editorRow, saveEdit, startEdit } from '../agent-editor';
import { tenantPicker } from './tenant-picker';

const kThresholdKey = 'tamas.wallboard.max-wait';
const kDefaultThreshold = 60;
const kDefaultTarget = 0.8;
/** Until GET .../queues answers with the tenant's own: the configuration's default. */
const kBreakReasons = ['break', 'lunch', 'meeting', 'training'];

interface AgentRow extends AgentLive {
  since: number;
}
interface ContactRow {
  brief: ContactBrief;
  event: ContactEventName;
  since: number;
}

export class WallboardPage implements Page {
  private readonly tenant: string;
  private queues = new Map<string, QueueLive & { received: number }>();
  private setup = new Map<string, QueueSetup>();
  private agents = new Map<string, AgentRow>();
  private names = new Map<string, string>();
  private setups = new Map<string, AgentSetup>();
  private editing: AgentEdit | null = null;
  private contacts = new Map<string, ContactRow>();
  private reasons = new Set(kBreakReasons);
  private perMinute = new Map<number, number>();
  private threshold = Number(localStorage.getItem(kThresholdKey)) || kDefaultThreshold;
  private chart: uPlot | null = null;
  private chartTimer: number | undefined;
  private stream: LiveStream | null = null;
  private loadError = '';
  private readonly boxes = {
    queues: h('div', { class: 'queue-tiles', attrs: { 'data-testid': 'queues' } }),
    summary: h('div', { class: 'state-summary' }),
    agents: h('div', { class: 'table-wrap' }),
    contacts: h('div', { class: 'table-wrap' }),
    chart: h('div', { class: 'chart', attrs: { dir: 'ltr' } }),
  };

  constructor(private readonly ctx: PageContext) {
    this.tenant = ctx.tenant;
    if (!this.tenant) return;
    this.stream = new LiveStream(this.tenant, ['agents', 'queues', 'contacts'], {
      onEvent: (e) => this.onEvent(e),
      onOpen: () => void this.loadLive(),
      onState: (s) => ctx.setStreamState(s),
      onFailure: () => void api.me().catch(() => {}),
    });
    this.stream.start();
    void this.loadLive();
    void this.loadSetup();
    void this.seedChart();
    this.chartTimer = window.setInterval(() => this.updateChart(), 15000);
  }

  destroy(): void {
    this.stream?.stop();
    this.ctx.setStreamState(null);
    window.clearInterval(this.chartTimer);
    this.chart?.destroy();
    this.chart = null;
  }

  render(): Node {
    const picker = tenantPicker(this.ctx);
    if (!this.tenant) return h('div', { class: 'wallboard' }, picker, h('p', { class: 'muted' }, t('tenant.none')));
    this.renderQueues();
    this.renderAgents();
    this.renderContacts();
    const thresholdInput = h('input', {
      id: 'max-wait',
      type: 'number',
      min: '5',
      step: '5',
      value: String(this.threshold),
      onchange: () => {
        const v = Number(thresholdInput.value);
        if (!Number.isFinite(v) || v <= 0) return;
        this.threshold = v;
        localStorage.setItem(kThresholdKey, String(v));
        this.renderQueues();
      },
    });
    const page = h(
      'div',
      { class: 'wallboard' },
      picker,
      this.loadError ? h('p', { class: 'form-error', attrs: { role: 'alert' } }, this.loadError) : null,
      h(
        'section',
        { attrs: { 'aria-labelledby': 'wb-queues' } },
        h(
          'div',
          { class: 'section-head' },
          h('h2', { id: 'wb-queues' }, t('wb.queues')),
          h('form', { class: 'inline-form settings', onsubmit: (e: SubmitEvent) => e.preventDefault() }, field(t('wb.threshold'), thresholdInput)),
        ),
        this.boxes.queues,
      ),
      h(
        'div',
        { class: 'wb-grid' },
        h('section', { class: 'card', attrs: { 'aria-labelledby': 'wb-agents' } }, h('h2', { id: 'wb-agents' }, t('wb.agents')), this.boxes.summary, this.boxes.agents),
        h(
          'div',
          { class: 'column' },
          h('section', { class: 'card', attrs: { 'aria-labelledby': 'wb-contacts' } }, h('h2', { id: 'wb-contacts' }, t('wb.contacts')), this.boxes.contacts),
          h('section', { class: 'card', attrs: { 'aria-labelledby': 'wb-chart' } }, h('h2', { id: 'wb-chart' }, t('wb.chart')), this.boxes.chart),
        ),
      ),
    );
    requestAnimationFrame(() => this.makeChart());
    return page;
  }

  // ------------------------------------------------------------ data

  private async loadLive(): Promise<void> {
    try {
      const live = await api.live(this.tenant);
      const now = Date.now();
      this.queues = new Map(live.queues.map((q) => [q.id, { ...q, received: now }]));
      this.agents = new Map(live.agents.map((a) => [a.extension, { ...a, since: now - a.seconds_in_state * 1000 }]));
      for (const a of live.agents) if (a.reason) this.reasons.add(a.reason);
      // The contacts in progress when the page opened (the stream then sends their steps).
      const steps: Record<string, ContactEventName> = { queued: 'queued', ringing: 'offered', connected: 'connected', held: 'held' };
      for (const c of live.contacts ?? []) {
        const event = steps[c.state];
        if (!event || this.contacts.has(c.id)) continue;
        const since = Date.parse(c.since);
        this.contacts.set(c.id, { brief: c, event, since: Number.isFinite(since) ? since : now });
      }
      this.loadError = '';
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      this.loadError = errorText(e);
      this.ctx.flash(this.loadError, 'error');
    }
    this.renderQueues();
    this.renderAgents();
    this.renderContacts();
  }

  private async loadSetup(): Promise<void> {
    try {
      const [setup, agents] = await Promise.all([api.queues(this.tenant), api.agents(this.tenant)]);
      this.setup = new Map(setup.queues.map((q) => [q.id, q]));
      if (setup.break_reasons.length > 0) this.reasons = new Set(setup.break_reasons);
      this.names = new Map(agents.filter((a) => a.name).map((a) => [a.extension, a.name ?? '']));
      this.setups = new Map(agents.map((a) => [a.extension, a]));
      this.renderQueues();
      this.renderAgents();
    } catch {
      // Targets and names are extras: the board works without them (defaults shown).
    }
  }

  private async seedChart(): Promise<void> {
    const midnight = new Date();
    midnight.setHours(0, 0, 0, 0);
    try {
      const records = await allInteractionsSince(this.tenant, midnight);
      for (const r of records) {
        if (!r.queue) continue;
        const at = Date.parse(r.started_at);
        if (Number.isFinite(at)) this.count(at);
      }
    } catch {
      // An empty chart then, filled by the stream.
    }
    this.updateChart();
  }

  private count(atMs: number): void {
    const minute = Math.floor(atMs / 60000) * 60;
    this.perMinute.set(minute, (this.perMinute.get(minute) ?? 0) + 1);
  }

  private onEvent(e: StreamEvent): void {
    if (e.type === 'queue') {
      this.queues.set(e.queue.id, { ...e.queue, received: Date.now() });
      this.renderQueues();
    } else if (e.type === 'agent') {
      const a = e.agent;
      if (a.reason) this.reasons.add(a.reason);
      this.agents.set(a.extension, { ...a, since: Date.now() - a.seconds_in_state * 1000 });
      this.renderAgents();
    } else if (e.type === 'contact') {
      const id = e.contact.id;
      if (e.event === 'queued') {
        this.count(Date.now());
        this.updateChart();
      }
      if (e.event === 'ended' || e.event === 'wrapped-up' || e.event === 'transferred') {
        this.contacts.delete(id);
      } else if (e.event === 'missed') {
        // The offer to that agent ended: the caller is back to waiting (unless another took it).
        const old = this.contacts.get(id);
        if (old && old.brief.agent === e.contact.agent) {
          this.contacts.set(id, { brief: { ...e.contact, agent: '' }, event: 'queued', since: old.since });
        }
      } else {
        const old = this.contacts.get(id);
        this.contacts.set(id, { brief: e.contact, event: e.event, since: old && old.event === e.event ? old.since : Date.now() });
      }
      this.renderContacts();
      this.renderAgents();
    }
  }

  private async saveAgent(): Promise<void> {
    const e = this.editing;
    if (!e) return;
    if (await saveEdit(this.tenant, e)) {
      this.editing = null;
      this.ctx.flash(t('admin.agentsaved', { agent: e.extension }), 'info');
      await this.loadSetup();
      return;
    }
    this.renderAgents();
  }

  private async setStatus(agent: string, value: string): Promise<void> {
    const [status, reason] = value.split(':') as [AgentStatus, string | undefined];
    try {
      await api.setStatus(this.tenant, agent, status, reason ?? '');
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
      this.renderAgents();
    }
  }

  // ------------------------------------------------------------ rendering

  private renderQueues(): void {
    const list = [...this.queues.values()].sort((a, b) => a.id.localeCompare(b.id));
    if (list.length === 0) {
      replace(this.boxes.queues, h('p', { class: 'muted' }, t('wb.noqueues')));
      return;
    }
    replace(
      this.boxes.queues,
      list.map((q) => {
        const s = this.setup.get(q.id);
        let target = s?.service_level?.target ?? kDefaultTarget;
        if (target > 1) target /= 100;
        const sl = q.service_level > 1 ? q.service_level / 100 : q.service_level;
        const slLow = q.offered > 0 && sl < target;
        const longWait = q.waiting > 0 && q.longest_wait_seconds > this.threshold;
        const warn = slLow || longWait;
        const waitSince = q.received - q.longest_wait_seconds * 1000;
        const stat = (key: Key, value: Node | string, cls = '') =>
          h('div', { class: `stat ${cls}` }, h('dt', null, t(key)), h('dd', null, value));
        return h(
          'article',
          {
            class: `queue-tile${warn ? ' warn' : ''}`,
            attrs: { 'data-queue': q.id, 'data-warn': warn ? 'true' : 'false', 'aria-label': s?.name || q.id },
          },
          h('h3', null, s?.name || q.id, warn ? h('span', { class: 'warn-label' }, t(slLow ? 'wb.warn.sl' : 'wb.warn.wait')) : null),
          h(
            'dl',
            { class: 'stats' },
            stat('wb.waiting', h('span', { attrs: { 'data-testid': 'waiting' } }, num(q.waiting)), 'big'),
            stat(
              'wb.longest',
              q.waiting > 0 ? tickingSince(h('span', { class: longWait ? 'bad' : '' }), waitSince) : h('span', null, '—'),
              'big',
            ),
            stat(
              'wb.sl',
              h('span', { class: slLow ? 'bad' : '' }, q.offered > 0 ? num(sl, { style: 'percent' }) : '—', h('small', null, ` / ${num(target, { style: 'percent' })}`)),
            ),
            stat('wb.answered', num(q.answered)),
            stat('wb.abandoned', num(q.abandoned)),
            stat('wb.asa', q.answered > 0 ? `${num(Math.round(q.asa_seconds))} ${t('unit.s')}` : '—'),
            stat('wb.agentsq', t('wb.agentsq.value', { in: q.agents_logged_in, avail: q.agents_available, idle: q.agents_idle }), 'wide'),
          ),
        );
      }),
    );
  }

  private currentContactOf(extension: string): ContactRow | null {
    for (const c of this.contacts.values()) if (c.brief.agent === extension) return c;
    return null;
  }

  private renderAgents(): void {
    const list = [...this.agents.values()].sort((a, b) => a.extension.localeCompare(b.extension, 'en', { numeric: true }));
    // Agents by state.
    const counts = new Map<string, number>();
    for (const a of list) {
      const key = a.status !== 'available' ? a.status : a.state;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const order = ['idle', 'reserved', 'on-contact', 'wrap-up', 'break', 'logged-out'];
    replace(
      this.boxes.summary,
      order.map((k) =>
        h(
          'span',
          { class: `pill s-${k}`, attrs: { 'data-count': String(counts.get(k) ?? 0), 'data-key': k } },
          k === 'idle' ? t('wb.readyidle') : tDynamic(k === 'break' || k === 'logged-out' ? 'status' : 'state', k),
          ' ',
          h('strong', null, num(counts.get(k) ?? 0)),
        ),
      ),
    );
    if (list.length === 0) {
      replace(this.boxes.agents, h('p', { class: 'muted' }, t('wb.noagents')));
      return;
    }
    replace(
      this.boxes.agents,
      h(
        'table',
        { class: 'grid agents-grid' },
        h(
          'thead',
          null,
          h('tr', null, [t('col.agent'), t('col.state'), t('col.time'), t('col.contact'), t('col.setstatus')].map((c) => h('th', { scope: 'col' }, c))),
        ),
        h(
          'tbody',
          null,
          list.flatMap((a) => {
            const c = this.currentContactOf(a.extension);
            const current = a.status === 'break' ? `break:${a.reason}` : a.status;
            const select = h(
              'select',
              {
                attrs: { 'aria-label': t('col.setstatus.for', { agent: a.extension }) },
                onchange: () => void this.setStatus(a.extension, select.value),
              },
              h('option', { value: 'available', selected: current === 'available' }, t('status.available')),
              [...this.reasons].map((r) => h('option', { value: `break:${r}`, selected: current === `break:${r}` }, `${t('status.break')} · ${tDynamic('reason', r)}`)),
              h('option', { value: 'logged-out', selected: current === 'logged-out' }, t('status.logged-out')),
            );
            const name = this.names.get(a.extension);
            const setup = this.setups.get(a.extension);
            const change = setup
              ? h('button', { type: 'button', class: 'secondary small', attrs: { 'data-testid': 'change-agent' }, onclick: () => { this.editing = startEdit(setup); this.renderAgents(); } }, t('admin.edit'))
              : null;
            const row = h(
              'tr',
              { attrs: { 'data-agent': a.extension, 'data-state': a.state, 'data-status': a.status } },
              h('th', { scope: 'row' }, phone(a.extension), name ? h('span', { class: 'name' }, ` ${name}`) : null),
              h('td', null, stateBadge(a.status, a.state, a.reason)),
              h('td', null, tickingSince(h('span', { class: 'ticking' }), a.since)),
              h(
                'td',
                { attrs: { 'data-testid': 'agent-contact' } },
                c ? [phone(c.brief.caller), h('small', { class: 'muted' }, ` ${c.brief.queue} · ${tDynamic('event', c.event)}`)] : '—',
              ),
              h('td', null, select, ' ', change),
            );
            if (this.editing?.extension !== a.extension) return [row];
            // The name and the SIP password: admins and managers only (the server refuses a supervisor).
            const account = this.ctx.session.role === 'admin' || this.ctx.session.role === 'manager';
            return [row, editorRow(this.editing, [...this.setup.keys()], 5, () => void this.saveAgent(), () => { this.editing = null; this.renderAgents(); }, account)];
          }),
        ),
      ),
    );
  }

  private renderContacts(): void {
    const list = [...this.contacts.values()].sort((a, b) => a.since - b.since);
    if (list.length === 0) {
      replace(this.boxes.contacts, h('p', { class: 'muted' }, t('wb.nocontacts')));
      return;
    }
    replace(
      this.boxes.contacts,
      h(
        'table',
        { class: 'grid contacts-grid' },
        h('thead', null, h('tr', null, [t('col.caller'), t('col.queue'), t('col.step'), t('col.agent'), t('col.time')].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          null,
          list.map((c) =>
            h(
              'tr',
              { attrs: { 'data-contact': c.brief.id, 'data-event': c.event } },
              h('td', null, phone(c.brief.caller)),
              h('td', null, c.brief.queue),
              h('td', null, tDynamic('event', c.event)),
              h('td', null, c.brief.agent ? phone(c.brief.agent) : '—'),
              h('td', null, tickingSince(h('span', { class: 'ticking' }), c.since)),
            ),
          ),
        ),
      ),
    );
  }

  /** The chart's data: one point a minute from today's first contact (or the last hour) to now. */
  private chartData(): uPlot.AlignedData {
    const nowMin = Math.floor(Date.now() / 60000) * 60;
    let first = nowMin - 59 * 60;
    for (const m of this.perMinute.keys()) first = Math.min(first, m);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let m = first; m <= nowMin; m += 60) {
      xs.push(m);
      ys.push(this.perMinute.get(m) ?? 0);
    }
    return [xs, ys];
  }

  private makeChart(): void {
    this.chart?.destroy();
    this.chart = null;
    const el = this.boxes.chart;
    if (!el.isConnected) return;
    replace(el);
    const width = Math.max(300, el.clientWidth || 560);
    const lang = currentLang();
    const opts: uPlot.Options = {
      width,
      height: 200,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Half a minute of room at each end, so that the first and last bars show whole.
        x: { time: true, range: (_u, min, max) => [min - 30, max + 30] },
        y: { range: (_u, _min, max) => [0, Math.max(3, max + 1)] },
      },
      axes: [
        { values: (_u, splits) => splits.map((s) => fmtTime(s * 1000)), stroke: '#4a5566' },
        { values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? num(s) : '')), stroke: '#4a5566' },
      ],
      series: [
        {},
        {
          label: t('wb.chart.series'),
          stroke: '#1f6feb',
          fill: 'rgba(31, 111, 235, 0.25)',
          width: 1,
          paths: uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 12] }) : undefined,
          points: { show: false },
        },
      ],
    };
    this.chart = new uPlot(opts, this.chartData(), el);
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', t('wb.chart.aria', { n: this.totalToday() }));
    el.dataset['lang'] = lang;
  }

  private totalToday(): number {
    let n = 0;
    for (const v of this.perMinute.values()) n += v;
    return n;
  }

  private updateChart(): void {
    if (!this.chart) return;
    this.chart.setData(this.chartData());
    this.boxes.chart.setAttribute('aria-label', t('wb.chart.aria', { n: this.totalToday() }));
    this.boxes.chart.dataset['total'] = String(this.totalToday());
  }
}

