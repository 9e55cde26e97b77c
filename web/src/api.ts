// The HTTP API (docs/api.md) as typed functions. Requests are signed in by the session cookie;
// anything but GET carries X-CSRF-Token. A 401 on any call but the sign-in itself ends the
// session here and returns to the sign-in page (through onUnauthorized, set by main.ts).

import { loadSession, type Role } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** For an uploaded flow: the line of the uploaded text at fault. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/** A request body sent as it is (a flow's YAML), not as JSON. */
export class RawText {
  constructor(readonly text: string) {}
}

let unauthorized: () => void = () => {};
/** Called once by the app: what to do when the server says the session is gone. */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

async function call<T>(method: Method, path: string, body?: unknown, signIn = false): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = body instanceof RawText ? 'application/yaml' : 'application/json';
  if (method !== 'GET') {
    const s = loadSession();
    if (s) headers['X-CSRF-Token'] = s.csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : body instanceof RawText ? body.text : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network');
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data ?? {}) as { error?: unknown; field?: unknown; line?: unknown };
    const e = new ApiError(
      res.status,
      typeof err.error === 'string' ? err.error : res.statusText,
      typeof err.field === 'string' ? err.field : undefined,
      typeof err.line === 'number' ? err.line : undefined,
    );
    if (res.status === 401 && !signIn) unauthorized();
    throw e;
  }
  return data as T;
}

const enc = encodeURIComponent;
const tenantPath = (tenant: string) => `/api/v1/tenants/${enc(tenant)}`;

// ---------------------------------------------------------------- types of the answers

