// The live stream (docs/api.md, "The live stream"): one WebSocket to
// /api/v1/tenants/{tenant}/stream, subscribed to some topics, reconnected with exponential
// backoff (0.5 s doubling to 15 s, with jitter) when it drops. The browser sends the session
// cookie with the upgrade. After each (re)connection `onOpen` runs so the page can read the
// state it may have missed (the stream carries changes, not the state).

import type { AgentLive, ContactBrief, QueueLive } from './api';

export type ContactEventName =
  | 'queued'
  | 'offered'
  | 'missed'
  | 'connected'
  | 'held'
  | 'resumed'
  | 'transferred'
  | 'ended'
  | 'wrapped-up';

interface Base {
  tenant: string;
  at: string;
}
export type StreamEvent =
  | (Base & { type: 'agent'; agent: AgentLive })
  | (Base & { type: 'queue'; queue: QueueLive })
  | (Base & {
      type: 'contact';
      event: ContactEventName;
      contact: ContactBrief;
      result?: string;
      disposition?: string;
      notes?: string;
    });

export type Topic = 'agents' | 'queues' | 'contacts';
export type StreamState = 'connecting' | 'open' | 'down';

export interface StreamHandlers {
  onEvent(e: StreamEvent): void;
  onOpen?(): void;
  onState?(s: StreamState): void;
  /** The upgrade failed: maybe the session ended. The page may check (a 401 signs out). */
  onFailure?(): void;
}

export class LiveStream {
  private ws: WebSocket | null = null;
  private retry = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(
    private readonly tenant: string,
    private readonly topics: Topic[],
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.close();
    }
  }

  private connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/api/v1/tenants/${encodeURIComponent(this.tenant)}/stream`;
    this.handlers.onState?.('connecting');
    let opened = false;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify({ subscribe: this.topics }));
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') return;
      let msg: { type?: unknown };
      try {
        msg = JSON.parse(m.data) as { type?: unknown };
      } catch {
        return;
      }
      if (msg.type === 'subscribed') {
        this.retry = 0;
        this.handlers.onState?.('open');
        this.handlers.onOpen?.();
        return;
      }
      if (msg.type === 'agent' || msg.type === 'queue' || msg.type === 'contact') {
        this.handlers.onEvent(msg as StreamEvent);
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.handlers.onState?.('down');
      if (!opened) this.handlers.onFailure?.();
      if (this.stopped) return;
      const delay = Math.min(15000, 500 * 2 ** this.retry) * (0.75 + Math.random() * 0.5);
      this.retry = Math.min(this.retry + 1, 10);
      this.timer = window.setTimeout(() => this.connect(), delay);
    };
  }
}
