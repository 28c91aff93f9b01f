// HTTP on every master: the leader serves /state, /metrics and the operator API; a
// standby answers 307 to the leader; after the leader dies, the standby that takes over
// serves. Operator calls that change the cluster work over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup } from '../helpers/processes.js';

let cluster: TestCluster;
const urls = new Map<string, string>();

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  cluster = await TestCluster.start({ masters: 2, agents: 1, masterArgs: ['--lease-ms', '1000', '--renew-interval-ms', '100'] });
  for (const m of cluster.masters) urls.set(m.name, await cluster.httpUrl(m));
});

afterAll(async () => {
  await cluster?.stop();
});

describe('HTTP on masters', () => {
  it('the leader serves /state with the leader and the agents', async () => {
    const leader = await cluster.leader();
    const res = await fetch(`${urls.get(leader.name)}/state`);
    expect(res.status).toBe(200);
    const state = (await res.json()) as { leader?: { masterId: string; url?: string }; agents: Array<{ status: string }> };
    expect(state.leader).toMatchObject({ masterId: leader.name, url: urls.get(leader.name) });
    expect(state.agents.filter((a) => a.status === 'active')).toHaveLength(1);
  });

  it('a standby answers /redirect and leader-only endpoints with 307 to the leader', async () => {
    const leader = await cluster.leader();
    const standby = cluster.masters.find((m) => m !== leader)!;
    for (const path of ['/redirect', '/state']) {
      const res = await fetch(`${urls.get(standby.name)}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(307);
      expect(res.headers.get('location'), path).toContain(urls.get(leader.name)!);
    }
  });

  it('serves the operator API: GET_MASTER, DEACTIVATE_AGENT and REACTIVATE_AGENT', async () => {
    const leader = await cluster.leader();
    const url = urls.get(leader.name)!;
    const master = await post(url, { type: 'GET_MASTER' });
    expect(master.json).toMatchObject({ type: 'MASTER', masterId: leader.name, leading: true });
    const agentId = (await cluster.state()).agents[0]!.id;
    expect((await post(url, { type: 'DEACTIVATE_AGENT', agentId })).json).toMatchObject({ type: 'OK' });
    const off = (await (await fetch(`${url}/state`)).json()) as { agents: Array<{ id: string; deactivated?: boolean }> };
    expect(off.agents.find((a) => a.id === agentId)?.deactivated).toBe(true);
    expect((await post(url, { type: 'REACTIVATE_AGENT', agentId })).json).toMatchObject({ type: 'OK' });
    const unknown = await post(url, { type: 'MARK_AGENT_GONE', agentId: 'no-such-agent' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ type: 'REJECTED', code: 'UNKNOWN_AGENT' });
  });

  it('serves Prometheus metrics', async () => {
    const leader = await cluster.leader();
    const text = await (await fetch(`${urls.get(leader.name)}/metrics`)).text();
    expect(text).toMatch(/^nesos_\w+/m);
    expect(text).toMatch(/nesos_agents\{[^}]*\} 1|nesos_agents_active 1/);
  });

  it('after the leader dies, the standby leads and serves', async () => {
    const leader = await cluster.leader();
    const standby = cluster.masters.find((m) => m !== leader)!;
    signalGroup(leader, 'SIGKILL');
    await cluster.waitFor((s) => s.masterId === standby.name, 15_000);
    const res = await fetch(`${urls.get(standby.name)}/state`);
    expect(res.status).toBe(200);
    const state = (await res.json()) as { leader?: { masterId: string } };
    expect(state.leader?.masterId).toBe(standby.name);
  });
});
