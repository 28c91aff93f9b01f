// The warm standby's registry copy (actors/master/registry-mirror.ts) against a real
// nats-server: `catchUp` answers a registry at least as new as the bucket's last write when
// it was asked, deletions included; a stopped copy answers nothing (the master then reads
// the bucket itself).
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryMirror } from '../../actors/master/registry-mirror.js';
import { agentKey, frameworkKey } from '../../actors/master/registry.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { openRegistryBucket } from '../../actors/runtime/kv.js';
import { encode } from '../../protocol/codec.js';
import { TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster | undefined;
let mirror: RegistryMirror | undefined;

afterEach(async () => {
  mirror?.stop();
  mirror = undefined;
  await cluster?.stop();
  cluster = undefined;
});

const agent = (id: string) => ({ type: 'AGENT', agent: { info: { id, hostname: `${id}.local`, resources: [], attributes: {} }, admittedAt: 1 } });

describe('registry mirror', () => {
  it('catches up to the last write: every record written before catchUp is in the copy, deleted ones are not', async () => {
    cluster = await TestCluster.start({ startActors: false });
    const nc = await cluster.connect();
    const kv = await openRegistryBucket(nc, cluster.name);
    await Promise.all(Array.from({ length: 3000 }, (_, i) => kv.put(agentKey(`early-${i}`), encode(agent(`early-${i}`)))));
    await kv.delete(agentKey('early-7'));
    await kv.put('agents.broken', new Uint8Array([1, 2, 3])); // does not decode: skipped
    mirror = RegistryMirror.start(nc, cluster.name, silentLogger());
    // Asked as soon as the copy has seen its first record: most are still on their way.
    while (mirror.revision === 0) await new Promise((r) => setImmediate(r));
    const contents = await mirror.catchUp(10_000);
    expect(contents).toBeDefined();
    const ids = new Set(contents!.agents.map((a) => a.info.id));
    expect(ids.size).toBe(2999);
    expect(ids.has('early-2999')).toBe(true);
    expect(ids.has('early-7')).toBe(false);

    // Later writes, each asked for right after it was stored: the copy follows.
    await kv.put(frameworkKey('f1'), encode({ type: 'FRAMEWORK', framework: { info: { id: 'f1', name: 'f', principal: 'p', roles: ['*'], capabilities: [], failoverTimeoutSeconds: 0 }, registeredAt: 2 } }));
    expect((await mirror.catchUp(10_000))!.frameworks.map((f) => f.info.id)).toEqual(['f1']);
    await kv.delete(frameworkKey('f1'));
    await kv.put(agentKey('last'), encode(agent('last')));
    const again = await mirror.catchUp(10_000);
    expect(again!.frameworks).toEqual([]);
    expect(again!.agents.some((a) => a.info.id === 'last')).toBe(true);
  });

  it('a stopped copy answers undefined: the new leader reads the bucket instead', async () => {
    cluster = await TestCluster.start({ startActors: false });
    const nc = await cluster.connect();
    mirror = RegistryMirror.start(nc, cluster.name, silentLogger());
    // Until the bucket is open there is no copy to offer (undefined); then an empty registry.
    let contents = await mirror.catchUp(10_000);
    for (let i = 0; contents === undefined && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      contents = await mirror.catchUp(10_000);
    }
    expect(contents).toEqual({ agents: [], frameworks: [], roles: [] });
    mirror.stop();
    expect(await mirror.catchUp(10_000)).toBeUndefined();
  });
});
