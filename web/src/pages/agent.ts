// The agent desktop (/agent): the agent's status with the time in it, the contact in progress
// (screen pop: the caller's number, what the center knows of them, IVR choices, the queue's
// script; hold, resume, transfer, hang up), the wrap-up form, and the agent's figures for today.
//
// State comes from the live stream (agent and contact events for this extension). On load and
// after each reconnection GET .../agents/{a}/contact restores a contact in progress.

import {
  type AgentContact,
  type AgentLive,
  type AgentStatus,
  api,
  ApiError,
  type ContactBrief,
  type Customer,
  type QueueLive,
  type Today,
} from '../api';
import { fmtDateTime, fmtDuration, tickingSince } from '../dates';
import { field, h, replace } from '../dom';
import { type Key, num, t, tDynamic } from '../i18n';
import { errorText, ivrPath, phone, stateBadge } from '../format';
import type { Page, PageContext } from '../shell';
import { LiveStream, type StreamEvent } from '../stream';

/** Until GET .../queues answers with the tenant's break reasons: the configuration's default. */
const kDefaultReasons = ['break', 'lunch', 'meeting', 'training'];

type Phase = 'ringing' | 'connected' | 'held' | 'ended' | 'wrap-up';

interface ContactView {
  brief: ContactBrief;
  phase: Phase;
  since: number;
  result: string;
  dispositions: string[];
  script: string;
}

export class AgentPage implements Page {
  private readonly tenant: string;
  private readonly agent: string;
  private me: (Pick<AgentLive, 'status' | 'state' | 'reason'> & { since: number }) | null = null;
  private contact: ContactView | null = null;
  private customer: Customer | null = null;
  private draft = { name: '', notes: '' };
  private wrap = { disposition: '', notes: '' };
  private transferTo = '';
  private today: Today | null = null;
  private queues = new Map<string, QueueLive & { received: number }>();
  private reasons = new Set(kDefaultReasons);
  private breakReason = kDefaultReasons[0] ?? 'break';
  private stream: LiveStream;
  private readonly boxes = {
    status: h('section', { class: 'card status-card', attrs: { 'aria-labelledby': 'status-title' } }),
    contact: h('section', { class: 'card contact-card', attrs: { 'aria-labelledby': 'contact-title', 'aria-live': 'polite' } }),
    today: h('section', { class: 'card', attrs: { 'aria-labelledby': 'today-title' } }),
    queues: h('section', { class: 'card', attrs: { 'aria-labelledby': 'queues-title' } }),
  };

  constructor(private readonly ctx: PageContext) {
    this.tenant = ctx.tenant;
    this.agent = ctx.session.username;
    this.stream = new LiveStream(this.tenant, ['agents', 'queues', 'contacts'], {
      onEvent: (e) => this.onEvent(e),
      onOpen: () => {
        void this.restore();
        void this.loadLive();
      },
      onState: (s) => ctx.setStreamState(s),
      onFailure: () => void api.me().catch(() => {}),
    });
    this.stream.start();
    void this.restore();
    void this.loadToday();
    void this.loadReasons();
  }

  destroy(): void {
    this.stream.stop();
    this.ctx.setStreamState(null);
  }

  render(): Node {
    this.renderStatus();
    this.renderContact();
    this.renderToday();
    this.renderQueues();
    return h(
      'div',
      { class: 'agent-page' },
      h('div', { class: 'column main-column' }, this.boxes.status, this.boxes.contact),
      h('div', { class: 'column side-column' }, this.boxes.today, this.boxes.queues),
    );
  }

  // ------------------------------------------------------------ events

