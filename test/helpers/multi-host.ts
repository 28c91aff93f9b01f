/**
 * Looking at a multi-host cluster (`bin/netns/`) from a test: each master's own view
 * (`/master/info`, read with curl from inside its host, so that it answers while its host
 * is cut off), who leads, where JetStream's stream leaders are, and bounded waiting.
 */
import { readFileSync } from 'node:fs';
import type { HostProcesses, MultiHostCluster } from '../../bin/netns/cluster.js';
import { NATS_PORTS } from '../../bin/netns/nats-config.js';

/** What a master says of itself (`/master/info`); `undefined` fields when it did not answer. */
export interface MasterView {
  masterId: string;
  leading: boolean;
  leader?: { masterId: string; epoch: number; url?: string };
}

/** Master `h`'s view, read from inside its own host; undefined when it does not answer within 2 s. */
export async function masterView(c: MultiHostCluster, h: HostProcesses): Promise<MasterView | undefined> {
  try {
    const body = await c.net.exec(h.host, 'curl', ['-sf', '--max-time', '2', `${h.httpUrl}/master/info`], 4000);
    return JSON.parse(body) as MasterView;
  } catch {
    return undefined;
  }
}

/** Every master's view, by host name. */
export async function masterViews(c: MultiHostCluster): Promise<Map<string, MasterView | undefined>> {
  const views = await Promise.all(c.hosts.map((h) => masterView(c, h)));
  return new Map(c.hosts.map((h, i) => [h.host.name, views[i]]));
}

/** The hosts whose masters say they lead. */
export function leadingHosts(views: Map<string, MasterView | undefined>): string[] {
  return [...views].filter(([, v]) => v?.leading === true).map(([name]) => name);
}

/** Stream name → server name of its Raft leader, as host `h`'s nats-server sees them (`/jsz`), with the meta leader as `$meta`. */
export async function streamLeaders(c: MultiHostCluster, h: HostProcesses): Promise<Record<string, string>> {
  const body = await c.net.exec(h.host, 'curl', ['-sf', '--max-time', '2', `http://${h.host.address}:${NATS_PORTS.monitor}/jsz?streams=1`], 4000);
  const jsz = JSON.parse(body) as { meta_cluster?: { leader?: string }; account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: { leader?: string } }> }> };
  const out: Record<string, string> = { $meta: jsz.meta_cluster?.leader ?? '?' };
  for (const a of jsz.account_details ?? []) for (const s of a.stream_detail ?? []) out[s.name] = s.cluster?.leader ?? '?';
  return out;
}

interface JszCluster {
  leader?: string;
  replicas?: Array<{ name: string; current?: boolean; offline?: boolean }>;
}
interface Jsz {
  meta_cluster?: JszCluster;
  account_details?: Array<{ stream_detail?: Array<{ name: string; cluster?: JszCluster; consumer_detail?: Array<{ name: string; cluster?: JszCluster }> }> }>;
}

/**
 * Every JetStream asset's leader (the meta group as `$meta`, streams, durable consumers), once
 * JetStream is settled as every host's server (`nats-<host>`) sees it: one meta leader
 * named by all, every asset led by the same server everywhere, and, as its leader sees
 * them, every replica current. Otherwise a string saying what is not settled yet.
 */
export async function jetStreamLeaders(c: MultiHostCluster): Promise<Map<string, string> | string> {
  const views = await Promise.all(
    c.hosts.map(async (h) => {
      try {
        const body = await c.net.exec(h.host, 'curl', ['-sf', '--max-time', '2', `http://${h.host.address}:${NATS_PORTS.monitor}/jsz?streams=1&consumers=1`], 4000);
        return JSON.parse(body) as Jsz;
      } catch {
        return undefined;
      }
    }),
  );
  const leaders = new Map<string, string>();
  for (const [i, jsz] of views.entries()) {
    const host = c.hosts[i]!.host.name;
    if (jsz === undefined) return `${host}: no /jsz answer`;
    const assets: Array<[string, JszCluster | undefined]> = [['$meta', jsz.meta_cluster]];
    for (const a of jsz.account_details ?? []) {
      for (const s of a.stream_detail ?? []) {
        assets.push([s.name, s.cluster]);
        // Ordered consumers (`oc_…`, the KV watches) have one replica and come and go.
        for (const o of s.consumer_detail ?? []) if (!o.name.startsWith('oc_')) assets.push([`${s.name} > ${o.name}`, o.cluster]);
      }
    }
    for (const [name, cl] of assets) {
      if (cl?.leader === undefined || cl.leader === '') return `${host}: ${name} has no leader`;
      // Only the leader knows how current its followers are.
      const lagging = cl.leader === `nats-${host}` ? (cl.replicas ?? []).filter((r) => r.current !== true || r.offline === true).map((r) => r.name) : [];
      if (lagging.length > 0) return `${name}: replicas not current: ${lagging.join(', ')}`;
      const seen = leaders.get(name);
      if (seen !== undefined && seen !== cl.leader) return `${name}: led by ${seen} or ${cl.leader}`;
      leaders.set(name, cl.leader);
    }
  }
  return leaders;
}

/** Polls `probe` every `everyMs` until it returns a value (not undefined); throws with `what` and `context()` after `timeoutMs`. */
export async function waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number, context: () => string = () => '', everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The JSON log lines of process `name` (`master-h1`…) whose message is `msg` (or starts with it, with `prefix`). */
export function logLines(c: MultiHostCluster, name: string, msg: string, prefix = false): Array<{ time: number; [k: string]: unknown }> {
  let text = '';
  try {
    text = readFileSync(c.logFile(name), 'utf8');
  } catch {
    return [];
  }
  const out: Array<{ time: number; [k: string]: unknown }> = [];
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const parsed = JSON.parse(line) as { time: number; msg?: string };
      if (parsed.msg === msg || (prefix && parsed.msg?.startsWith(msg) === true)) out.push(parsed);
    } catch {
      // not JSON
    }
  }
  return out;
}

/** The last `chars` characters of every process's log, for failure messages. */
export function tailLogs(c: MultiHostCluster, chars = 3000): string {
  return c
    .children()
    .map((ch) => {
      let text = '';
      try {
        text = readFileSync(ch.logFile, 'utf8');
      } catch {
        // none yet
      }
      return `--- ${ch.name}\n${text.slice(-chars)}`;
    })
    .join('\n');
}
