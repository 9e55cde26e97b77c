// The app: client-side routes (/signin, /agent, /wallboard, /admin, /home), the session check
// and the frame. The server sends index.html for every non-API path, so a reload keeps the page.
//
// Access: a role opens only its pages (session.ts mayOpen, the same roles the API grants);
// any other page sends it to its own with a message. A 401 from any call signs out.

import { api, onUnauthorized } from './api';
import { startTicker } from './dates';
import { h } from './dom';
import { applyLangToDocument, type Key, onLangChange, t } from './i18n';
import { AdminPage } from './pages/admin';
import { AgentPage } from './pages/agent';
import { HomePage } from './pages/home';
import { SignInPage } from './pages/signin';
import { WallboardPage } from './pages/wallboard';
import { clearSession, currentTenant, homeOf, loadSession, mayOpen, type Session } from './session';
import { type Page, type PageContext, renderShell, type ShellParts, showFlash, showStreamState } from './shell';
import type { StreamState } from './stream';

const app = document.getElementById('app') as HTMLElement;

let page: Page | null = null;
let shell: ShellParts | null = null;
let pendingFlash: { message: string; kind: 'info' | 'error' } | null = null;
let streamState: StreamState | null = null;
let currentPath = '';

type PageName = 'agent' | 'wallboard' | 'admin';
const factories: Record<PageName | 'home', (ctx: PageContext) => Page> = {
  agent: (ctx) => new AgentPage(ctx),
  wallboard: (ctx) => new WallboardPage(ctx),
  admin: (ctx) => new AdminPage(ctx),
  home: (ctx) => new HomePage(ctx),
};
const deniedMessage: Record<PageName, Key> = {
  agent: 'access.agent',
  wallboard: 'access.wallboard',
  admin: 'access.admin',
};

function navigate(path: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', path);
  else if (path !== location.pathname) history.pushState(null, '', path);
  route(path);
}

function flashNext(message: string, kind: 'info' | 'error' = 'info'): void {
  pendingFlash = { message, kind };
}

function teardown(): void {
  page?.destroy();
  page = null;
  shell = null;
  streamState = null;
}

function route(path: string): void {
  teardown();
  currentPath = path;
  const session = loadSession();
  if (!session) {
    if (path !== '/signin') history.replaceState(null, '', '/signin');
    currentPath = '/signin';
    mountSignIn();
    return;
  }
  if (path === '/' || path === '/signin' || path === '') {
    navigate(homeOf(session.role), true);
    return;
  }
  const name = path.replace(/^\/+/, '').split('/')[0] ?? '';
  if (name === 'agent' || name === 'wallboard' || name === 'admin') {
    if (!mayOpen(session.role, name)) {
      flashNext(t(deniedMessage[name]), 'error');
      navigate(homeOf(session.role), true);
      return;
    }
    mountPage(session, name);
  } else if (name === 'home') {
    mountPage(session, 'home');
  } else {
    flashNext(t('error.notfound'), 'error');
    navigate(homeOf(session.role), true);
  }
}

function mountSignIn(): void {
  const signIn = new SignInPage({
    signedIn: (s: Session) => navigate(homeOf(s.role), true),
    message: pendingFlash?.message ?? '',
  });
  pendingFlash = null;
  page = signIn;
  app.replaceChildren(signIn.render());
}

function mountPage(session: Session, name: PageName | 'home'): void {
  const ctx: PageContext = {
    session,
    tenant: currentTenant(session),
    navigate: (p) => navigate(p),
    flash: (m, kind) => shell && showFlash(shell.flash, m, kind),
    setStreamState: (s) => {
      streamState = s;
      if (shell) showStreamState(shell.streamDot, s);
    },
  };
  page = factories[name](ctx);
  drawFrame(session);
}

/** (Re)draws the frame and the page: on mount and after a change of language or calendar. */
function drawFrame(session: Session): void {
  if (!page) return;
  const oldFlash = shell?.flash;
  shell = renderShell(session, currentPath, (p) => navigate(p), signOut);
  if (oldFlash?.dataset['kind'] && oldFlash.firstChild) {
    shell.flash.replaceWith(oldFlash);
    shell.flash = oldFlash;
  }
  showStreamState(shell.streamDot, streamState);
  shell.main.append(page.render());
  app.replaceChildren(shell.root);
  if (pendingFlash) {
    showFlash(shell.flash, pendingFlash.message, pendingFlash.kind);
    pendingFlash = null;
  }
}

/** True while the sign-out button's logout is under way: the 401s it causes (the stream dropped
 * by the server and the page's check of the session) are not "your session has ended". */
let signingOut = false;

async function signOut(): Promise<void> {
  if (signingOut) return;
  signingOut = true;
  teardown(); // closes the page's stream before the server ends the session
  try {
    await api.logout();
  } catch {
    // signed out either way
  }
  clearSession();
  flashNext(t('signin.signedout'));
  navigate('/signin', true);
  signingOut = false;
}

function start(): void {
  applyLangToDocument();
  startTicker();
  onLangChange(() => {
    applyLangToDocument();
    const session = loadSession();
    if (session && page && shell) drawFrame(session);
    else if (page) app.replaceChildren(page.render());
  });
  // api.ts calls this on any 401 but the sign-in's own. A late one, after the session was
  // cleared here (a call still in flight when the user signed out), changes nothing.
  let ending = false;
  onUnauthorized(() => {
    if (ending || signingOut || !loadSession()) return;
    ending = true;
    clearSession();
    flashNext(t('signin.expired'), 'error');
    navigate('/signin', true);
    ending = false;
  });
  window.addEventListener('popstate', () => route(location.pathname));
  route(location.pathname);
  // A session kept in this tab may have ended on the server (restart, expiry): check once.
  if (loadSession()) api.me().catch(() => {});
}

app.replaceChildren(h('p', { class: 'loading' }, '…'));
start();
