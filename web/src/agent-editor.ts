// The agent editor of the administration page and the wallboard: the agent's name, a new SIP
// password (left empty: unchanged), a box and a tier for each of the tenant's queues, the skills as
// "english 5, sales 3" and the contacts of each channel the agent takes at once (0..100), saved with
// PUT .../agents/{agent} (in effect at once). The page owns the state and redraws; this module draws
// and saves. The queue boxes are shared with the administration page's form for a new agent.

import { type AgentChange, type AgentSetup, api, type Channel, channels } from './api';
import { field, h } from './dom';
import { type Key, list, num, t } from './i18n';
import { errorText } from './format';

export interface AgentEdit {
  extension: string;
  /** The name as typed, and as the server had it (sent only when changed). */
  name: string;
  savedName: string;
  /** A new SIP password; '' leaves it as it is. */
  password: string;
  queues: Map<string, number>;  // queue id -> tier
  skills: string;
  /** As typed, per channel; '' when the server did not say and nothing was typed. */
  capacity: Record<Channel, string>;
  error: string;
}

/** The agent's memberships, whatever form the API gave them in. */
export function memberships(a: AgentSetup): { queue: string; tier: number }[] {
  return (a.queues ?? []).map((m) => (typeof m === 'string' ? { queue: m, tier: 1 } : { queue: m.queue, tier: m.tier ?? 1 }));
}

/** "voice 1, chat 2, …" for a table cell; '' when the server gave no capacity. */
export function capacityText(a: AgentSetup): string {
  const c = a.capacity ?? {};
  return list(channels.filter((ch) => c[ch] !== undefined).map((ch) => `${t(`channel.${ch}` as Key)} ${num(c[ch] ?? 0)}`));
}

export function startEdit(a: AgentSetup): AgentEdit {
  const skills = Object.entries(a.skills ?? {}).map(([s, lv]) => `${s} ${lv}`).join(', ');
  const capacity = Object.fromEntries(channels.map((ch) => [ch, a.capacity?.[ch] !== undefined ? String(a.capacity[ch]) : ''])) as Record<Channel, string>;
  return {
    extension: a.extension,
    name: a.name ?? '',
    savedName: a.name ?? '',
    password: '',
    queues: new Map(memberships(a).map((m) => [m.queue, m.tier])),
    skills,
    capacity,
    error: '',
  };
}

/** A box and a tier (1..100) for each queue of `queueIds`, kept in `queues` (queue id -> tier). */
export function queueChoices(queues: Map<string, number>, queueIds: string[]): HTMLElement {
  const all = queueIds.length > 0 ? queueIds : [...queues.keys()];
  return h(
    'div',
    { class: 'queue-choices' },
    all.map((id) => {
      const box = h('input', { type: 'checkbox', checked: queues.has(id), attrs: { 'data-queue': id } });
      const tier = h('input', { type: 'number', min: '1', max: '100', value: String(queues.get(id) ?? 1), class: 'tier', attrs: { dir: 'ltr', 'aria-label': t('admin.tier.of', { queue: id }) } });
      box.addEventListener('change', () => (box.checked ? queues.set(id, Number(tier.value) || 1) : queues.delete(id)));
      tier.addEventListener('input', () => queues.has(id) && queues.set(id, Number(tier.value) || 1));
      return h('label', { class: 'queue-choice' }, box, ` ${id} `, tier);
    }),
  );
}

/** A table row spanning `columns`, with Save (calls `save`) and Cancel (calls `cancel`). The
 * name and the SIP password are offered only with `account` (admins and managers: the server
 * refuses them from a supervisor). */
export function editorRow(e: AgentEdit, queueIds: string[], columns: number, save: () => void, cancel: () => void, account = false): HTMLElement {
  const name = h('input', { type: 'text', value: e.name, maxLength: 100, attrs: { 'data-testid': 'agent-name', dir: 'auto', autocomplete: 'off' } });
  name.addEventListener('input', () => (e.name = name.value));
  const password = h('input', {
    type: 'password',
    value: e.password,
    maxLength: 64,
    attrs: { 'data-testid': 'agent-password', autocomplete: 'new-password', dir: 'ltr' },
  });
  password.addEventListener('input', () => (e.password = password.value));
  const skills = h('input', { type: 'text', value: e.skills, attrs: { 'data-testid': 'agent-skills' } });
  skills.addEventListener('input', () => (e.skills = skills.value));
  const capacity = channels.map((ch) => {
    const input = h('input', {
      type: 'number',
      min: '0',
      max: '100',
      step: '1',
      value: e.capacity[ch],
      class: 'capacity',
      attrs: { 'data-testid': `capacity-${ch}`, dir: 'ltr' },
    });
    input.addEventListener('input', () => (e.capacity[ch] = input.value));
    return field(t(`channel.${ch}` as Key), input);
  });
  return h(
    'tr',
    { class: 'agent-editor', attrs: { 'data-editor': e.extension } },
    h(
      'td',
      { attrs: { colspan: String(columns) } },
      account ? h('div', { class: 'agent-fields' }, field(t('col.name'), name), field(t('agent.password.new'), password, t('agent.password.new.hint'))) : null,
      queueChoices(e.queues, queueIds),
      field(t('col.skills'), skills, t('admin.skills.hint')),
      h(
        'fieldset',
        { class: 'capacity-set' },
        h('legend', null, t('admin.capacity')),
        h('div', { class: 'capacity-fields' }, capacity),
        h('small', { class: 'hint' }, t('admin.capacity.hint')),
      ),
      e.error ? h('p', { class: 'form-error', attrs: { role: 'alert' } }, e.error) : null,
      h('button', { type: 'button', onclick: save }, t('admin.save')),
      ' ',
      h('button', { type: 'button', class: 'secondary', onclick: cancel }, t('admin.cancel')),
    ),
  );
}

/** Saves the edit; true when the server took it, else e.error says why. */
export async function saveEdit(tenant: string, e: AgentEdit): Promise<boolean> {
  const skills: Record<string, number> = {};
  for (const part of e.skills.split(/[,،]/).map((x) => x.trim()).filter(Boolean)) {
    const m = /^(.+?)\s+(\d+)$/.exec(part);
    if (!m || !m[1] || !m[2]) {
      e.error = t('admin.skills.bad', { part });
      return false;
    }
    skills[m[1]] = Number(m[2]);
  }
  // Channels left empty are not sent (they keep what the agent has); the server checks 0..100.
  const capacity: Partial<Record<Channel, number>> = {};
  for (const ch of channels) {
    const v = e.capacity[ch].trim();
    if (v === '') continue;
    if (!/^\d+$/.test(v)) {
      e.error = t('admin.capacity.bad', { channel: t(`channel.${ch}` as Key) });
      return false;
    }
    capacity[ch] = Number(v);
  }
  const queues = [...e.queues.entries()].map(([queue, tier]) => ({ queue, tier }));
  const change: AgentChange = { skills, queues };
  if (Object.keys(capacity).length) change.capacity = capacity;
  // The name only when changed, the SIP password only when typed (the server checks both).
  if (e.name.trim() !== e.savedName) change.name = e.name.trim();
  if (e.password !== '') change.password = e.password;
  try {
    await api.updateAgent(tenant, e.extension, change);
    return true;
  } catch (err) {
    e.error = errorText(err);
    return false;
  }
}
