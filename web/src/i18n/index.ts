// Languages: English, Persian and Arabic. Every string the UI shows comes from a catalogue
// (en.ts, fa.ts, ar.ts); the Catalogue type (from en.ts) makes a missing or extra key in
// fa.ts or ar.ts a compile error. Numbers are written in the language's own digits through
// Intl.NumberFormat. The choice is kept in localStorage; <html lang dir> follows it.

import { ar } from './ar';
import { en, type Catalogue } from './en';
import { fa } from './fa';

export type Lang = 'en' | 'fa' | 'ar';
export type Key = keyof Catalogue;
export const languages: readonly Lang[] = ['en', 'fa', 'ar'];

const catalogues: Record<Lang, Catalogue> = { en, fa, ar };
const kKey = 'tamas.lang';

/** BCP 47 tags used with Intl: Arabic with Arabic-Indic digits, Persian with Persian digits. */
const locales: Record<Lang, string> = { en: 'en-GB', fa: 'fa-IR', ar: 'ar-u-nu-arab' };

function initialLang(): Lang {
  const saved = localStorage.getItem(kKey);
  if (saved === 'en' || saved === 'fa' || saved === 'ar') return saved;
  const nav = (navigator.language || 'en').slice(0, 2);
  return nav === 'fa' || nav === 'ar' ? nav : 'en';
}

let lang: Lang = initialLang();
const listeners = new Set<() => void>();

export function currentLang(): Lang {
  return lang;
}
export function locale(): string {
  return locales[lang];
}
export function isRtl(l: Lang = lang): boolean {
  return l === 'fa' || l === 'ar';
}

/** Sets <html lang dir> for the current language. */
export function applyLangToDocument(): void {
  document.documentElement.lang = lang;
  document.documentElement.dir = isRtl() ? 'rtl' : 'ltr';
  document.title = t('app.title');
}

export function setLang(l: Lang): void {
  if (l === lang) return;
  lang = l;
  localStorage.setItem(kKey, l);
  applyLangToDocument();
  for (const fn of listeners) fn();
}

/** Runs `fn` after every change of language (or of calendar, see dates.ts). */
export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
export function notifyLangListeners(): void {
  for (const fn of listeners) fn();
}

const numberFormats = new Map<string, Intl.NumberFormat>();
/** `n` in the language's digits. */
export function num(n: number, options: Intl.NumberFormatOptions = {}): string {
  const key = `${lang}|${JSON.stringify(options)}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locales[lang], options);
    numberFormats.set(key, f);
  }
  return f.format(n);
}

/** Digits of a phone number or an extension in the language's numerals (the text stays a
 * number to copy: only the digits 0-9 are swapped). */
export function digits(s: string): string {
  if (lang === 'en') return s;
  const zero = lang === 'fa' ? 0x06f0 : 0x0660;
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(zero + d.charCodeAt(0) - 48));
}

/** The string of `key`, with {name} placeholders replaced (numbers in the language's digits). */
export function t(key: Key, vars?: Record<string, string | number>): string {
  let s: string = catalogues[lang][key];
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, name: string) => {
      const v = vars[name];
      if (v === undefined) return m;
      return typeof v === 'number' ? num(v) : v;
    });
  }
  return s;
}

/** A catalogue key built at run time (a state or role name from the server), or the raw text. */
export function tDynamic(prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  return key in en ? t(key as Key) : value;
}

/** Items (codes, names) joined with the language's comma: "a, b, c" / "a، b، c". Not
 * Intl.ListFormat: its Persian and Arabic lists put "and" (و) before the items. */
export function list(items: string[]): string {
  return items.join(isRtl() ? '، ' : ', ');
}
