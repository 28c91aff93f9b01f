/**
 * Keeping the page live: one EventSource on the leader's `/api/v1/events`. A page opened on a
 * standby goes to the leader's UI. When the stream breaks (the leader died, or stopped
 * leading), the page asks the masters it knows (its own origin, the last leader, the peers)
 * who leads now, and reconnects, or moves to the new leader's UI, telling it where it came
 * from so that the change is shown. Nothing here polls while the stream is up.
 */
import { signal } from '@preact/signals';
import type { LeaderView } from '../../protocol/operator-api.js';
import type { OperatorEvent } from '../../protocol/operator-events.js';
import { store } from './store.js';

/** What the page's connection is doing. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'no-leader' | 'moving';

/** The connection's state, for the header. */
export const connection = signal<ConnectionState>('connecting');

/** Set when the page arrived here because the leader changed: the previous leader's id. */
export const previousLeader = signal<string | null>(new URLSearchParams(location.search).get('from'));
// Shown once: a reload should not announce the change again.
if (location.search !== '') history.replaceState(null, '', `${location.pathname}${location.hash}`);

/** What `/master/info` answers. */
interface MasterInfo {
  masterId: string;
  leading: boolean;
  leader?: LeaderView;
  peers: string[];
}

const known = new Set<string>();
let source: EventSource | undefined;
let lastLeader: LeaderView | undefined;
let searching = false;

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

async function info(base: string): Promise<MasterInfo | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 1500);
  try {
    const r = await fetch(`${base}/master/info`, { signal: controller.signal, cache: 'no-store' });
    if (!r.ok) return undefined;
    const body = (await r.json()) as MasterInfo;
    for (const p of body.peers ?? []) known.add(origin(p));
    if (body.leader?.url !== undefined) known.add(origin(body.leader.url));
    return body;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function moveTo(leaderUrl: string): void {
  connection.value = 'moving';
  const from = lastLeader?.masterId ?? store.meta.value?.masterId;
  const query = from === undefined ? '' : `?from=${encodeURIComponent(from)}`;
  location.replace(`${origin(leaderUrl)}/${query}${location.hash}`);
}

function connect(): void {
  source?.close();
  const es = new EventSource('/api/v1/events');
  source = es;
  es.onopen = () => {
    connection.value = 'live';
  };
  es.onmessage = (m: MessageEvent<string>) => {
    let event: OperatorEvent;
    try {
      event = JSON.parse(m.data) as OperatorEvent;
    } catch {
      return;
    }
    if (event.type === 'SUBSCRIBED') {
      lastLeader = event.state.leader ?? { masterId: event.state.masterId, epoch: event.state.epoch, url: location.origin };
      connection.value = 'live';
    }
    if (event.type === 'LEADER_CHANGED' && event.leader?.url !== undefined) known.add(origin(event.leader.url));
    store.apply(event);
  };
  es.onerror = () => {
    if (source !== es) return;
    es.close();
    source = undefined;
    connection.value = 'reconnecting';
    void findLeader();
  };
}

/** Asks every known master who leads, until one answers; then connects or moves there. */
async function findLeader(): Promise<void> {
  if (searching) return;
  searching = true;
  try {
    for (let attempt = 0; ; attempt++) {
      known.add(location.origin);
      if (lastLeader?.url !== undefined) known.add(origin(lastLeader.url));
      for (const base of [...known]) {
        const answer = await info(base);
        if (answer === undefined) continue;
        const leaderUrl = answer.leading ? base : answer.leader?.url;
        if (leaderUrl === undefined) continue;
        if (origin(leaderUrl) === location.origin) {
          if (answer.leading || (await info(location.origin))?.leading === true) {
            if (lastLeader !== undefined && lastLeader.masterId !== answer.masterId) previousLeader.value = lastLeader.masterId;
            connect();
            return;
          }
          continue;
        }
        const there = answer.leading ? answer : await info(origin(leaderUrl));
        if (there?.leading === true) {
          moveTo(leaderUrl);
          return;
        }
      }
      connection.value = attempt < 3 ? 'reconnecting' : 'no-leader';
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
    }
  } finally {
    searching = false;
  }
}

/** Starts the page's connection. */
export function startLive(): void {
  void findLeader();
}