  private onEvent(e: StreamEvent): void {
    if (e.type === 'agent') {
      if (e.agent.extension !== this.agent) return;
      const a = e.agent;
      if (a.reason) this.reasons.add(a.reason);
      this.me = { status: a.status, state: a.state, reason: a.reason, since: Date.now() - a.seconds_in_state * 1000 };
      if (a.state === 'wrap-up') {
        if (this.contact) this.setPhase('wrap-up');
        else void this.restore();
      } else if (a.state === 'idle' && this.contact) {
        // A ring that timed out, or a wrap-up that ran out on its own.
        this.clearContact();
        void this.loadToday();
      }
      this.renderStatus();
    } else if (e.type === 'queue') {
      this.queues.set(e.queue.id, { ...e.queue, received: Date.now() });
      this.renderQueues();
    } else if (e.type === 'contact') {
      if (e.contact.agent && e.contact.agent !== this.agent) {
        // Offered to someone else (ring-all, or transferred away).
        if (this.contact?.brief.id === e.contact.id && e.event !== 'transferred') this.clearContact();
        return;
      }
      switch (e.event) {
        case 'offered':
        case 'connected':
          this.popContact(e.contact, e.event === 'offered' ? 'ringing' : 'connected');
          break;
        case 'held':
          this.setPhase('held');
          break;
        case 'resumed':
          this.setPhase('connected');
          break;
        case 'transferred':
        case 'ended':
          if (this.contact && this.contact.brief.id === e.contact.id) {
            this.contact.result = e.result ?? e.contact.result ?? e.event;
            if (this.contact.phase !== 'wrap-up') this.setPhase('ended');
          }
          break;
        case 'wrapped-up':
          if (this.contact?.brief.id === e.contact.id) this.clearContact();
          void this.loadToday();
          break;
        case 'missed':  // the phone stopped ringing: declined, rang out, or the caller left
          if (this.contact?.brief.id === e.contact.id && this.contact.phase === 'ringing') this.clearContact();
          break;
        case 'queued':
          break;
      }
    }
  }

  private popContact(brief: ContactBrief, phase: Phase): void {
    const same = this.contact?.brief.id === brief.id;
    if (!same) {
      this.contact = { brief, phase, since: Date.now(), result: '', dispositions: [], script: '' };
      this.customer = null;
      this.draft = { name: '', notes: '' };
      this.wrap = { disposition: '', notes: '' };
      this.transferTo = '';
      void this.loadCustomer(brief.caller);
      void this.loadDetails();
    } else if (this.contact) {
      this.contact.phase = phase;
      this.contact.since = Date.now();
    }
    this.renderContact();
  }

  private setPhase(phase: Phase): void {
    if (!this.contact || this.contact.phase === phase) return;
    this.contact.phase = phase;
    this.contact.since = Date.now();
    this.renderContact();
  }

  private clearContact(): void {
    this.contact = null;
    this.customer = null;
    this.renderContact();
  }

