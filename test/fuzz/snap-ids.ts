/**
 * Makes random messages meet the state they are sent to: every id field (`id`, `*Id`,
 * `offerIds`) of a generated message is replaced by one of a small pool, chosen from the
 * generated value, so that fuzzed calls name agents, frameworks, tasks and offers that
 * exist (and sometimes ones that do not) instead of random strings nothing matches.
 */

/** Ids a fuzzed message may name, per kind of field. */
export interface IdPools {
  agent: readonly string[];
  framework: readonly string[];
  task: readonly string[];
  offer: () => readonly string[];
}

function pick(pool: readonly string[], seed: string): string {
  if (pool.length === 0) return seed;
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
  return pool[h % pool.length]!;
}

function poolFor(key: string, pools: IdPools): readonly string[] | undefined {
  if (key === 'agentId') return pools.agent;
  if (key === 'frameworkId') return pools.framework;
  if (key === 'taskId' || key === 'executorId') return pools.task;
  if (key === 'offerId' || key === 'offerIds') return pools.offer();
  return undefined;
}

/** A copy of `value` whose id fields name ids from `pools`. */
export function snapIds(value: unknown, pools: IdPools, key = ''): unknown {
  if (typeof value === 'string') {
    const pool = poolFor(key, pools);
    return pool === undefined ? value : pick(pool, value);
  }
  if (Array.isArray(value)) return value.map((v) => snapIds(v, pools, key));
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, snapIds(v, pools, k)]));
}
