// Administration (/admin): the tenant's users (list and create), its queues (read-only: the
// configuration file is where queues, numbers and flows are edited, and the page says so rather
// than offering buttons that do nothing) and its agents, whose queues, tiers and skills change
// here live. Managers see their own tenant; admins type the tenant's id.

import { type AgentSetup, api, ApiError, type FlowInfo, type TenantQueues, type UploadKind, type User } from '../api';
import { fmtDateTime } from '../dates';
import { field, h, replace } from '../dom';
import { type Key, list, num, t, tDynamic } from '../i18n';
import { errorText, phone } from '../format';
import type { Role } from '../session';
import type { Page, PageContext } from '../shell';
import { type AgentEdit, editorRow, memberships, saveEdit, startEdit } from '../agent-editor';
import { tenantPicker } from './tenant-picker';

type Load<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'error'; message: string };

export class AdminPage implements Page {
  private readonly tenant: string;
  private users: Load<User[]> = { state: 'loading' };
  private queues: Load<TenantQueues> = { state: 'loading' };
  private agents: Load<AgentSetup[]> = { state: 'loading' };
  private flows: Load<FlowInfo[]> = { state: 'loading' };
  private flowDraft = { kind: 'flows' as UploadKind, name: '', yaml: '', message: '', error: false };
  private draft = { username: '', name: '', role: 'agent' as Role, password: '' };
  private formError = '';
  private editing: AgentEdit | null = null;
  private readonly boxes = {
    users: h('div', { class: 'table-wrap' }),
    form: h('div'),
    queues: h('div', { class: 'table-wrap' }),
    agents: h('div', { class: 'table-wrap' }),
    flows: h('div'),
  };

  constructor(private readonly ctx: PageContext) {
    this.tenant = ctx.tenant;
    if (!this.tenant) return;
    void this.loadUsers();
    void this.load(() => api.queues(this.tenant), (v) => (this.queues = v), () => this.renderQueues());
    void this.load(() => api.agents(this.tenant), (v) => (this.agents = v), () => this.renderAgents());
    void this.loadFlows();
  }

  private loadFlows(): Promise<void> {
    return this.load(() => api.flows(this.tenant), (v) => (this.flows = v), () => this.renderFlows());
  }

  destroy(): void {}

  private async load<T>(fetcher: () => Promise<T>, set: (v: Load<T>) => void, draw: () => void): Promise<void> {
    try {
      set({ state: 'ok', value: await fetcher() });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      set({ state: 'error', message: errorText(e) });
    }
    draw();
  }

  private loadUsers(): Promise<void> {
    return this.load(async () => (await api.users(this.tenant)).users, (v) => (this.users = v), () => this.renderUsers());
  }

  render(): Node {
    const picker = tenantPicker(this.ctx);
    if (!this.tenant) return h('div', { class: 'admin' }, picker, h('p', { class: 'muted' }, t('tenant.none')));
    this.renderUsers();
    this.renderForm();
    this.renderQueues();
    this.renderAgents();
    this.renderFlows();
    return h(
      'div',
      { class: 'admin' },
      picker,
      h('h1', null, t('admin.title', { tenant: this.tenant })),
      h(
        'div',
        { class: 'admin-grid' },
        h('section', { class: 'card', attrs: { 'aria-labelledby': 'ad-users' } }, h('h2', { id: 'ad-users' }, t('admin.users')), this.boxes.users),
        h('section', { class: 'card', attrs: { 'aria-labelledby': 'ad-new' } }, h('h2', { id: 'ad-new' }, t('admin.newuser')), this.boxes.form),
      ),
      h('p', { class: 'notice', attrs: { 'data-testid': 'config-note' } }, t('admin.readonly')),
      h(
        'div',
        { class: 'admin-grid' },
        h('section', { class: 'card', attrs: { 'aria-labelledby': 'ad-queues' } }, h('h2', { id: 'ad-queues' }, t('admin.queues')), this.boxes.queues),
        h('section', { class: 'card', attrs: { 'aria-labelledby': 'ad-agents' } }, h('h2', { id: 'ad-agents' }, t('admin.agents')), this.boxes.agents),
      ),
      h('section', { class: 'card', attrs: { 'aria-labelledby': 'ad-flows' } }, h('h2', { id: 'ad-flows' }, t('admin.flows')), this.boxes.flows),
    );
  }

