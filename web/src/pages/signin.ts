// Sign-in: tenant (empty for a server admin), username, password → POST /api/v1/auth/login.
// Keeps the CSRF token of the sign-in in sessionStorage (session.ts); the session token stays in
// the server's HttpOnly cookie.

import { api, ApiError } from '../api';
import { field, h, replace } from '../dom';
import { t } from '../i18n';
import { saveSession, type Session } from '../session';
import { type Page, preferenceControls } from '../shell';

export interface SignInOptions {
  signedIn(s: Session): void;
  /** A message to show above the form (signed out, session ended). */
  message: string;
}

const kLastTenant = 'tamas.last-tenant';

export class SignInPage implements Page {
  private tenant = localStorage.getItem(kLastTenant) ?? '';
  private username = '';
  private error = '';
  private busy = false;
  private root: HTMLElement | null = null;

  constructor(private readonly options: SignInOptions) {}

  render(): Node {
    const tenant = h('input', {
      name: 'tenant',
      attrs: { autocomplete: 'organization', 'aria-describedby': 'tenant-hint', dir: 'auto' },
      value: this.tenant,
      oninput: () => (this.tenant = tenant.value),
    });
    const username = h('input', {
      name: 'username',
      attrs: { autocomplete: 'username', dir: 'auto' },
      required: true,
      value: this.username,
      oninput: () => (this.username = username.value),
    });
    const password = h('input', { name: 'password', type: 'password', attrs: { autocomplete: 'current-password' }, required: true });
    const error = h('p', { class: 'form-error', id: 'signin-error', attrs: { role: 'alert' } }, this.error);
    const submit = h('button', { type: 'submit', class: 'primary', disabled: this.busy }, t('signin.submit'));
    const form = h(
      'form',
      {
        class: 'card signin-card',
        attrs: { 'aria-labelledby': 'signin-title' },
        onsubmit: (e: SubmitEvent) => {
          e.preventDefault();
          void this.submit(tenant.value.trim(), username.value.trim(), password.value, error, submit);
        },
      },
      h('h1', { id: 'signin-title' }, t('signin.title')),
      this.options.message ? h('p', { class: 'notice' }, this.options.message) : null,
      field(t('signin.tenant'), tenant),
      h('small', { class: 'hint', id: 'tenant-hint' }, t('signin.tenant.hint')),
      field(t('signin.username'), username),
      field(t('signin.password'), password),
      error,
      submit,
    );
    this.root = h(
      'div',
      { class: 'signin' },
      h('header', { class: 'signin-top' }, h('span', { class: 'brand' }, t('app.name')), preferenceControls()),
      h('main', { id: 'page' }, form),
    );
    queueMicrotask(() => (this.username ? password : username).focus());
    return this.root;
  }

  private async submit(
    tenant: string,
    username: string,
    password: string,
    errorEl: HTMLElement,
    button: HTMLButtonElement,
  ): Promise<void> {
    if (!username || !password) {
      this.error = t('signin.missing');
      replace(errorEl, this.error);
      return;
    }
    this.busy = true;
    button.disabled = true;
    replace(errorEl);
    try {
      const a = await api.login(tenant, username, password);
      localStorage.setItem(kLastTenant, tenant);
      const s: Session = { tenant: a.tenant, username: a.username, role: a.role, csrf: a.csrf };
      saveSession(s);
      this.options.signedIn(s);
    } catch (e) {
      this.error = signInError(e);
      replace(errorEl, this.error);
    } finally {
      this.busy = false;
      button.disabled = false;
    }
  }

  destroy(): void {
    this.root = null;
  }
}

function signInError(e: unknown): string {
  if (!(e instanceof ApiError)) return t('error.unexpected');
  switch (e.status) {
    case 0:
      return t('error.network');
    case 401:
      return t('signin.wrong');
    case 429:
      return t('signin.locked');
    case 400:
      return t('signin.missing');
    default:
      return t('error.server', { status: e.status });
  }
}