export interface LoginAnswer {
  token: string;
  csrf: string;
  tenant: string;
  username: string;
  role: Role;
}
export interface Me {
  tenant: string;
  username: string;
  role: Role;
}
export interface QueueLive {
  id: string;
  waiting: number;
  longest_wait_seconds: number;
  agents_logged_in: number;
  agents_available: number;
  agents_idle: number;
  offered: number;
  answered: number;
  abandoned: number;
  service_level: number;
  asa_seconds: number;
}
export type AgentStatus = 'available' | 'break' | 'logged-out';
export type AgentState = 'idle' | 'reserved' | 'on-contact' | 'wrap-up';
export interface AgentLive {
  extension: string;
  status: AgentStatus;
  state: AgentState;
  reason: string;
  seconds_in_state: number;
}
export interface LiveContact {
  id: string;
  caller: string;
  called: string;
  queue: string;
  agent: string;
  ivr_path: string;
  state: 'queued' | 'ringing' | 'connected' | 'held' | 'wrap-up';
  since: string;
}
export interface Live {
  tenant: string;
  calls: number;
  queues: QueueLive[];
  agents: AgentLive[];
  /** Callers waiting in a queue and each agent's contact (an agent: only its own). */
  contacts?: LiveContact[];
}
export interface Interaction {
  id: string;
  caller: string;
  called: string;
  started_at: string;
  ended_at: string;
  ivr_path: string;
  queue: string;
  agent: string;
  result: string;
  wait_seconds: number;
  talk_seconds: number;
  transfers: number;
  hold_seconds?: number;
  disposition?: string;
  wrapup_notes?: string;
  wrapped_up_by?: string;
}
export interface User {
  username: string;
  role: Role;
  name: string;
  created_at: string;
  disabled: boolean;
}
export interface Customer {
  number: string;
  known: boolean;
  name?: string;
  notes?: string;
  tags?: string[];
  updated_at?: string;
  updated_by?: string;
  history: { id: string; started_at: string; queue: string; agent: string; result: string }[];
}
/** A queue's effective settings, in the configuration's own keys (times in seconds). */
export interface QueueSettings {
  strategy: string;
  sl_seconds: number;
  /** Percent, 1..100. */
  sl_target: number;
  ring_timeout: number;
  wrap_up: number;
  /** 0 = never. */
  max_wait: number;
  /** 0 = no limit. */
  max_waiting: number;
  max_no_answer: number;
  retry_after: number;
  join_empty: string;
  leave_empty: string;
  /** Skill name -> minimum level 1..10. */
  skills: Record<string, number>;
  dispositions: string[];
  script: string;
}
export type QueueSettingKey = keyof QueueSettings;
export interface QueueSetup {
  id: string;
  name?: string;
  strategy?: string;
  service_level?: { target?: number; threshold_seconds?: number };
  wrap_up_seconds?: number;
  ring_timeout_seconds?: number;
  dispositions?: string[];
  script?: string;
  settings?: Partial<QueueSettings>;
  /** The keys whose value was set through the API, over the configuration file's. */
  customized?: string[];
  /** Made through the API (the configuration file has no such queue). */
  added?: boolean;
}
/** PUT .../queues/{queue}'s answer. */
export interface QueueSaved {
  queue: string;
  kept: boolean;
  removed: boolean;
  valid: boolean;
}
export const channels = ['voice', 'chat', 'email', 'sms', 'callback'] as const;
export type Channel = (typeof channels)[number];
export interface AgentSetup {
  extension: string;
  name?: string;
  skills?: Record<string, number>;
  /** The queues the agent serves, with the tier (or plain ids). */
  queues?: ({ queue: string; tier?: number } | string)[];
  /** Contacts of each channel the agent takes at once (0..100). */
  capacity?: Partial<Record<Channel, number>>;
  /** Made through the API (the configuration file has no such agent): it can be removed. */
  added?: boolean;
  /** The keys set through the API over the configuration file's (`password`, `queues`, …). */
  customized?: string[];
}
/** POST .../agents: a new agent (logged out); its phone registers with the extension and `password`. */
export interface NewAgent {
  extension: string;
  /** The SIP phone's digest password, 8..64 characters. */
  password: string;
  name?: string;
  queues?: { queue: string; tier: number }[];
  skills?: Record<string, number>;
  capacity?: Partial<Record<Channel, number>>;
}
/** PUT .../agents/{agent}: each key given replaces the agent's; `password` is a new SIP password. */
export interface AgentChange {
  skills?: Record<string, number>;
  queues?: { queue: string; tier: number }[];
  capacity?: Partial<Record<Channel, number>>;
  name?: string;
  password?: string;
}
export type UploadKind = 'flows' | 'calendars' | 'numbers';
/** An entry of GET .../flows, .../calendars or .../numbers (`start`, `zone` or `flow` by kind). */
export interface UploadInfo {
  name: string;
  start?: string;
  zone?: string;
  flow?: string;
  uploaded: boolean;
}
/** What a queue's strategy may be; used until the server sends its own list. */
export const kStrategies = ['longest-idle', 'ring-all', 'round-robin', 'fewest-contacts', 'least-talk-time', 'linear', 'random', 'best-skill'];
export const kEmptyPolicies = ['ignore', 'no-agents-logged-in', 'no-agents-available'];
export interface TenantQueues {
  queues: QueueSetup[];
  /** The reasons an agent may give for a break (the tenant's configuration). */
  break_reasons: string[];
  strategies: string[];
  empty_policies: string[];
}
export type ContactState = 'ringing' | 'connected' | 'held' | 'wrap-up';
export interface ContactBrief {
  id: string;
  caller: string;
  called: string;
  queue: string;
  agent: string;
  ivr_path: string | string[];
  /** On some events (where docs/api.md puts them beside `contact`, the server may put them inside). */
  result?: string;
  disposition?: string;
  notes?: string;
  to?: string;
}
export interface AgentContact extends ContactBrief {
  state: ContactState;
  since: string;
  dispositions: string[];
  script: string;
}
/** The agent's figures for today; the keys are shown as the server sends them. */
export type Today = Record<string, number | string>;

// ---------------------------------------------------------------- calls

