// Small typed DOM helpers: h() builds an element with properties and children, clear() empties
// one. No framework: each page builds its DOM from its own state and rebuilds it when the
// language changes.

export type Child = Node | string | number | null | undefined | false;

type Writable<T> = { -readonly [K in keyof T]?: T[K] };
export type Props<K extends keyof HTMLElementTagNameMap> = Omit<
  Writable<HTMLElementTagNameMap[K]>,
  'style' | 'dataset' | 'children' | 'classList'
> & {
  /** space-separated class names */
  class?: string;
  /** attributes set with setAttribute: aria-*, data-*, for, role, … */
  attrs?: Record<string, string | number | boolean | undefined>;
  style?: string;
};

/** Creates `<tag>` with `props` (properties, except attrs/class/style) and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props<K> | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    const { class: cls, attrs, style, ...rest } = props;
    if (cls) el.className = cls;
    if (style) el.setAttribute('style', style);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === false) continue;
        el.setAttribute(name, value === true ? '' : String(value));
      }
    }
    Object.assign(el, rest);
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened, null/undefined/false skipped). */
export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(parent, c);
    else if (c === null || c === undefined || c === false) continue;
    else parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Removes every child of `el`; returns it. */
export function clear<T extends Node>(el: T): T {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces the children of `el`. */
export function replace(el: Node, ...children: (Child | Child[])[]): void {
  clear(el);
  append(el, children);
}

let idCounter = 0;
/** A fresh id for label/input pairs. */
export function uid(prefix = 'f'): string {
  idCounter += 1;
  return `${prefix}${idCounter}`;
}

/** A labelled form field: `<div class="field"><label for>…</label>control</div>`. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = uid();
  return h(
    'div',
    { class: 'field' },
    h('label', { htmlFor: control.id }, label),
    control,
    hint ? h('small', { class: 'hint' }, hint) : null,
  );
}
