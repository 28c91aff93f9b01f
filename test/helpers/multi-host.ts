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
