// Dates and durations. The calendar is a preference kept in localStorage: Persian (Jalali) or
// Gregorian; without one, Jalali for Persian and Gregorian otherwise. Formatting is Intl's
// (DateTimeFormat with `calendar`), in the language's digits.
//
// Ticking counters: an element with data-since="<epoch ms>" shows the time since then, updated
// every second by one timer for the whole page (startTicker), so pages need no timers of their own.

import { currentLang, locale, notifyLangListeners, num } from './i18n';

export type Calendar = 'persian' | 'gregory';
const kKey = 'tamas.calendar';

export function calendarPreference(): Calendar | null {
  const v = localStorage.getItem(kKey);
  return v === 'persian' || v === 'gregory' ? v : null;
}
export function currentCalendar(): Calendar {
  return calendarPreference() ?? (currentLang() === 'fa' ? 'persian' : 'gregory');
}
export function setCalendar(c: Calendar): void {
  localStorage.setItem(kKey, c);
  notifyLangListeners();
}

function format(d: Date, options: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(locale(), { calendar: currentCalendar(), ...options }).format(d);
}

function toDate(v: string | number | Date): Date | null {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A date and time, e.g. "۲ آذر ۱۴۰۴، ۱۴:۳۰". Empty for no or a bad date. */
export function fmtDateTime(v: string | number | Date): string {
  const d = toDate(v);
  return d ? format(d, { dateStyle: 'medium', timeStyle: 'short' }) : '';
}
/** The full date of a day, e.g. "Saturday 22 November 2025" or its Jalali form. */
export function fmtLongDate(v: string | number | Date): string {
  const d = toDate(v);
  return d ? format(d, { dateStyle: 'full' }) : '';
}
export function fmtTime(v: string | number | Date): string {
  const d = toDate(v);
  return d ? format(d, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) : '';
}

/** Seconds as m:ss or h:mm:ss in the language's digits. */
export function fmtDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number) => num(n, { minimumIntegerDigits: 2, useGrouping: false });
  // Durations read left to right in every language: isolate them in RTL text.
  const text = h > 0 ? `${num(h)}:${two(m)}:${two(sec)}` : `${num(m)}:${two(sec)}`;
  return `\u2066${text}\u2069`;
}

/** An element that shows the time since `sinceMs`, ticking. */
export function tickingSince(el: HTMLElement, sinceMs: number): HTMLElement {
  el.dataset['since'] = String(sinceMs);
  el.textContent = fmtDuration((Date.now() - sinceMs) / 1000);
  return el;
}

let ticker: number | undefined;
export function startTicker(): void {
  if (ticker !== undefined) return;
  ticker = window.setInterval(tickAll, 1000);
}
export function tickAll(): void {
  const now = Date.now();
  for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) {
    const since = Number(el.dataset['since']);
    if (Number.isFinite(since)) el.textContent = fmtDuration((now - since) / 1000);
  }
}
