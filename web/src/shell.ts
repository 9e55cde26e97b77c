// The frame around every signed-in page: the top bar (the pages the role may open, today's date
// in the chosen calendar, the stream's state, the language and calendar switches, who is signed
// in, sign out), a line for messages, and the page itself.

import { type Calendar, currentCalendar, fmtLongDate, setCalendar } from './dates';
import { h, replace } from './dom';
import { currentLang, type Key, type Lang, languages, setLang, t } from './i18n';
import { mayOpen, type Session } from './session';
import type { StreamState } from './stream';

export interface PageContext {
  session: Session;
  /** The tenant the page works on ('' when an admin has not picked one yet). */
  tenant: string;
  navigate(path: string): void;
  flash(message: string, kind?: 'info' | 'error'): void;
  setStreamState(s: StreamState | null): void;
}

export interface Page {
  /** Builds the page's DOM from its state; called again after a change of language. */
  render(): Node;
  destroy(): void;
}

const langNames: Record<Lang, string> = { en: 'English', fa: 'فارسی', ar: 'العربية' };

/** The language and calendar switches (also on the sign-in page). */
export function preferenceControls(): HTMLElement {
  const langSelect = h(
    'select',
    { id: 'lang', onchange: () => setLang(langSelect.value as Lang) },
    languages.map((l) => h('option', { value: l, selected: l === currentLang(), lang: l }, langNames[l])),
  );
  const calSelect = h(
    'select',
    { id: 'calendar', onchange: () => setCalendar(calSelect.value as Calendar) },
    (['persian', 'gregory'] as const).map((c) =>
      h('option', { value: c, selected: c === currentCalendar() }, t(c === 'persian' ? 'cal.persian' : 'cal.gregory')),
    ),
  );
  return h(
    'div',
    { class: 'prefs' },
    h('label', { class: 'visually-hidden', htmlFor: 'lang' }, t('prefs.language')),
    langSelect,
    h('label', { class: 'visually-hidden', htmlFor: 'calendar' }, t('prefs.calendar')),
    calSelect,
  );
}

export interface ShellParts {
  root: HTMLElement;
  main: HTMLElement;
  flash: HTMLElement;
  streamDot: HTMLElement;
}

export function renderShell(
  session: Session,
  active: string,
  navigate: (path: string) => void,
  signOut: () => void,
): ShellParts {
  const link = (path: string, key: Key) =>
    h(
      'a',
      {
        href: path,
        class: active === path ? 'active' : '',
        attrs: { 'aria-current': active === path ? 'page' : undefined },
        onclick: (e: MouseEvent) => {
          e.preventDefault();
          navigate(path);
        },
      },
      t(key),
    );
  const nav = h(
    'nav',
    { attrs: { 'aria-label': t('nav.label') } },
    mayOpen(session.role, 'agent') ? link('/agent', 'nav.agent') : null,
    mayOpen(session.role, 'wallboard') ? link('/wallboard', 'nav.wallboard') : null,
    mayOpen(session.role, 'admin') ? link('/admin', 'nav.admin') : null,
  );
  const streamDot = h('span', { class: 'stream-dot', attrs: { 'data-state': 'none', role: 'status' } });
  const flash = h('div', { class: 'flash', attrs: { role: 'status', 'aria-live': 'polite' } });
  const main = h('main', { id: 'page' });
  const root = h(
    'div',
    { class: 'shell' },
    h(
      'header',
      { class: 'topbar' },
      h('span', { class: 'brand' }, t('app.name')),
      nav,
      h('span', { class: 'spacer' }),
      h('time', { class: 'today', attrs: { 'data-testid': 'today' } }, fmtLongDate(new Date())),
      streamDot,
      preferenceControls(),
      h(
        'span',
        { class: 'who' },
        session.username,
        ' · ',
        t(`role.${session.role}` as Key),
        session.tenant ? ` · ${session.tenant}` : '',
      ),
      h('button', { type: 'button', class: 'ghost', id: 'signout', onclick: signOut }, t('nav.signout')),
    ),
    flash,
    main,
  );
  return { root, main, flash, streamDot };
}

export function showFlash(el: HTMLElement, message: string, kind: 'info' | 'error' = 'info'): void {
  if (!message) {
    replace(el);
    el.removeAttribute('data-kind');
    return;
  }
  el.dataset['kind'] = kind;
  replace(el, h('span', null, message), h('button', { type: 'button', class: 'ghost small', onclick: () => showFlash(el, '') , attrs: { 'aria-label': t('action.dismiss') } }, '×'));
}

export function showStreamState(dot: HTMLElement, s: StreamState | null): void {
  dot.dataset['state'] = s ?? 'none';
  const key: Key | null = s === 'open' ? 'stream.open' : s === 'connecting' ? 'stream.connecting' : s === 'down' ? 'stream.down' : null;
  dot.textContent = key ? t(key) : '';
  dot.title = dot.textContent;
}