  private table(headers: string[], rows: HTMLElement[]): HTMLElement {
    return h('table', { class: 'grid' }, h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', null, rows));
  }

  private status<T>(l: Load<T>, box: HTMLElement): l is { state: 'ok'; value: T } {
    if (l.state === 'loading') replace(box, h('p', { class: 'muted' }, t('common.loading')));
    else if (l.state === 'error') replace(box, h('p', { class: 'form-error' }, l.message));
    return l.state === 'ok';
  }

  private renderUsers(): void {
    const l = this.users;
    if (!this.status(l, this.boxes.users)) return;
    replace(
      this.boxes.users,
      this.table(
        [t('col.username'), t('col.name'), t('col.role'), t('col.created')],
        l.value.map((u) =>
          h(
            'tr',
            { attrs: { 'data-user': u.username }, class: u.disabled ? 'disabled' : '' },
            h('th', { scope: 'row' }, h('bdi', null, u.username)),
            h('td', null, u.name),
            h('td', null, t(`role.${u.role}` as Key), u.disabled ? h('small', { class: 'muted' }, ` (${t('admin.disabled')})`) : null),
            h('td', null, fmtDateTime(u.created_at)),
          ),
        ),
      ),
    );
  }

  private renderForm(): void {
    const roles: Role[] = this.ctx.session.role === 'admin' ? ['agent', 'supervisor', 'analyst', 'manager'] : ['agent', 'supervisor', 'analyst'];
    const d = this.draft;
    const username = h('input', { id: 'new-username', required: true, value: d.username, oninput: () => (d.username = username.value), attrs: { dir: 'ltr', autocomplete: 'off' } });
    const name = h('input', { id: 'new-name', value: d.name, oninput: () => (d.name = name.value) });
    const role = h(
      'select',
      { id: 'new-role', onchange: () => (d.role = role.value as Role) },
      roles.map((r) => h('option', { value: r, selected: r === d.role }, t(`role.${r}` as Key))),
    );
    const password = h('input', { id: 'new-password', type: 'password', required: true, attrs: { autocomplete: 'new-password' }, value: d.password, oninput: () => (d.password = password.value) });
    const error = h('p', { class: 'form-error', attrs: { role: 'alert' } }, this.formError);
    const submit = h('button', { type: 'submit', class: 'primary', id: 'new-submit' }, t('admin.create'));
    replace(
      this.boxes.form,
      h(
        'form',
        {
          class: 'stack',
          onsubmit: (e: SubmitEvent) => {
            e.preventDefault();
            void this.createUser(submit);
          },
        },
        field(t('col.username'), username, t('admin.username.hint')),
        field(t('col.name'), name),
        field(t('col.role'), role),
        field(t('signin.password'), password),
        error,
        submit,
      ),
    );
  }

  private async createUser(button: HTMLButtonElement): Promise<void> {
    const d = this.draft;
    button.disabled = true;
    this.formError = '';
    try {
      await api.addUser(this.tenant, { username: d.username.trim(), role: d.role, password: d.password, name: d.name.trim() || d.username.trim() });
      this.ctx.flash(t('admin.created', { username: d.username.trim() }));
      this.draft = { username: '', name: '', role: d.role, password: '' };
      await this.loadUsers();
    } catch (e) {
      this.formError = e instanceof ApiError && e.status === 409 ? t('admin.taken') : errorText(e);
    } finally {
      button.disabled = false;
      this.renderForm();
    }
  }

  private renderQueues(): void {
    const l = this.queues;
    if (!this.status(l, this.boxes.queues)) return;
    // Strategy names and break reasons are configuration words, shown as configured when the
    // catalogue has no translation for them.
    const reasons = l.value.break_reasons;
    if (l.value.queues.length === 0) return replace(this.boxes.queues, h('p', { class: 'muted' }, t('admin.noqueues')));
    replace(
      this.boxes.queues,
      this.table(
        [t('col.queue'), t('col.strategy'), t('col.target'), t('col.wrapup'), t('col.dispositions')],
        l.value.queues.map((q) => {
          const sl = q.service_level;
          const target = sl?.target !== undefined ? (sl.target > 1 ? sl.target / 100 : sl.target) : undefined;
          const within = sl?.threshold_seconds;
          return h(
            'tr',
            { attrs: { 'data-queue': q.id } },
            h('th', { scope: 'row' }, q.name && q.name !== q.id ? `${q.name} (${q.id})` : q.id),
            h('td', null, q.strategy ?? '—'),
            h(
              'td',
              null,
              target !== undefined
                ? t('admin.target', { pct: num(target, { style: 'percent' }), s: within ?? 0 })
                : within !== undefined
                  ? t('admin.within', { s: within })
                  : '—',
            ),
            h('td', null, q.wrap_up_seconds !== undefined ? `${num(q.wrap_up_seconds)} ${t('unit.s')}` : '—'),
            h('td', null, list(q.dispositions ?? []) || '—'),
          );
        }),
      ),
      reasons.length ? h('p', { class: 'muted reasons' }, t('admin.reasons', { list: list(reasons.map((r) => tDynamic('reason', r))) })) : null,
    );
  }

  private renderAgents(): void {
    const l = this.agents;
    if (!this.status(l, this.boxes.agents)) return;
    if (l.value.length === 0) return replace(this.boxes.agents, h('p', { class: 'muted' }, t('admin.noagents')));
    replace(
      this.boxes.agents,
      this.table(
        [t('col.agent'), t('col.name'), t('col.queues'), t('col.skills'), ''],
        l.value.flatMap((a) => {
          const row = h(
            'tr',
            { attrs: { 'data-agent': a.extension } },
            h('th', { scope: 'row' }, phone(a.extension)),
            h('td', null, a.name ?? ''),
            h('td', null, list(memberships(a).map((m) => (m.tier > 1 ? `${m.queue} (${t('admin.tier', { n: m.tier })})` : m.queue))) || '—'),
            h('td', null, list(Object.entries(a.skills ?? {}).map(([s, lv]) => `${s} ${num(lv)}`)) || '—'),
            h('td', null, h('button', { type: 'button', class: 'secondary', onclick: () => { this.editing = startEdit(a); this.renderAgents(); } }, t('admin.edit'))),
          );
          if (this.editing?.extension !== a.extension) return [row];
          const ids = this.queues.state === 'ok' ? this.queues.value.queues.map((q) => q.id) : [];
          return [row, editorRow(this.editing, ids, 5, () => void this.saveAgent(), () => { this.editing = null; this.renderAgents(); })];
        }),
      ),
    );
  }

  /** The tenant's flows, and a form to check, upload or remove one (YAML, as in the file). */
  private renderFlows(): void {
    const l = this.flows;
    const d = this.flowDraft;
    const list = l.state === 'ok'
      ? this.table(
          [t('admin.flow'), t('admin.flow.start'), ''],
          l.value.map((f) =>
            h(
              'tr',
              { attrs: { 'data-flow': f.name } },
              h('th', { scope: 'row' }, f.name),
              h('td', null, f.start),
              h('td', null, f.uploaded
                ? h('button', { type: 'button', class: 'secondary', onclick: () => void this.removeFlow(f.name) }, t('admin.flow.remove'))
                : h('span', { class: 'muted' }, t('admin.flow.infile'))),
            ),
          ),
        )
      : h('p', { class: 'muted' }, l.state === 'error' ? l.message : t('common.loading'));
    const kind = h(
      'select',
      { id: 'upload-kind' },
      (['flows', 'calendars', 'numbers'] as const).map((k) => h('option', { value: k, selected: d.kind === k }, t(`admin.kind.${k}`))),
    );
    kind.addEventListener('change', () => (d.kind = kind.value as UploadKind));
    const name = h('input', { type: 'text', id: 'flow-name', value: d.name, attrs: { pattern: '[a-z0-9_-]{1,64}' } });
    name.addEventListener('input', () => (d.name = name.value));
    const yaml = h('textarea', { id: 'flow-yaml', rows: 10, value: d.yaml, class: 'code', attrs: { dir: 'ltr', spellcheck: 'false' } });
    yaml.addEventListener('input', () => (d.yaml = yaml.value));
    replace(
      this.boxes.flows,
      list,
      h('h3', null, t('admin.flow.upload')),
      field(t('admin.kind'), kind),
      field(t('admin.flow'), name),
      field(t('admin.flow.yaml'), yaml, t('admin.flow.hint')),
      d.message ? h('p', { class: d.error ? 'form-error' : 'notice', attrs: { role: d.error ? 'alert' : 'status', 'data-testid': 'flow-message' } }, d.message) : null,
      h('button', { type: 'button', class: 'secondary', id: 'flow-check', onclick: () => void this.sendFlow(true) }, t('admin.flow.check')),
      ' ',
      h('button', { type: 'button', id: 'flow-save', onclick: () => void this.sendFlow(false) }, t('admin.flow.save')),
    );
  }

  private async sendFlow(check: boolean): Promise<void> {
    const d = this.flowDraft;
    try {
      await api.putUpload(this.tenant, d.kind, d.name.trim(), d.yaml, check);
      d.message = t(check ? 'admin.flow.valid' : 'admin.flow.saved', { flow: d.name.trim() });
      d.error = false;
      if (!check) await this.loadFlows();
    } catch (e) {
      d.error = true;
      d.message = e instanceof ApiError && e.line !== undefined
        ? t('admin.flow.error', { line: num(e.line), field: e.field ?? '', error: e.message })
        : errorText(e);
    }
    this.renderFlows();
  }

  private async removeFlow(name: string): Promise<void> {
    try {
      await api.deleteUpload(this.tenant, 'flows', name);
      this.flowDraft.message = t('admin.flow.removed', { flow: name });
      this.flowDraft.error = false;
      await this.loadFlows();
    } catch (e) {
      this.flowDraft.message = errorText(e);
      this.flowDraft.error = true;
    }
    this.renderFlows();
  }

  private async saveAgent(): Promise<void> {
    const e = this.editing;
    if (!e) return;
    if (await saveEdit(this.tenant, e)) {
      this.editing = null;
      this.ctx.flash(t('admin.agentsaved', { agent: e.extension }), 'info');
      await this.load(() => api.agents(this.tenant), (v) => (this.agents = v), () => this.renderAgents());
      return;
    }
    this.renderAgents();
  }
}
