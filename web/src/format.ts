// Shared bits of presentation: state badges, IVR paths, error messages of API calls.

import { ApiError } from './api';
import { h } from './dom';
import { digits, t, tDynamic } from './i18n';

/** A badge for an agent's status and state: "Available · on a contact". */
export function stateBadge(status: string, state: string, reason: string): HTMLElement {
  const label =
    status === 'break'
      ? `${t('status.break')}${reason && reason !== 'break' ? ` · ${tDynamic('reason', reason)}` : ''}`
      : status === 'available' && state && state !== 'idle'
        ? tDynamic('state', state)
        : tDynamic('status', status);
  const tone = status === 'break' ? 'break' : status === 'logged-out' ? 'off' : state === 'idle' ? 'ready' : 'busy';
  return h('span', { class: `badge ${tone}`, attrs: { 'data-status': status, 'data-state': state } }, label);
}

/** IVR choices "1>3" (or a list) as "1 › 3" in the language's digits. */
export function ivrPath(p: string | string[] | undefined): string {
  if (!p || (Array.isArray(p) && p.length === 0)) return '';
  const parts = Array.isArray(p) ? p : p.split('>');
  return parts.map((x) => digits(x.trim())).join(' › ');
}

/** A phone number or extension, kept left-to-right in RTL text, in the language's digits. */
export function phone(n: string): HTMLElement {
  return h('bdi', { class: 'phone', attrs: { dir: 'ltr' } }, digits(n));
}

/** A message for a failed API call, naming the field when the server did. */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return t('error.unexpected');
  if (e.status === 0) return t('error.network');
  if (e.status === 403) return t('error.forbidden');
  if (e.status === 404) return t('error.notfound');
  if (e.status === 409) return t('error.conflict');
  const detail = e.field ? `${e.field}: ${e.message}` : e.message;
  return t('error.detail', { detail });
}
