// Administration (/admin): the tenant's users (list and create); its queues, whose settings are
// changed here over the configuration file's (or a new queue made) and in effect at once; its
// agents, whose name, SIP password, queues, tiers, skills and capacity change here live, a new
// agent (with its sign-in for the agent desktop) made and one made here removed; and the flows, business-hours
// calendars and numbers in use, with a form to check or upload one and a button to remove an
// upload. Managers see their own tenant; admins type the tenant's id.

import {
  type AgentSetup,
  api,
  type NewAgent,
  ApiError,
  type QueueSettingKey,
  type QueueSettings,
  type QueueSetup,
  type TenantQueues,
  type UploadInfo,
  type UploadKind,
  type User,
} from '../api';
import { fmtDateTime } from '../dates';
import { field, h, type Props, replace } from '../dom';
import { type Key, list, num, t, tDynamic } from '../i18n';
import { errorText, phone } from '../format';
import type { Role } from '../session';
import type { Page, PageContext } from '../shell';
import { type AgentEdit, capacityText, editorRow, memberships, queueChoices, saveEdit, startEdit } from '../agent-editor';
import { tenantPicker } from './tenant-picker';

type Load<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'error'; message: string };

const kUploadKinds: readonly UploadKind[] = ['flows', 'calendars', 'numbers'];

/** The numeric settings of a queue, in the order of the form (times in seconds). */
const kNumberKeys = ['sl_seconds', 'sl_target', 'ring_timeout', 'wrap_up', 'max_wait', 'max_waiting', 'max_no_answer', 'retry_after'] as const;
type NumberKey = (typeof kNumberKeys)[number];
/** Every key the form sends, in the order of the configuration's documentation. */
const kSettingKeys: readonly QueueSettingKey[] = [
  'strategy', ...kNumberKeys, 'join_empty', 'leave_empty', 'skills', 'dispositions', 'script',
];

/** The configuration's defaults (docs/configuration.md): what a new queue's form starts with. */
const kQueueDefaults: QueueSettings = {
  strategy: 'longest-idle',
  sl_seconds: 20,
  sl_target: 80,
  ring_timeout: 20,
  wrap_up: 0,
  max_wait: 0,
  max_waiting: 0,
  max_no_answer: 3,
  retry_after: 5,
  join_empty: 'ignore',
  leave_empty: 'ignore',
  skills: {},
  dispositions: [],
  script: '',
};

const kQueueId = /^[a-z0-9_-]{1,64}$/;

/** The form of a new agent: what is typed, kept across redraws. */
interface AgentDraft {
  extension: string;
  name: string;
  /** The SIP phone's password. */
  password: string;
  queues: Map<string, number>;
  /** The sign-in for the agent desktop ('' makes none). */
  signin: string;
  /** `field`: the API's key (`extension`, `password`, `queues`, …) or `signin`. */
  error: { message: string; field?: string } | null;
  /** The agent was made but not its sign-in: the next try makes only the sign-in. */
  made: boolean;
  busy: boolean;
}

/** The label of a field of the new agent's form, by the API's key. */
const kAgentLabels: Record<string, Key> = {
  extension: 'agent.extension',
  name: 'col.name',
  password: 'agent.password',
  queues: 'col.queues',
  skills: 'col.skills',
  capacity: 'admin.capacity',
  signin: 'agent.signin',
};

/** The editor's state: what is typed, kept across redraws. */
interface QueueDraft {
  id: string;
  /** Opened with "New queue": the id is typed, and every key is sent. */
  isNew: boolean;
  /** The queue's effective settings when the editor opened (a new queue: the defaults). */
  base: QueueSettings;
  customized: string[];
  added: boolean;
  strategy: string;
  numbers: Record<NumberKey, string>;
  join_empty: string;
  leave_empty: string;
  skills: { name: string; level: string }[];
  dispositions: string;
  /** The line in the box of each code sent (codes are sent without the blank lines). */
  dispositionLines: number[];
  script: string;
  error: { message: string; field?: string; line?: number } | null;
  notice: string;
  busy: boolean;
}

/** A queue's effective settings as the server sends them, over the configuration's defaults. */
function effectiveSettings(q: QueueSetup): QueueSettings {
  return { ...kQueueDefaults, ...(q.settings ?? {}) };
}

function draftOf(id: string, base: QueueSettings, isNew: boolean, customized: string[], added: boolean): QueueDraft {
  return {
    id,
    isNew,
    base,
    customized,
    added,
    strategy: base.strategy,
    numbers: Object.fromEntries(kNumberKeys.map((k) => [k, String(base[k])])) as Record<NumberKey, string>,
    join_empty: base.join_empty,
    leave_empty: base.leave_empty,
    skills: Object.entries(base.skills).map(([name, level]) => ({ name, level: String(level) })),
    dispositions: base.dispositions.join('\n'),
    dispositionLines: [],
    script: base.script,
    error: null,
    notice: '',
    busy: false,
  };
}