  /** Restores the contact in progress (page load, reconnection, a wrap-up with no contact). */
  private async restore(): Promise<void> {
    try {
      const c = await api.contact(this.tenant, this.agent);
      this.applyDetails(c, true);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        if (this.contact && this.contact.phase !== 'ended') this.clearContact();
      } else if (!(e instanceof ApiError && e.status === 401)) {
        this.ctx.flash(errorText(e), 'error');
      }
    }
  }

  private async loadDetails(): Promise<void> {
    try {
      this.applyDetails(await api.contact(this.tenant, this.agent), false);
    } catch {
      // The contact may be gone already (a short ring); the events say what happens next.
    }
  }

  private applyDetails(c: AgentContact, takeState: boolean): void {
    const phase: Phase = c.state === 'ringing' ? 'ringing' : c.state === 'held' ? 'held' : c.state === 'wrap-up' ? 'wrap-up' : 'connected';
    const since = Date.parse(c.since);
    if (!this.contact || this.contact.brief.id !== c.id) {
      this.contact = {
        brief: c,
        phase,
        since: Number.isFinite(since) ? since : Date.now(),
        result: '',
        dispositions: c.dispositions ?? [],
        script: c.script ?? '',
      };
      this.customer = null;
      this.wrap = { disposition: '', notes: '' };
      void this.loadCustomer(c.caller);
    } else {
      this.contact.dispositions = c.dispositions ?? [];
      this.contact.script = c.script ?? '';
      if (takeState && this.contact.phase !== phase) {
        this.contact.phase = phase;
        if (Number.isFinite(since)) this.contact.since = since;
      }
    }
    this.renderContact();
  }

  private async loadCustomer(number: string): Promise<void> {
    if (!number) return;
    try {
      const c = await api.customer(this.tenant, number);
      if (this.contact?.brief.caller !== number) return;
      this.customer = c;
      this.draft = { name: c.name ?? '', notes: c.notes ?? '' };
      this.renderContact();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) this.ctx.flash(errorText(e), 'error');
    }
  }

  /** The agent's own status and the queues' figures now (the stream then sends changes). */
  private async loadLive(): Promise<void> {
    try {
      const live = await api.live(this.tenant);
      const a = live.agents.find((x) => x.extension === this.agent);
      if (a) {
        this.me = { status: a.status, state: a.state, reason: a.reason, since: Date.now() - a.seconds_in_state * 1000 };
        if (a.reason) this.reasons.add(a.reason);
        this.renderStatus();
      }
      for (const q of live.queues) this.queues.set(q.id, { ...q, received: Date.now() });
      this.renderQueues();
    } catch {
      // The stream's changes fill them in.
    }
  }

  private async loadReasons(): Promise<void> {
    try {
      const setup = await api.queues(this.tenant);
      if (setup.break_reasons.length === 0) return;
      this.reasons = new Set(setup.break_reasons);
      if (!this.reasons.has(this.breakReason)) this.breakReason = setup.break_reasons[0] ?? '';
      this.renderStatus();
    } catch {
      // The default reasons stay.
    }
  }

  private async loadToday(): Promise<void> {
    try {
      this.today = await api.today(this.tenant, this.agent);
    } catch {
      this.today = null;
    }
    this.renderToday();
  }

  // ------------------------------------------------------------ actions

  private async setStatus(status: AgentStatus, reason = ''): Promise<void> {
    try {
      await api.setStatus(this.tenant, this.agent, status, reason);
      // The stream confirms with the new state; until then show what was asked.
      if (!this.me || this.me.status !== status || this.me.reason !== reason) {
        this.me = { status, state: this.me?.state ?? 'idle', reason, since: Date.now() };
        this.renderStatus();
      }
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
    }
  }

  private async act(action: 'hold' | 'resume' | 'hangup'): Promise<void> {
    try {
      await api.contactAction(this.tenant, this.agent, action);
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
    }
  }

  private async transfer(): Promise<void> {
    const to = this.transferTo.trim();
    if (!to) return;
    try {
      await api.transfer(this.tenant, this.agent, to);
      this.ctx.flash(t('contact.transferred', { to }));
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
    }
  }

  private async saveCustomer(button: HTMLButtonElement): Promise<void> {
    const number = this.contact?.brief.caller;
    if (!number) return;
    button.disabled = true;
    try {
      await api.saveCustomer(this.tenant, number, {
        name: this.draft.name.trim(),
        notes: this.draft.notes,
        tags: this.customer?.tags ?? [],
      });
      this.ctx.flash(t('customer.saved'));
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
    } finally {
      button.disabled = false;
    }
  }

  private async submitWrapUp(button: HTMLButtonElement): Promise<void> {
    const c = this.contact;
    if (!c) return;
    if (c.dispositions.length > 0 && !this.wrap.disposition) {
      this.ctx.flash(t('wrap.choose'), 'error');
      return;
    }
    button.disabled = true;
    try {
      await api.wrapUp(this.tenant, this.agent, this.wrap.disposition, this.wrap.notes);
      this.ctx.flash(t('wrap.done'));
      this.clearContact();
      void this.loadToday();
    } catch (e) {
      this.ctx.flash(errorText(e), 'error');
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------ rendering

  private renderStatus(): void {
    const me = this.me;
    const current = me
      ? h(
          'p',
          { class: 'current-status' },
          stateBadge(me.status, me.state, me.reason),
          ' ',
          tickingSince(h('span', { class: 'ticking', attrs: { 'data-testid': 'time-in-state', 'aria-label': t('status.time') } }), me.since),
        )
      : h('p', { class: 'current-status muted' }, t('status.unknown'));
    const pressed = (s: AgentStatus) => (me?.status === s ? 'true' : 'false');
    const reason = h(
      'select',
      { id: 'break-reason', onchange: () => (this.breakReason = reason.value) },
      [...this.reasons].map((r) => h('option', { value: r, selected: r === this.breakReason }, tDynamic('reason', r))),
    );
    replace(
      this.boxes.status,
      h('h2', { id: 'status-title' }, t('status.title')),
      current,
      h(
        'div',
        { class: 'status-controls', attrs: { role: 'group', 'aria-label': t('status.title') } },
        h('button', { type: 'button', class: 'primary', id: 'go-available', attrs: { 'aria-pressed': pressed('available') }, onclick: () => void this.setStatus('available') }, t('status.goAvailable')),
        h(
          'span',
          { class: 'break-group' },
          h('label', { htmlFor: 'break-reason', class: 'visually-hidden' }, t('status.reason')),
          reason,
          h('button', { type: 'button', id: 'go-break', attrs: { 'aria-pressed': pressed('break') }, onclick: () => void this.setStatus('break', this.breakReason) }, t('status.goBreak')),
        ),
        h('button', { type: 'button', class: 'ghost', id: 'go-logged-out', attrs: { 'aria-pressed': pressed('logged-out') }, onclick: () => void this.setStatus('logged-out') }, t('status.goLoggedOut')),
      ),
    );
  }

  private renderContact(): void {
    const c = this.contact;
    if (!c) {
      replace(this.boxes.contact, h('h2', { id: 'contact-title' }, t('contact.title')), h('p', { class: 'muted empty' }, t('contact.none')));
      return;
    }
    const phaseKey: Record<Phase, Key> = {
      ringing: 'phase.ringing',
      connected: 'phase.connected',
      held: 'phase.held',
      ended: 'phase.ended',
      'wrap-up': 'phase.wrap-up',
    };
    const talking = c.phase === 'connected' || c.phase === 'held';
    const transferInput = h('input', {
      id: 'transfer-to',
      value: this.transferTo,
      placeholder: t('contact.transfer.placeholder'),
      oninput: () => (this.transferTo = transferInput.value),
      attrs: { dir: 'ltr', 'aria-describedby': 'transfer-hint' },
    });
    const controls = talking
      ? h(
          'div',
          { class: 'call-controls' },
          c.phase === 'held'
            ? h('button', { type: 'button', id: 'resume', onclick: () => void this.act('resume') }, t('contact.resume'))
            : h('button', { type: 'button', id: 'hold', onclick: () => void this.act('hold') }, t('contact.hold')),
          h('button', { type: 'button', class: 'danger', id: 'hangup', onclick: () => void this.act('hangup') }, t('contact.hangup')),
          h(
            'form',
            {
              class: 'transfer',
              onsubmit: (e: SubmitEvent) => {
                e.preventDefault();
                void this.transfer();
              },
            },
            h('label', { htmlFor: 'transfer-to' }, t('contact.transfer')),
            transferInput,
            h('button', { type: 'submit', id: 'transfer' }, t('contact.transfer.go')),
            h('small', { class: 'hint', id: 'transfer-hint' }, t('contact.transfer.hint')),
          ),
        )
      : null;

    const ivr = ivrPath(c.brief.ivr_path);
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', null, t('contact.queue')),
      h('dd', null, c.brief.queue || '—'),
      h('dt', null, t('contact.called')),
      h('dd', null, c.brief.called ? phone(c.brief.called) : '—'),
      h('dt', null, t('contact.ivr')),
      h('dd', { attrs: { 'data-testid': 'ivr' } }, ivr || t('contact.ivr.none')),
    );

    replace(
      this.boxes.contact,
      h('h2', { id: 'contact-title' }, t('contact.title')),
      h(
        'div',
        { class: `pop phase-${c.phase}` },
        h(
          'div',
          { class: 'pop-head' },
          h('span', { class: 'caller', attrs: { 'data-testid': 'caller', 'data-number': c.brief.caller } }, phone(c.brief.caller)),
          h('span', { class: 'customer-name' }, this.customer?.name || (this.customer ? t('customer.unknown') : '')),
          h('span', { class: 'badge phase' }, t(phaseKey[c.phase])),
          tickingSince(h('span', { class: 'ticking' }), c.since),
        ),
        h(
          'div',
          { class: 'pop-body' },
          h(
            'div',
            { class: 'pop-call' },
            facts,
            controls,
            c.phase === 'wrap-up' || c.phase === 'ended' ? this.wrapUpForm(c) : null,
            c.script ? h('section', { class: 'script' }, h('h3', null, t('contact.script')), h('p', { class: 'script-text' }, c.script)) : null,
          ),
          this.customerBlock(),
        ),
      ),
    );
  }

  private wrapUpForm(c: ContactView): HTMLElement {
    const select = h(
      'select',
      { id: 'disposition', required: c.dispositions.length > 0, onchange: () => (this.wrap.disposition = select.value) },
      h('option', { value: '', selected: !this.wrap.disposition }, t('wrap.pick')),
      c.dispositions.map((d) => h('option', { value: d, selected: d === this.wrap.disposition }, d)),
    );
    const notes = h('textarea', { id: 'wrap-notes', rows: 3, maxLength: 4000, value: this.wrap.notes, oninput: () => (this.wrap.notes = notes.value) });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'wrap-submit' }, t('wrap.submit'));
    return h(
      'form',
      {
        class: 'wrapup',
        attrs: { 'aria-labelledby': 'wrap-title' },
        onsubmit: (e: SubmitEvent) => {
          e.preventDefault();
          void this.submitWrapUp(submit);
        },
      },
      h('h3', { id: 'wrap-title' }, t('wrap.title')),
      c.result ? h('p', { class: 'muted' }, t('wrap.result', { result: tDynamic('result', c.result) })) : null,
      c.dispositions.length > 0 ? field(t('wrap.disposition'), select) : h('p', { class: 'muted' }, t('wrap.nodispositions')),
      field(t('wrap.notes'), notes),
      submit,
    );
  }

  private customerBlock(): HTMLElement {
    const cu = this.customer;
    if (!cu) return h('section', { class: 'customer muted' }, t('customer.loading'));
    const name = h('input', { id: 'customer-name', maxLength: 200, value: this.draft.name, oninput: () => (this.draft.name = name.value) });
    const notes = h('textarea', { id: 'customer-notes', rows: 3, maxLength: 4000, value: this.draft.notes, oninput: () => (this.draft.notes = notes.value) });
    const save = h('button', { type: 'submit', id: 'customer-save' }, t('customer.save'));
    return h(
      'section',
      { class: 'customer' },
      h('h3', null, t('customer.title')),
      h(
        'form',
        {
          onsubmit: (e: SubmitEvent) => {
            e.preventDefault();
            void this.saveCustomer(save);
          },
        },
        field(t('customer.name'), name),
        field(t('customer.notes'), notes),
        cu.updated_by ? h('small', { class: 'hint' }, t('customer.updated', { who: cu.updated_by, when: fmtDateTime(cu.updated_at ?? '') })) : null,
        save,
      ),
      h('h3', null, t('customer.history')),
      cu.history.length === 0
        ? h('p', { class: 'muted' }, t('customer.firstcontact'))
        : h(
            'table',
            { class: 'compact' },
            h('thead', null, h('tr', null, h('th', null, t('col.when')), h('th', null, t('col.queue')), h('th', null, t('col.agent')), h('th', null, t('col.result')))),
            h(
              'tbody',
              null,
              cu.history
                .filter((r) => r.id !== this.contact?.brief.id)
                .map((r) => h('tr', null, h('td', null, fmtDateTime(r.started_at)), h('td', null, r.queue), h('td', null, r.agent), h('td', null, tDynamic('result', r.result)))),
            ),
          ),
    );
  }

  private renderToday(): void {
    const today = this.today;
    const rows: HTMLElement[] = [];
    if (today) {
      for (const [k, v] of Object.entries(today)) {
        if (typeof v !== 'number') continue;
        const value = k.endsWith('_seconds') ? fmtDuration(v) : num(v, { maximumFractionDigits: 1 });
        rows.push(h('div', { class: 'figure' }, h('dt', null, tDynamic('today', k)), h('dd', null, value)));
      }
    }
    replace(
      this.boxes.today,
      h('h2', { id: 'today-title' }, t('today.title')),
      rows.length ? h('dl', { class: 'figures' }, rows) : h('p', { class: 'muted' }, t(today ? 'today.none' : 'today.unavailable')),
    );
  }

  private renderQueues(): void {
    const list = [...this.queues.values()].sort((a, b) => a.id.localeCompare(b.id));
    replace(
      this.boxes.queues,
      h('h2', { id: 'queues-title' }, t('agentq.title')),
      list.length === 0
        ? h('p', { class: 'muted' }, t('agentq.none'))
        : h(
            'ul',
            { class: 'plain' },
            list.map((q) =>
              h(
                'li',
                { class: q.waiting > 0 ? 'has-waiting' : '' },
                h('strong', null, q.id),
                ' ',
                t('agentq.waiting', { n: q.waiting }),
                q.waiting > 0 ? [' · ', t('agentq.longest'), ' ', tickingSince(h('span'), q.received - q.longest_wait_seconds * 1000)] : null,
              ),
            ),
          ),
    );
  }
}
