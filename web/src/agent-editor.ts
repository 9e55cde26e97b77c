// The agent editor of the administration page and the wallboard: a box and a tier for each of the
// tenant's queues, the skills as "english 5, sales 3" and the contacts of each channel the agent
// takes at once (0..100), saved with PUT .../agents/{agent} (in effect at once). The page owns the
// state and redraws; this module draws and saves.

import { type AgentSetup, api, type Channel, channels } from './api';
import { field, h } from './dom';
import { type Key, list, num, t } from './i18n';
import { errorText } from './format';

export interface AgentEdit {
  extension: string;
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
  return { extension: a.extension, queues: new Map(memberships(a).map((m) => [m.queue, m.tier])), skills, capacity, error: '' };
}

/** A table row spanning `columns`, with Save (calls `save`) and Cancel (calls `cancel`). */
export function editorRow(e: AgentEdit, queueIds: string[], columns: number, save: () => void, cancel: () => void): HTMLElement {
  const all = queueIds.length > 0 ? queueIds : [...e.queues.keys()];
  const rows = all.map((id) => {
    const box = h('input', { type: 'checkbox', checked: e.queues.has(id), attrs: { 'data-queue': id } });
    const tier = h('input', { type: 'number', min: '1', max: '100', value: String(e.queues.get(id) ?? 1), class: 'tier', attrs: { 'aria-label': t('admin.tier', { n: '' }).trim() } });
    box.addEventListener('change', () => (box.checked ? e.queues.set(id, Number(tier.value) || 1) : e.queues.delete(id)));
    tier.addEventListener('input', () => e.queues.has(id) && e.queues.set(id, Number(tier.value) || 1));
    return h('label', { class: 'queue-choice' }, box, ` ${id} `, tier);
  });
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
      h('div', { class: 'queue-choices' }, rows),
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
  try {
    await api.updateAgent(tenant, e.extension, Object.keys(capacity).length ? { skills, queues, capacity } : { skills, queues });
    return true;
  } catch (err) {
    e.error = errorText(err);
    return false;
  }
}