/** Values of the configuration's keys compared as JSON would be (skills in any order). */
function same(a: unknown, b: unknown): boolean {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return JSON.stringify(ka) === JSON.stringify(kb) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The label of a setting's key (a field the server names, as `skills.english` or `dispositions[2]`). */
function settingLabel(fieldName: string): string {
  const key = fieldName.split(/[.[]/)[0] ?? fieldName;
  const k = `queue.${key}`;
  return k in labelKeys ? t(k as Key) : fieldName;
}
const labelKeys: Record<string, true> = Object.fromEntries([...kSettingKeys, 'id'].map((k) => [`queue.${k}`, true]));

export class AdminPage implements Page {
  private readonly tenant: string;
  private users: Load<User[]> = { state: 'loading' };
  private queues: Load<TenantQueues> = { state: 'loading' };
  private agents: Load<AgentSetup[]> = { state: 'loading' };
  private uploads: Record<UploadKind, Load<UploadInfo[]>> = { flows: { state: 'loading' }, calendars: { state: 'loading' }, numbers: { state: 'loading' } };
  private flowDraft = { kind: 'flows' as UploadKind, name: '', yaml: '', message: '', error: false };
  private draft = { username: '', name: '', role: 'agent' as Role, password: '' };
  private formError = '';
  private editing: AgentEdit | null = null;
  private agentDraft: AgentDraft | null = null;
  /** The server's refusal to remove an agent, shown above the agents' table. */
  private agentsMessage = '';
  private queueDraft: QueueDraft | null = null;
  private readonly boxes = {
    users: h('div', { class: 'table-wrap' }),
    form: h('div'),
    queues: h('div', { class: 'table-wrap' }),
    queueEditor: h('div'),
    agents: h('div', { class: 'table-wrap' }),
    agentForm: h('div'),
    lists: h('div'),
    upload: h('div'),
  };

  constructor(private readonly ctx: PageContext) {
    this.tenant = ctx.tenant;
    if (!this.tenant) return;
    void this.loadUsers();
    void this.loadQueues();
    void this.loadAgents();
    void this.loadUploads();
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

  private loadQueues(): Promise<void> {
    return this.load(() => api.queues(this.tenant), (v) => (this.queues = v), () => {
      this.renderQueues();
      this.renderAgents(); // the editor's queue boxes
      this.renderAgentForm();
    });
  }

  private loadAgents(): Promise<void> {
    return this.load(() => api.agents(this.tenant), (v) => (this.agents = v), () => this.renderAgents());
  }

  private loadUploads(): Promise<void> {
    return Promise.all(
      kUploadKinds.map((kind) => this.load(() => api.uploads(this.tenant, kind), (v) => (this.uploads[kind] = v), () => this.renderLists())),
    ).then(() => {});
  }

  render(): Node {
    const picker = tenantPicker(this.ctx);
    if (!this.tenant) return h('div', { class: 'admin' }, picker, h('p', { class: 'muted' }, t('tenant.none')));
    this.renderUsers();
    this.renderForm();
    this.renderQueues();
    this.renderAgents();
    this.renderAgentForm();
    this.renderLists();
    this.renderUpload();
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
      h('p', { class: 'notice', attrs: { 'data-testid': 'config-note' } }, t('admin.note')),
      h(
        'section',
        { class: 'card', attrs: { 'aria-labelledby': 'ad-queues' } },
        h(
          'div',
          { class: 'section-head' },
          h('h2', { id: 'ad-queues' }, t('admin.queues')),
          h('button', { type: 'button', class: 'secondary', id: 'queue-new', onclick: () => this.newQueue() }, t('queue.new')),
        ),
        this.boxes.queues,
        this.boxes.queueEditor,
      ),
      h(
        'section',
        { class: 'card', attrs: { 'aria-labelledby': 'ad-agents' } },
        h(
          'div',
          { class: 'section-head' },
          h('h2', { id: 'ad-agents' }, t('admin.agents')),
          h('button', { type: 'button', class: 'secondary', id: 'agent-new', onclick: () => this.newAgent() }, t('agent.new')),
        ),
        this.boxes.agents,
        this.boxes.agentForm,
      ),
      h(
        'section',
        { class: 'card', attrs: { 'aria-labelledby': 'ad-flows' } },
        h('h2', { id: 'ad-flows' }, t('admin.flows')),
        h('div', { class: 'admin-grid' }, this.boxes.lists, h('div', { class: 'upload-form' }, this.boxes.upload)),
      ),
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

  // ---------------------------------------------------------------- queues

  private renderQueues(): void {
    const l = this.queues;
    if (!this.status(l, this.boxes.queues)) return;
    // Break reasons are configuration words, shown as configured when the catalogue has no
    // translation for them; so are strategies.
    const reasons = l.value.break_reasons;
    const seconds = (s: number | undefined) => (s !== undefined ? `${num(s)} ${t('unit.s')}` : '—');
    replace(
      this.boxes.queues,
      l.value.queues.length === 0
        ? h('p', { class: 'muted' }, t('admin.noqueues'))
        : this.table(
            [t('col.queue'), t('col.strategy'), t('col.target'), t('queue.ring_timeout.short'), t('col.wrapup'), t('col.dispositions'), t('queue.changes'), ''],
            l.value.queues.map((q) => {
              const s = effectiveSettings(q);
              const custom = q.customized ?? [];
              const mark = q.added
                ? h('span', { class: 'badge added', attrs: { 'data-testid': 'queue-mark' } }, t('queue.added'))
                : custom.length
                  ? h(
                      'span',
                      { class: 'badge changed', title: list(custom.map(settingLabel)), attrs: { 'data-testid': 'queue-mark' } },
                      t('queue.customized', { n: custom.length }),
                    )
                  : h('span', { class: 'muted' }, t('queue.asfile'));
              const editingThis = this.queueDraft && !this.queueDraft.isNew && this.queueDraft.id === q.id;
              return h(
                'tr',
                {
                  class: editingThis ? 'editing' : '',
                  attrs: { 'data-queue': q.id, 'data-customized': custom.length ? custom.join(' ') : undefined, 'data-added': q.added || undefined },
                },
                h('th', { scope: 'row' }, h('bdi', null, q.name && q.name !== q.id ? `${q.name} (${q.id})` : q.id)),
                h('td', { attrs: { 'data-strategy': s.strategy } }, tDynamic('strategy', s.strategy)),
                h('td', null, t('admin.target', { pct: num(s.sl_target / 100, { style: 'percent' }), s: s.sl_seconds })),
                h('td', null, seconds(s.ring_timeout)),
                h('td', null, seconds(s.wrap_up)),
                h('td', null, list(s.dispositions) || '—'),
                h('td', null, mark),
                h(
                  'td',
                  null,
                  h(
                    'button',
                    { type: 'button', class: 'secondary', attrs: { 'data-testid': 'edit-queue', 'aria-label': t('queue.edit.for', { queue: q.id }) }, onclick: () => this.editQueue(q) },
                    t('admin.edit'),
                  ),
                ),
              );
            }),
          ),
      reasons.length ? h('p', { class: 'muted reasons' }, t('admin.reasons', { list: list(reasons.map((r) => tDynamic('reason', r))) })) : null,
    );
    this.renderQueueEditor();
  }

  private editQueue(q: QueueSetup): void {
    this.queueDraft = draftOf(q.id, effectiveSettings(q), false, q.customized ?? [], q.added ?? false);
    this.renderQueues();
    this.focusEditor();
  }

  private newQueue(): void {
    this.queueDraft = draftOf('', kQueueDefaults, true, [], true);
    this.renderQueues();
    this.focusEditor();
  }

  private focusEditor(): void {
    requestAnimationFrame(() => this.boxes.queueEditor.querySelector<HTMLElement>('input, select')?.focus());
  }

  private closeQueueEditor(): void {
    this.queueDraft = null;
    this.renderQueues();
  }

  /** The form of one queue: every setting the API takes, with the server's error beside it. */
  private renderQueueEditor(): void {
    const d = this.queueDraft;
    const box = this.boxes.queueEditor;
    if (!d) return replace(box);
    const options = this.queues.state === 'ok' ? this.queues.value : null;
    const strategies = options?.strategies ?? [];
    const policies = options?.empty_policies ?? [];
    const errKey = d.error?.field ? (d.error.field.split(/[.[]/)[0] ?? '') : '';
    const invalid = (key: string) => (errKey === key ? { 'aria-invalid': 'true', 'aria-describedby': 'queue-error' } : {});

    const pick = (key: 'strategy' | 'join_empty' | 'leave_empty', values: string[], prefix: string) => {
      const all = values.includes(d[key]) ? values : [...values, d[key]];
      const select = h(
        'select',
        { id: `q-${key}`, attrs: { name: key, ...invalid(key) } },
        all.map((v) => h('option', { value: v, selected: v === d[key] }, tDynamic(prefix, v))),
      );
      select.addEventListener('change', () => (d[key] = select.value));
      return field(t(`queue.${key}` as Key), select);
    };
    const numberField = (key: NumberKey) => {
      const input = h('input', {
        type: 'number',
        id: `q-${key}`,
        value: d.numbers[key],
        min: key === 'sl_target' ? '1' : '0',
        max: key === 'sl_target' ? '100' : undefined,
        step: '1',
        attrs: { name: key, dir: 'ltr', inputmode: 'numeric', ...invalid(key) },
      });
      input.addEventListener('input', () => (d.numbers[key] = input.value));
      const hint = key === 'max_wait' || key === 'max_waiting' || key === 'max_no_answer' ? t(`queue.${key}.hint`) : undefined;
      return field(t(`queue.${key}` as Key), input, hint);
    };

    const id = d.isNew
      ? (() => {
          const input = h('input', { id: 'q-id', value: d.id, required: true, attrs: { name: 'id', dir: 'ltr', autocomplete: 'off', spellcheck: 'false', pattern: '[a-z0-9_\\-]{1,64}', ...invalid('id') } });
          input.addEventListener('input', () => (d.id = input.value));
          return field(t('queue.id'), input, t('queue.id.hint'));
        })()
      : null;

    const skillRows = d.skills.map((s, i) => {
      const name = h('input', { value: s.name, attrs: { dir: 'ltr', 'aria-label': t('queue.skill.name'), 'data-testid': 'skill-name' } });
      name.addEventListener('input', () => (s.name = name.value));
      const level = h('input', { type: 'number', min: '1', max: '10', step: '1', value: s.level, class: 'level', attrs: { dir: 'ltr', 'aria-label': t('queue.skill.level'), 'data-testid': 'skill-level' } });
      level.addEventListener('input', () => (s.level = level.value));
      return h(
        'div',
        { class: 'skill-row' },
        name,
        level,
        h('button', { type: 'button', class: 'secondary small', onclick: () => { d.skills.splice(i, 1); this.renderQueueEditor(); } }, t('queue.skill.remove')),
      );
    });
    const dispositions = h('textarea', { id: 'q-dispositions', rows: 4, value: d.dispositions, attrs: { name: 'dispositions', dir: 'auto', spellcheck: 'false', ...invalid('dispositions') } });
    dispositions.addEventListener('input', () => (d.dispositions = dispositions.value));
    const script = h('textarea', { id: 'q-script', rows: 4, value: d.script, attrs: { name: 'script', dir: 'auto', ...invalid('script') } });
    script.addEventListener('input', () => (d.script = script.value));

    const canRevert = !d.isNew && (d.added || d.customized.length > 0);
    const title = d.isNew ? t('queue.new.title') : t('queue.edit.title', { queue: d.id });
    replace(
      box,
      h(
        'form',
        {
          id: 'queue-editor',
          class: 'queue-editor',
          attrs: { 'data-queue': d.isNew ? undefined : d.id, 'data-new': d.isNew || undefined, 'aria-labelledby': 'queue-editor-title', novalidate: true },
          onsubmit: (e: SubmitEvent) => {
            e.preventDefault();
            void this.saveQueue(false);
          },
        },
        h('h3', { id: 'queue-editor-title' }, title),
        d.isNew ? null : h('p', { class: 'muted' }, d.added ? t('queue.added.note') : d.customized.length ? t('queue.customized.note', { list: list(d.customized.map(settingLabel)) }) : t('queue.asfile.note')),
        h(
          'div',
          { class: 'form-grid' },
          id,
          pick('strategy', strategies, 'strategy'),
          kNumberKeys.map(numberField),
          pick('join_empty', policies, 'empty'),
          pick('leave_empty', policies, 'empty'),
        ),
        h(
          'fieldset',
          { class: 'skills-set', attrs: invalid('skills') },
          h('legend', null, t('queue.skills')),
          skillRows.length ? skillRows : h('p', { class: 'muted' }, t('queue.skills.none')),
          h('button', { type: 'button', class: 'secondary small', id: 'q-skill-add', onclick: () => { d.skills.push({ name: '', level: '1' }); this.renderQueueEditor(); } }, t('queue.skill.add')),
          h('small', { class: 'hint' }, t('queue.skills.hint')),
        ),
        h('div', { class: 'form-grid wide' }, field(t('queue.dispositions'), dispositions, t('queue.dispositions.hint')), field(t('queue.script'), script, t('queue.script.hint'))),
        h('p', { class: 'form-error', id: 'queue-error', attrs: { role: 'alert', 'data-testid': 'queue-error' } }, d.error ? this.queueErrorText(d.error) : ''),
        d.notice ? h('p', { class: 'notice', attrs: { role: 'status', 'data-testid': 'queue-notice' } }, d.notice) : null,
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'submit', class: 'primary', id: 'queue-save', disabled: d.busy }, d.isNew ? t('queue.create') : t('admin.save')),
          h('button', { type: 'button', class: 'secondary', id: 'queue-check', disabled: d.busy, onclick: () => void this.saveQueue(true) }, t('admin.flow.check')),
          h('button', { type: 'button', class: 'secondary', id: 'queue-cancel', onclick: () => this.closeQueueEditor() }, t('admin.cancel')),
          h('span', { class: 'spacer' }),
          canRevert
            ? h('button', { type: 'button', class: 'danger', id: 'queue-revert', disabled: d.busy, onclick: () => void this.revertQueue() }, d.added ? t('queue.remove') : t('queue.revert'))
            : null,
        ),
      ),
    );
  }

  /** The server's refusal as the form shows it. `line` of the answer counts lines of the request's
   * text, which the form does not show: a code of the dispositions is named by its line in the box. */
  private queueError(d: QueueDraft, e: unknown): QueueDraft['error'] {
    if (!(e instanceof ApiError) || (e.status !== 400 && e.status !== 409)) return { message: errorText(e) };
    const m = e.field ? /^dispositions\[(\d+)\]$/.exec(e.field) : null;
    const line = m ? d.dispositionLines[Number(m[1])] : undefined;
    // The path's {name} is the queue's id.
    return { message: e.message, field: e.field === 'name' ? 'id' : e.field, line };
  }

  private queueErrorText(e: { message: string; field?: string; line?: number }): string {
    if (!e.field) return e.message;
    const name = settingLabel(e.field);
    const what = name === e.field ? e.field : `${name} (${e.field})`;
    return e.line !== undefined ? t('queue.error.line', { field: what, line: num(e.line), error: e.message }) : t('queue.error', { field: what, error: e.message });
  }

  /** The form as the API's keys, or the key of the first value that is not a number. */
  private formSettings(d: QueueDraft): QueueSettings | { bad: NumberKey } {
    const numbers = {} as Record<NumberKey, number>;
    for (const k of kNumberKeys) {
      const v = d.numbers[k].trim();
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) return { bad: k };
      numbers[k] = n;
    }
    const skills: Record<string, number> = {};
    for (const s of d.skills) if (s.name.trim()) skills[s.name.trim()] = Number(s.level);
    // Blank lines are left out; each code's line in the box, to name it in an error.
    const dispositions: string[] = [];
    d.dispositionLines = [];
    d.dispositions.split('\n').forEach((x, i) => {
      if (!x.trim()) return;
      dispositions.push(x.trim());
      d.dispositionLines.push(i + 1);
    });
    return {
      strategy: d.strategy,
      ...numbers,
      join_empty: d.join_empty,
      leave_empty: d.leave_empty,
      skills,
      dispositions,
      script: d.script,
    };
  }

  /** PUT (or only checks): a new queue or one made here sends every key; a queue of the file the
   * keys changed in the form and those already set here, so the rest keeps following the file. */
  private async saveQueue(check: boolean): Promise<void> {
    const d = this.queueDraft;
    if (!d || d.busy) return;
    d.notice = '';
    d.error = null;
    const id = d.id.trim();
    if (d.isNew) {
      const taken = this.queues.state === 'ok' && this.queues.value.queues.some((q) => q.id === id);
      if (!kQueueId.test(id) || taken) {
        d.error = { message: taken ? t('queue.id.taken') : t('queue.id.hint'), field: 'id' };
        return this.renderQueueEditor();
      }
    }
    const form = this.formSettings(d);
    if ('bad' in form) {
      d.error = { message: t('queue.number'), field: form.bad };
      return this.renderQueueEditor();
    }
    const body: Partial<Record<QueueSettingKey, unknown>> = {};
    for (const k of kSettingKeys) {
      if (d.isNew || d.added || d.customized.includes(k) || !same(form[k], d.base[k])) body[k] = form[k];
    }
    if (Object.keys(body).length === 0) {
      d.notice = t('queue.unchanged');
      return this.renderQueueEditor();
    }
    d.busy = true;
    this.renderQueueEditor();
    try {
      await api.putQueue(this.tenant, id, body as Partial<QueueSettings>, check);
      d.busy = false;
      if (check) {
        d.notice = t('queue.valid');
        return this.renderQueueEditor();
      }
      this.queueDraft = null;
      this.ctx.flash(t(d.isNew ? 'queue.created' : 'queue.saved', { queue: id }), 'info');
      await this.loadQueues();
    } catch (e) {
      d.busy = false;
      d.error = this.queueError(d, e);
      if (this.queueDraft === d) this.renderQueueEditor();
    }
  }

  /** DELETE: the configuration file's settings again (a queue made here is removed). */
  private async revertQueue(): Promise<void> {
    const d = this.queueDraft;
    if (!d || d.busy) return;
    d.busy = true;
    d.error = null;
    this.renderQueueEditor();
    try {
      await api.deleteQueue(this.tenant, d.id);
      this.queueDraft = null;
      this.ctx.flash(t(d.added ? 'queue.removed' : 'queue.reverted', { queue: d.id }), 'info');
      await this.loadQueues();
    } catch (e) {
      d.busy = false;
      d.error = this.queueError(d, e);
      if (this.queueDraft === d) this.renderQueueEditor();
    }
  }

  // ---------------------------------------------------------------- agents

  private renderAgents(): void {
    const l = this.agents;
    if (!this.status(l, this.boxes.agents)) return;
    const message = this.agentsMessage
      ? h('p', { class: 'form-error', attrs: { role: 'alert', 'data-testid': 'agents-error' } }, this.agentsMessage)
      : null;
    if (l.value.length === 0) return replace(this.boxes.agents, message, h('p', { class: 'muted' }, t('admin.noagents')));
    replace(
      this.boxes.agents,
      message,
      this.table(
        [t('col.agent'), t('col.name'), t('col.queues'), t('col.skills'), t('admin.capacity'), ''],
        l.value.flatMap((a) => {
          const custom = a.customized ?? [];
          const mark = a.added
            ? h('span', { class: 'badge added', attrs: { 'data-testid': 'agent-mark' } }, t('agent.added'))
            : custom.length
              ? h('span', { class: 'badge changed', title: list(custom), attrs: { 'data-testid': 'agent-mark' } }, t('queue.customized', { n: custom.length }))
              : null;
          const row = h(
            'tr',
            { attrs: { 'data-agent': a.extension, 'data-added': a.added || undefined, 'data-customized': custom.length ? custom.join(' ') : undefined } },
            h('th', { scope: 'row' }, phone(a.extension), mark),
            h('td', null, a.name ?? ''),
            h('td', null, list(memberships(a).map((m) => (m.tier > 1 ? `${m.queue} (${t('admin.tier', { n: m.tier })})` : m.queue))) || '—'),
            h('td', null, list(Object.entries(a.skills ?? {}).map(([s, lv]) => `${s} ${num(lv)}`)) || '—'),
            h('td', { attrs: { 'data-testid': 'agent-capacity' } }, capacityText(a) || '—'),
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                { type: 'button', class: 'secondary', attrs: { 'data-testid': 'edit-agent' }, onclick: () => { this.editing = startEdit(a); this.renderAgents(); } },
                t('admin.edit'),
              ),
              a.added
                ? [
                    ' ',
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        attrs: { 'data-testid': 'remove-agent', 'aria-label': t('agent.remove.for', { agent: a.extension }) },
                        onclick: () => void this.removeAgent(a.extension),
                      },
                      t('agent.remove'),
                    ),
                  ]
                : null,
            ),
          );
          if (this.editing?.extension !== a.extension) return [row];
          const ids = this.queues.state === 'ok' ? this.queues.value.queues.map((q) => q.id) : [];
          return [row, editorRow(this.editing, ids, 6, () => void this.saveAgent(), () => { this.editing = null; this.renderAgents(); }, true)];
        }),
      ),
    );
  }

  /** DELETE .../agents/{agent}, after asking: only an agent made here. The server's refusal (an
   * agent of the configuration file, or one with a contact) is shown above the table. */
  private async removeAgent(extension: string): Promise<void> {
    if (!window.confirm(t('agent.remove.confirm', { agent: extension }))) return;
    this.agentsMessage = '';
    try {
      await api.deleteAgent(this.tenant, extension);
      if (this.editing?.extension === extension) this.editing = null;
      this.ctx.flash(t('agent.removed', { agent: extension }), 'info');
    } catch (e) {
      this.agentsMessage = e instanceof ApiError && (e.status === 400 || e.status === 409) ? t('agent.remove.refused', { agent: extension, error: e.message }) : errorText(e);
    }
    await this.loadAgents();
  }

  private newAgent(): void {
    this.agentDraft = { extension: '', name: '', password: '', queues: new Map(), signin: '', error: null, made: false, busy: false };
    this.renderAgentForm();
    requestAnimationFrame(() => this.boxes.agentForm.querySelector<HTMLElement>('input')?.focus());
  }

  /** The form of a new agent: extension, name, SIP password, queues and tiers, and the sign-in
   * for the agent desktop (a web user of role agent whose username is the extension). */
  private renderAgentForm(): void {
    const d = this.agentDraft;
    const box = this.boxes.agentForm;
    if (!d) return replace(box);
    const errKey = d.error?.field ? (d.error.field.split(/[.[]/)[0] ?? '') : '';
    const invalid = (key: string) => (errKey === key ? { 'aria-invalid': 'true', 'aria-describedby': 'agent-error' } : {});
    const input = (key: 'extension' | 'name' | 'password' | 'signin', props: Props<'input'>) => {
      const el = h('input', { ...props, id: `a-${key}`, value: d[key], disabled: d.made && key !== 'signin', attrs: { name: key, ...props?.attrs, ...invalid(key) } });
      el.addEventListener('input', () => (d[key] = el.value));
      return el;
    };
    const extension = input('extension', { required: true, maxLength: 15, attrs: { dir: 'ltr', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]{1,15}' } });
    const name = input('name', { maxLength: 100, attrs: { dir: 'auto', autocomplete: 'off' } });
    const password = input('password', { type: 'password', required: true, maxLength: 64, attrs: { dir: 'ltr', autocomplete: 'new-password' } });
    const signin = input('signin', { type: 'password', maxLength: 128, attrs: { dir: 'ltr', autocomplete: 'new-password' } });
    const ids = this.queues.state === 'ok' ? this.queues.value.queues.map((q) => q.id) : [];
    const error = d.error ? this.agentErrorText(d.error) : '';
    replace(
      box,
      h(
        'form',
        {
          id: 'agent-form',
          class: 'queue-editor',
          attrs: { 'aria-labelledby': 'agent-form-title', novalidate: true },
          onsubmit: (e: SubmitEvent) => {
            e.preventDefault();
            void this.createAgent();
          },
        },
        h('h3', { id: 'agent-form-title' }, t('agent.new.title')),
        h(
          'div',
          { class: 'form-grid' },
          field(t('agent.extension'), extension, t('agent.extension.hint')),
          field(t('col.name'), name),
          field(t('agent.password'), password, t('agent.password.hint')),
        ),
        h(
          'fieldset',
          { class: 'queue-set', disabled: d.made, attrs: invalid('queues') },
          h('legend', null, t('col.queues')),
          ids.length ? queueChoices(d.queues, ids) : h('p', { class: 'muted' }, t('admin.noqueues')),
        ),
        h('div', { class: 'form-grid' }, field(t('agent.signin'), signin, t('agent.signin.hint'))),
        d.made ? h('p', { class: 'notice', attrs: { role: 'status' } }, t('agent.made.nosignin', { agent: d.extension.trim() })) : null,
        h('p', { class: 'form-error', id: 'agent-error', attrs: { role: 'alert', 'data-testid': 'agent-error' } }, error),
        h(
          'div',
          { class: 'button-row' },
          h('button', { type: 'submit', class: 'primary', id: 'agent-create', disabled: d.busy }, d.made ? t('agent.create.signin') : t('agent.create')),
          h('button', { type: 'button', class: 'secondary', id: 'agent-cancel', onclick: () => { this.agentDraft = null; this.renderAgentForm(); } }, d.made ? t('agent.close') : t('admin.cancel')),
        ),
      ),
    );
  }

  /** "Extension (extension): must be 1 to 15 digits". */
  private agentErrorText(e: { message: string; field?: string }): string {
    if (!e.field) return e.message;
    const key = kAgentLabels[e.field.split(/[.[]/)[0] ?? ''];
    const what = e.field === 'signin' ? t('agent.signin') : key ? `${t(key)} (${e.field})` : e.field;
    return t('queue.error', { field: what, error: e.message });
  }

  /** POST .../agents, then (when a sign-in was typed) POST .../users with role agent. */
  private async createAgent(): Promise<void> {
    const d = this.agentDraft;
    if (!d || d.busy) return;
    const extension = d.extension.trim();
    const name = d.name.trim();
    d.error = null;
    if (d.signin && this.users.state === 'ok' && this.users.value.some((u) => u.username === extension)) {
      d.error = { message: t('agent.signin.taken', { username: extension }), field: 'signin' };
      return this.renderAgentForm();
    }
    d.busy = true;
    this.renderAgentForm();
    if (!d.made) {
      try {
        const body: NewAgent = { extension, password: d.password };
        if (name) body.name = name;
        if (d.queues.size) body.queues = [...d.queues.entries()].map(([queue, tier]) => ({ queue, tier }));
        await api.addAgent(this.tenant, body);
        d.made = true;
        void this.loadAgents();
      } catch (e) {
        d.busy = false;
        d.error =
          e instanceof ApiError && e.status === 409
            ? { message: e.message || t('agent.taken'), field: 'extension' }
            : e instanceof ApiError && e.status === 400
              ? { message: e.message, field: e.field }
              : { message: errorText(e) };
        if (this.agentDraft === d) this.renderAgentForm();
        return;
      }
    }
    if (d.signin) {
      try {
        await api.addUser(this.tenant, { username: extension, role: 'agent', password: d.signin, name: name || extension });
        void this.loadUsers();
      } catch (e) {
        d.busy = false;
        d.error = {
          message: e instanceof ApiError && e.status === 409 ? t('admin.taken') : e instanceof ApiError && e.status === 400 ? e.message : errorText(e),
          field: 'signin',
        };
        if (this.agentDraft === d) this.renderAgentForm();
        return;
      }
    }
    if (this.agentDraft === d) this.agentDraft = null;
    this.ctx.flash(t(d.signin ? 'agent.created.signin' : 'agent.created', { agent: extension }), 'info');
    this.renderAgentForm();
    await this.loadAgents();
  }

  private async saveAgent(): Promise<void> {
    const e = this.editing;
    if (!e) return;
    if (await saveEdit(this.tenant, e)) {
      this.editing = null;
      this.ctx.flash(t('admin.agentsaved', { agent: e.extension }), 'info');
      await this.loadAgents();
      return;
    }
    this.renderAgents();
  }

  // ---------------------------------------------------------------- flows, calendars, numbers

  /** The flows, business-hours calendars and numbers in use; an upload can be removed. */
  private renderLists(): void {
    const detail: Record<UploadKind, (u: UploadInfo) => string> = {
      flows: (u) => u.start ?? '',
      calendars: (u) => u.zone ?? '',
      numbers: (u) => u.flow ?? '',
    };
    const heads: Record<UploadKind, [Key, Key, Key]> = {
      flows: ['admin.list.flows', 'admin.flow.name', 'admin.flow.start'],
      calendars: ['admin.list.calendars', 'admin.flow.name', 'admin.calendar.zone'],
      numbers: ['admin.list.numbers', 'admin.number', 'admin.number.flow'],
    };
    const attr: Record<UploadKind, string> = { flows: 'data-flow', calendars: 'data-calendar', numbers: 'data-number' };
    replace(
      this.boxes.lists,
      kUploadKinds.map((kind) => {
        const l = this.uploads[kind];
        const [title, nameCol, detailCol] = heads[kind];
        const body =
          l.state !== 'ok'
            ? h('p', { class: l.state === 'error' ? 'form-error' : 'muted' }, l.state === 'error' ? l.message : t('common.loading'))
            : l.value.length === 0
              ? h('p', { class: 'muted' }, t('admin.list.none'))
              : h(
                  'div',
                  { class: 'table-wrap' },
                  this.table(
                    [t(nameCol), t(detailCol), ''],
                    l.value.map((u) =>
                      h(
                        'tr',
                        { attrs: { [attr[kind]]: u.name, 'data-uploaded': u.uploaded || undefined } },
                        h('th', { scope: 'row' }, kind === 'numbers' ? phone(u.name) : h('bdi', null, u.name)),
                        h('td', null, h('bdi', null, detail[kind](u) || '—')),
                        h(
                          'td',
                          { class: 'upload-state' },
                          u.uploaded
                            ? [
                                h('span', { class: 'badge added' }, t('admin.uploaded')),
                                ' ',
                                h(
                                  'button',
                                  { type: 'button', class: 'secondary small', attrs: { 'aria-label': `${t('admin.flow.remove')}: ${u.name}` }, onclick: () => void this.removeUpload(kind, u.name) },
                                  t('admin.flow.remove'),
                                ),
                              ]
                            : h('span', { class: 'muted' }, t('admin.flow.infile')),
                        ),
                      ),
                    ),
                  ),
                );
        return h('div', { class: 'upload-list', attrs: { 'data-kind': kind } }, h('h3', null, t(title)), body);
      }),
    );
  }

  /** The form to check or upload a flow, a calendar or a number's route (YAML, as in the file). */
  private renderUpload(): void {
    const d = this.flowDraft;
    const kind = h(
      'select',
      { id: 'upload-kind' },
      kUploadKinds.map((k) => h('option', { value: k, selected: d.kind === k }, t(`admin.kind.${k}`))),
    );
    kind.addEventListener('change', () => (d.kind = kind.value as UploadKind));
    const name = h('input', { type: 'text', id: 'flow-name', value: d.name, attrs: { pattern: '[a-z0-9_\\-]{1,64}', dir: 'ltr' } });
    name.addEventListener('input', () => (d.name = name.value));
    const yaml = h('textarea', { id: 'flow-yaml', rows: 10, value: d.yaml, class: 'code', attrs: { dir: 'ltr', spellcheck: 'false' } });
    yaml.addEventListener('input', () => (d.yaml = yaml.value));
    replace(
      this.boxes.upload,
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
      if (!check) await this.loadUploads();
    } catch (e) {
      d.error = true;
      d.message = e instanceof ApiError && e.line !== undefined
        ? t('admin.flow.error', { line: num(e.line), field: e.field ?? '', error: e.message })
        : errorText(e);
    }
    this.renderUpload();
  }

  private async removeUpload(kind: UploadKind, name: string): Promise<void> {
    const d = this.flowDraft;
    try {
      await api.deleteUpload(this.tenant, kind, name);
      d.message = t('admin.flow.removed', { flow: name });
      d.error = false;
      await this.loadUploads();
    } catch (e) {
      d.message = errorText(e);
      d.error = true;
    }
    this.renderUpload();
  }
}