export const api = {
  login: (tenant: string, username: string, password: string) =>
    call<LoginAnswer>('POST', '/api/v1/auth/login', { tenant, username, password }, true),
  logout: () => call<unknown>('POST', '/api/v1/auth/logout', {}),
  me: () => call<Me>('GET', '/api/v1/me'),
  live: (t: string) => call<Live>('GET', `${tenantPath(t)}/live`),
  interactions: (t: string, q: Record<string, string | number>) => {
    const qs = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]));
    return call<{ interactions: Interaction[]; offset: number; limit: number }>(
      'GET',
      `${tenantPath(t)}/interactions?${qs.toString()}`,
    );
  },
  setStatus: (t: string, agent: string, status: AgentStatus, reason = '') =>
    call<unknown>('PUT', `${tenantPath(t)}/agents/${enc(agent)}/status`, reason ? { status, reason } : { status }),
  users: (t: string) => call<{ users: User[] }>('GET', `${tenantPath(t)}/users`),
  addUser: (t: string, u: { username: string; role: Role; password: string; name: string }) =>
    call<User>('POST', `${tenantPath(t)}/users`, u),
  customer: (t: string, number: string) => call<Customer>('GET', `${tenantPath(t)}/customers/${enc(number)}`),
  saveCustomer: (t: string, number: string, c: { name: string; notes: string; tags: string[] }) =>
    call<unknown>('PUT', `${tenantPath(t)}/customers/${enc(number)}`, c),
  queues: (t: string) =>
    call<Partial<TenantQueues> | QueueSetup[]>('GET', `${tenantPath(t)}/queues`).then(
      (v): TenantQueues => ({
        queues: listOf<QueueSetup>('queues')(v),
        break_reasons: Array.isArray(v) ? [] : (v.break_reasons ?? []),
        strategies: Array.isArray(v) || !v.strategies?.length ? kStrategies : v.strategies,
        empty_policies: Array.isArray(v) || !v.empty_policies?.length ? kEmptyPolicies : v.empty_policies,
      }),
    ),
  agents: (t: string) => call<{ agents: AgentSetup[] } | AgentSetup[]>('GET', `${tenantPath(t)}/agents`).then(listOf<AgentSetup>('agents')),
  /** The tenant's flows, business-hours calendars or numbers in use, and which were uploaded. */
  uploads: (t: string, kind: UploadKind) =>
    call<Partial<Record<UploadKind, UploadInfo[]>>>('GET', `${tenantPath(t)}/${kind}`).then((v) => v[kind] ?? []),
  /** Sets a queue's settings over the configuration file's (a new id makes a queue); ?check=true only checks. */
  putQueue: (t: string, queue: string, settings: Partial<QueueSettings>, check: boolean) =>
    call<QueueSaved>('PUT', `${tenantPath(t)}/queues/${enc(queue)}${check ? '?check=true' : ''}`, settings),
  /** The configuration file's settings again (a queue made through the API is removed). */
  deleteQueue: (t: string, queue: string) => call<unknown>('DELETE', `${tenantPath(t)}/queues/${enc(queue)}`),
  /** A flow, a business-hours calendar or a number's route, as YAML (?check=true only checks). */
  putUpload: (t: string, kind: UploadKind, name: string, yaml: string, check: boolean) =>
    call<unknown>('PUT', `${tenantPath(t)}/${kind}/${enc(name)}${check ? '?check=true' : ''}`, new RawText(yaml)),
  deleteUpload: (t: string, kind: UploadKind, name: string) => call<unknown>('DELETE', `${tenantPath(t)}/${kind}/${enc(name)}`),
  updateAgent: (t: string, agent: string, change: AgentChange) => call<AgentSetup>('PUT', `${tenantPath(t)}/agents/${enc(agent)}`, change),
  /** Makes an agent (201 with the agent as GET lists it; 409 when the extension is taken). */
  addAgent: (t: string, agent: NewAgent) => call<AgentSetup>('POST', `${tenantPath(t)}/agents`, agent),
  /** Removes an agent made through the API (400 for one of the configuration file, 409 while it has a contact). */
  deleteAgent: (t: string, agent: string) => call<unknown>('DELETE', `${tenantPath(t)}/agents/${enc(agent)}`),
  today: (t: string, agent: string) => call<Today>('GET', `${tenantPath(t)}/agents/${enc(agent)}/today`),
  contact: (t: string, agent: string) => call<AgentContact>('GET', `${tenantPath(t)}/agents/${enc(agent)}/contact`),
  contactAction: (t: string, agent: string, action: 'hangup' | 'hold' | 'resume') =>
    call<unknown>('POST', `${tenantPath(t)}/agents/${enc(agent)}/contact/${action}`, {}),
  transfer: (t: string, agent: string, to: string) =>
    call<unknown>('POST', `${tenantPath(t)}/agents/${enc(agent)}/contact/transfer`, { to }),
  wrapUp: (t: string, agent: string, disposition: string, notes: string) =>
    call<unknown>('POST', `${tenantPath(t)}/agents/${enc(agent)}/contact/wrapup`, { disposition, notes }),
};

/** The set-up lists are documented as lists; accept `{queues: [...]}` as well. */
function listOf<T>(key: string): (v: unknown) => T[] {
  return (v) => {
    if (Array.isArray(v)) return v as T[];
    const inner = (v as Record<string, unknown> | null)?.[key];
    return Array.isArray(inner) ? (inner as T[]) : [];
  };
}

/** Every interaction since `since`, following pages of 1,000. */
export async function allInteractionsSince(t: string, since: Date, cap = 20000): Promise<Interaction[]> {
  const out: Interaction[] = [];
  for (let offset = 0; offset < cap; offset += 1000) {
    const page = await api.interactions(t, { since: since.toISOString(), limit: 1000, offset });
    out.push(...page.interactions);
    if (page.interactions.length < 1000) break;
  }
  return out;
}
