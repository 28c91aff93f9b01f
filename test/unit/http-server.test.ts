// The master's HTTP server over real HTTP on a loopback port, with a fake master behind the
// seam: every endpoint, its errors, standby redirects, the event stream and sandbox files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorHttp, type OperatorHttpServer } from '../../actors/http/index.js';
import { OperatorApiReply } from '../../protocol/operator-api.js';
import { OperatorEvent } from '../../protocol/operator-events.js';
import { FakeOperatorSource } from '../helpers/fake-operator-source.js';
import { SseReader } from '../helpers/sse-client.js';

const servers: OperatorHttpServer[] = [];
const streams: SseReader[] = [];

async function serve(source: FakeOperatorSource, extra: Partial<Parameters<typeof startOperatorHttp>[0]> = {}): Promise<OperatorHttpServer> {
  const server = await startOperatorHttp({ source, port: 0, uiDir: null, processMetrics: false, ...extra });
  servers.push(server);
  return server;
}

async function open(url: string): Promise<SseReader> {
  const s = await SseReader.open(url);
  streams.push(s);
  return s;
}

function post(server: OperatorHttpServer, body: string, contentType = 'application/json') {
  return fetch(`${server.url}/api/v1`, { method: 'POST', headers: { 'content-type': contentType }, body, redirect: 'manual' });
}

/** A leading master with two agents, one framework, a running task, a finished task and an offer. */
function cluster(): FakeOperatorSource {
  const src = new FakeOperatorSource({ masterId: 'm1', epoch: 7 });
  src.roleNow.leader = { masterId: 'm1', epoch: 7, url: 'http://127.0.0.1:1' };
  src.addAgent('a1', 'cpus:4;mem:4096;ports:[31000-31009]');
  src.addAgent('a2', 'cpus:2;mem:1024');
  src.addFramework('f1', 'web', ['eng']);
  src.launchTask('t1', 'f1', 'a1', 'cpus:1;mem:512;ports:[31000-31001]');
  src.updateTask('t1', 'TASK_RUNNING');
  src.launchTask('t2', 'f1', 'a2', 'cpus:0.5;mem:128');
  src.updateTask('t2', 'TASK_FINISHED', { exitCode: 0 });
  src.addOffer('o1', 'f1', 'a2', 'cpus:1.5;mem:512');
  return src;
}

afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('http: reading the master', () => {
  let src: FakeOperatorSource;
  let server: OperatorHttpServer;
  beforeAll(async () => {
    src = cluster();
    server = await serve(src);
  });

  it('/health answers on every master', async () => {
    const r = await fetch(`${server.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ healthy: true, masterId: 'm1', leading: true });
  });

  it('/state is the cluster state with the leader filled in', async () => {
    const r = await fetch(`${server.url}/state`);
    expect(r.status).toBe(200);
    const state = (await r.json()) as { leader: unknown; agents: unknown[]; tasks: unknown[]; completedTasks: unknown[] };
    expect(state.leader).toEqual({ masterId: 'm1', epoch: 7, url: 'http://127.0.0.1:1' });
    expect(state.agents).toHaveLength(2);
    expect(state.tasks).toHaveLength(1);
    expect(state.completedTasks).toHaveLength(1);
  });

  it('/state-summary adds up resources per kind and role, tasks by state, agents by status', async () => {
    const r = await fetch(`${server.url}/state-summary`);
    const body = (await r.json()) as { summary: { resources: Record<string, Record<string, number>>; roles: Record<string, Record<string, Record<string, number>>>; tasksByState: Record<string, number> }; agents: unknown[] };
    const { resources, roles, tasksByState } = body.summary;
    // total: a1 cpus 4 + a2 cpus 2 = 6; mem 4096 + 1024 = 5120; ports 10
    expect(resources.total).toEqual({ cpus: 6, mem: 5120, ports: 10 });
    // allocated: only t1 (t2 finished): cpus 1, mem 512, ports 2
    expect(resources.allocated).toEqual({ cpus: 1, mem: 512, ports: 2 });
    // offered: o1 cpus 1.5, mem 512; idle = total − allocated − offered: cpus 6−1−1.5 = 3.5, mem 5120−512−512 = 4096, ports 10−2 = 8
    expect(resources.offered).toEqual({ cpus: 1.5, mem: 512 });
    expect(resources.idle).toEqual({ cpus: 3.5, mem: 4096, ports: 8 });
    // f1's only role is eng, so what it holds is eng's
    expect(roles.allocated).toEqual({ eng: { cpus: 1, mem: 512, ports: 2 } });
    expect(tasksByState).toMatchObject({ TASK_RUNNING: 1, TASK_FINISHED: 1, TASK_STAGING: 0 });
    expect(body.agents).toHaveLength(2);
  });

  it('/metrics speaks Prometheus text: tasks, agents, resources, counters', async () => {
    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toContain('# TYPE nesos_tasks gauge');
    expect(text).toMatch(/^nesos_tasks\{state="TASK_RUNNING"\} 1$/m);
    expect(text).toMatch(/^nesos_tasks\{state="TASK_FINISHED"\} 1$/m);
    expect(text).toMatch(/^nesos_agents\{status="active"\} 2$/m);
    expect(text).toMatch(/^nesos_frameworks\{connected="true"\} 1$/m);
    expect(text).toMatch(/^nesos_offers 1$/m);
    expect(text).toMatch(/^nesos_resources_total\{resource="cpus",role="\*"\} 6$/m);
    expect(text).toMatch(/^nesos_resources_allocated\{resource="cpus",role="eng"\} 1$/m);
    expect(text).toMatch(/^nesos_resources_offered\{resource="cpus",role="eng"\} 1.5$/m);
    expect(text).toMatch(/^nesos_resources_idle\{resource="cpus"\} 3.5$/m);
    expect(text).toMatch(/^nesos_master_leader 1$/m);
    expect(text).toMatch(/^nesos_master_epoch 7$/m);
    expect(text).toContain('# TYPE nesos_messages_received_total counter');
    expect(text).toMatch(/^nesos_messages_received_total 10$/m);
    expect(text).toMatch(/^nesos_allocation_runs_total 5$/m);
    expect(text).toMatch(/^nesos_decode_errors_total\{union="SchedulerCall",code="MALFORMED"\} 1$/m);
    expect(text).toMatch(/^nesos_calls_rejected_total\{code="WRONG_PRINCIPAL"\} 1$/m);
    expect(text).toMatch(/^nesos_calls_rejected_total\{code="MALFORMED"\} 1$/m);
  });

  it('/metrics follows changes between scrapes (no stale label sets)', async () => {
    const s2 = cluster();
    const srv = await serve(s2);
    expect(await (await fetch(`${srv.url}/metrics`)).text()).toMatch(/^nesos_agents\{status="active"\} 2$/m);
    s2.setAgentStatus('a2', 'unreachable');
    s2.counters = { ...s2.counters, messagesReceived: 11 };
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/^nesos_agents\{status="active"\} 1$/m);
    expect(text).toMatch(/^nesos_agents\{status="unreachable"\} 1$/m);
    expect(text).toMatch(/^nesos_messages_received_total 11$/m);
  });

  it('answers an unknown path 404 with a typed body', async () => {
    const r = await fetch(`${server.url}/nope`);
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ type: 'REJECTED', code: 'NOT_FOUND' });
  });

  it('says the UI is not served when it has none', async () => {
    const r = await fetch(`${server.url}/`);
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('serves no web UI');
  });
});

describe('http: the JSON operator API', () => {
  let src: FakeOperatorSource;
  let server: OperatorHttpServer;
  beforeAll(async () => {
    src = cluster();
    server = await serve(src, { bodyLimitBytes: 4096 });
  });

  it('answers GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS and GET_MASTER from the snapshot', async () => {
    for (const [type, reply] of [
      ['GET_STATE', 'STATE'],
      ['GET_AGENTS', 'AGENTS'],
      ['GET_FRAMEWORKS', 'FRAMEWORKS'],
      ['GET_TASKS', 'TASKS'],
      ['GET_MASTER', 'MASTER'],
    ] as const) {
      const r = await post(server, JSON.stringify({ type }));
      expect(r.status, type).toBe(200);
      const body: unknown = await r.json();
      expect(OperatorApiReply.schema.parse(body).type).toBe(reply);
    }
    expect(src.calls).toEqual([]);
    const tasks = (await (await post(server, '{"type":"GET_TASKS"}')).json()) as { tasks: Array<{ taskId: string }>; completedTasks: Array<{ taskId: string }> };
    expect(tasks.tasks.map((t) => t.taskId)).toEqual(['t1']);
    expect(tasks.completedTasks.map((t) => t.taskId)).toEqual(['t2']);
  });

  it('forwards the other calls to the master, validated', async () => {
    src.answers.set('UPDATE_WEIGHTS', () => ({ type: 'OK', epoch: 7 }));
    const r = await post(server, JSON.stringify({ type: 'UPDATE_WEIGHTS', weights: [{ role: 'eng', weight: 2 }] }));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ type: 'OK', epoch: 7 });
    expect(src.calls.at(-1)).toEqual({ type: 'UPDATE_WEIGHTS', weights: [{ role: 'eng', weight: 2 }] });
  });

  it('answers 501 for a call this master does not implement yet', async () => {
    const r = await post(server, JSON.stringify({ type: 'GET_ROLES' }));
    expect(r.status).toBe(501);
    expect(await r.json()).toMatchObject({ type: 'REJECTED', code: 'UNKNOWN_TYPE', reason: expect.stringContaining('GET_ROLES') });
  });

  it('maps the master\'s refusals to HTTP statuses', async () => {
    src.answers.set('TEARDOWN', () => ({ type: 'REJECTED', code: 'NOT_FOUND', reason: 'no framework f9' }));
    const r = await post(server, JSON.stringify({ type: 'TEARDOWN', frameworkId: 'f9' }));
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ type: 'REJECTED', code: 'NOT_FOUND', reason: 'no framework f9' });
  });

  it('answers 400 to bad JSON, a missing or unknown type and invalid fields', async () => {
    const cases: Array<[string, string]> = [
      ['{"type": ', 'MALFORMED'],
      ['[1,2]', 'MALFORMED'],
      ['{"kind":"GET_STATE"}', 'UNKNOWN_TYPE'],
      ['{"type":"GET_EVERYTHING"}', 'UNKNOWN_TYPE'],
      ['{"type":"UPDATE_WEIGHTS","weights":[{"role":"eng","weight":-1}]}', 'INVALID'],
      ['{"type":"RESERVE_RESOURCES","agentId":"a1","resources":"cpus:lots"}', 'INVALID'],
      ['{"type":"TEARDOWN","frameworkId":"no spaces allowed"}', 'INVALID'],
    ];
    for (const [body, code] of cases) {
      const r = await post(server, body);
      expect(r.status, body).toBe(400);
      expect(await r.json(), body).toMatchObject({ type: 'REJECTED', code });
    }
  });

  it('answers 400 to an empty body, 413 to an oversized one and 415 to a body that is not JSON', async () => {
    expect((await post(server, '')).status).toBe(400);
    const big = await post(server, JSON.stringify({ type: 'GET_STATE', pad: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: 'TOO_LARGE' });
    const form = await post(server, 'type=GET_STATE', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ reason: expect.stringContaining('application/json') });
  });
});

describe('http: standbys', () => {
  it('redirect leader-only endpoints to the leader with 307 and keep /health, /metrics local', async () => {
    const src = new FakeOperatorSource({ masterId: 'm2', leading: false, leader: { masterId: 'm1', epoch: 7, url: 'http://127.0.0.1:5999' } });
    const server = await serve(src);
    for (const path of ['/state', '/state-summary', '/api/v1/events']) {
      const r = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect(r.status, path).toBe(307);
      expect(r.headers.get('location')).toBe(`http://127.0.0.1:5999${path}`);
    }
    const api = await post(server, '{"type":"GET_STATE"}');
    expect(api.status).toBe(307);
    expect(api.headers.get('location')).toBe('http://127.0.0.1:5999/api/v1');
    const redirect = await fetch(`${server.url}/redirect`, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get('location')).toBe('http://127.0.0.1:5999');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^nesos_master_leader 0$/m);
    expect(metrics).not.toMatch(/^nesos_tasks\{/m);
    expect(src.snapshots).toBe(0);
    const info = await fetch(`${server.url}/master/info`);
    expect(info.headers.get('access-control-allow-origin')).toBe('*');
    expect(await info.json()).toEqual({ masterId: 'm2', leading: false, leader: { masterId: 'm1', epoch: 7, url: 'http://127.0.0.1:5999' }, peers: [] });
  });

  it('answer 503 while no leader is known', async () => {
    const src = new FakeOperatorSource({ masterId: 'm2', leading: false });
    const server = await serve(src);
    for (const path of ['/state', '/redirect']) {
      const r = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect(r.status, path).toBe(503);
      expect(await r.json()).toMatchObject({ code: 'NOT_LEADER' });
    }
  });
});

describe('http: the event stream', () => {
  it('opens with SUBSCRIBED, then pushes changes in order', async () => {
    const src = cluster();
    const server = await serve(src);
    const s = await open(`${server.url}/api/v1/events`);
    const subscribed = await s.waitFor('SUBSCRIBED');
    expect(subscribed.state.tasks.map((t) => t.taskId)).toEqual(['t1']);
    expect(src.listenerCount).toBe(1);
    src.launchTask('t3', 'f1', 'a1');
    src.updateTask('t3', 'TASK_RUNNING');
    src.updateTask('t3', 'TASK_FINISHED');
    src.addAgent('a3');
    src.removeFramework('f1');
    await s.waitFor('FRAMEWORK_REMOVED');
    const types = s.events.map((e) => e.type);
    expect(types).toEqual(['SUBSCRIBED', 'TASK_ADDED', 'TASK_UPDATED', 'TASK_UPDATED', 'AGENT_ADDED', 'FRAMEWORK_REMOVED']);
    const finished = s.events[3];
    expect(finished?.type === 'TASK_UPDATED' && finished.task.state).toBe('TASK_FINISHED');
    for (const e of s.events) expect(() => OperatorEvent.schema.parse(e)).not.toThrow();
  });

  it('serves several clients from one subscription and lets go of it when the last leaves', async () => {
    const src = cluster();
    const server = await serve(src);
    const a = await open(`${server.url}/api/v1/events`);
    const b = await open(`${server.url}/api/v1/events`);
    await a.waitFor('SUBSCRIBED');
    await b.waitFor('SUBSCRIBED');
    expect(src.listenerCount).toBe(1);
    expect(server.streamClients()).toBe(2);
    src.addAgent('a9');
    await a.waitFor('AGENT_ADDED', (e) => e.agent.id === 'a9');
    await b.waitFor('AGENT_ADDED', (e) => e.agent.id === 'a9');
    a.close();
    b.close();
    const deadline = Date.now() + 2000;
    while (src.listenerCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(src.listenerCount).toBe(0);
  });

  it('sends heartbeats', async () => {
    const src = cluster();
    const server = await serve(src, { heartbeatIntervalSeconds: 0.05 });
    const s = await open(`${server.url}/api/v1/events`);
    await s.waitFor('HEARTBEAT');
  });

  it('tells clients the new leader and ends the stream when this master stops leading', async () => {
    const src = cluster();
    const server = await serve(src);
    const s = await open(`${server.url}/api/v1/events`);
    await s.waitFor('SUBSCRIBED');
    src.setLeader({ masterId: 'm2', epoch: 8, url: 'http://127.0.0.1:5998' });
    const changed = await s.waitFor('LEADER_CHANGED');
    expect(changed.leader).toEqual({ masterId: 'm2', epoch: 8, url: 'http://127.0.0.1:5998' });
    await s.waitForEnd();
    const again = await fetch(`${server.url}/api/v1/events`, { redirect: 'manual' });
    expect(again.status).toBe(307);
  });

  it('disconnects a client that does not read', async () => {
    const src = cluster();
    const server = await serve(src, { maxStreamBufferBytes: 64 * 1024 });
    const s = await open(`${server.url}/api/v1/events`);
    await s.waitFor('SUBSCRIBED');
    // The client reads, so the buffer stays small; a burst larger than the limit in one go cuts it off.
    const huge = 'x'.repeat(4000);
    for (let i = 0; i < 200; i++) src.launchTask(`burst-${i}`, 'f1', 'a1', 'cpus:0.001', huge);
    await s.waitForEnd();
    expect(server.streamClients()).toBe(0);
  });
});

describe('http: sandbox files', () => {
  let src: FakeOperatorSource;
  let server: OperatorHttpServer;
  beforeAll(async () => {
    src = cluster();
    server = await serve(src);
    src.appendFile('a1', 'f1', 't1', 'stdout', 'hello\nworld\n');
  });

  const read = (q: string) => fetch(`${server.url}/files/read?${q}`);

  it('reads a chunk and says where to read on', async () => {
    const r = await read('agent=a1&framework=f1&executor=t1&path=stdout&offset=6&length=100');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ data: 'world\n', offset: 6, length: 6, size: 12 });
    const all = (await (await read('agent=a1&framework=f1&executor=t1')).json()) as { data: string };
    expect(all.data).toBe('hello\nworld\n');
  });

  it('never splits a UTF-8 character between chunks', async () => {
    src.appendFile('a1', 'f1', 't1', 'stderr', 'é€');
    // é is 2 bytes, € is 3: 4 bytes hold é and the first 2 bytes of €, which are held back
    const first = (await (await read('agent=a1&framework=f1&executor=t1&path=stderr&length=4')).json()) as { data: string; length: number };
    expect(first).toMatchObject({ data: 'é', length: 2 });
    const rest = (await (await read(`agent=a1&framework=f1&executor=t1&path=stderr&offset=${first.length}`)).json()) as { data: string };
    expect(rest.data).toBe('€');
  });

  it('answers 400 to a bad query, 404 to a missing file, 502 when the agent does not answer', async () => {
    expect((await read('agent=a1&framework=f1')).status).toBe(400);
    expect((await read('agent=a1&framework=f1&executor=t1&offset=-1')).status).toBe(400);
    expect((await read('agent=a1&framework=f1&executor=t1&length=999999999')).status).toBe(400);
    const missing = await read('agent=a1&framework=f1&executor=t1&path=nothing');
    expect(missing.status).toBe(404);
    src.unreachableAgents.add('a2');
    const gone = await read('agent=a2&framework=f1&executor=t2');
    expect(gone.status).toBe(502);
    expect(await gone.json()).toMatchObject({ reason: expect.stringContaining('agent a2 did not answer') });
  });
});

describe("http: an agent's own state and metrics", () => {
  let src: FakeOperatorSource;
  let server: OperatorHttpServer;
  beforeAll(async () => {
    src = cluster();
    server = await serve(src);
    src.agentStates.set('a1', {
      id: 'a1',
      hostname: 'h1',
      resources: 'cpus:4;mem:4096',
      attributes: {},
      registered: true,
      isolation: { isolator: 'cgroups-v2' },
      drain: { state: 'active' },
      tasks: [
        { taskId: 't1', frameworkId: 'f1', executorId: 't1', state: 'TASK_RUNNING', killRequested: false, pendingUpdates: 0 },
        { taskId: 't2', frameworkId: 'f1', executorId: 't2', state: 'TASK_FINISHED', killRequested: false, pendingUpdates: 1 },
      ],
      executors: [
        {
          executorId: 't1',
          frameworkId: 'f1',
          runId: 'r1',
          kind: 'command',
          phase: 'subscribed',
          taskIds: ['t1'],
          usage: { cpuUserSeconds: 1.5, cpuSystemSeconds: 0.25, memBytes: 1048576, memLimitBytes: 33554432, cpusLimit: 0.5, processes: 2, throttledPeriods: 7 },
          executorMemBytes: 50_000_000,
        },
      ],
      timestamp: 1,
    });
  });

  it('serves the state as JSON', async () => {
    const r = await fetch(`${server.url}/agents/a1/state`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: 'a1', isolation: { isolator: 'cgroups-v2' }, executors: [{ executorId: 't1', usage: { memBytes: 1048576 } }] });
  });

  it('serves usage per executor, tasks by state and the drain state as Prometheus text', async () => {
    const r = await fetch(`${server.url}/agents/a1/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain('nesos_agent_executor_cpu_seconds_total{executor="t1",framework="f1",mode="user",agent="a1"} 1.5');
    expect(text).toContain('nesos_agent_executor_memory_limit_bytes{executor="t1",framework="f1",agent="a1"} 33554432');
    expect(text).toContain('nesos_agent_executor_cpus_limit{executor="t1",framework="f1",agent="a1"} 0.5');
    expect(text).toContain('nesos_agent_executor_throttled_periods_total{executor="t1",framework="f1",agent="a1"} 7');
    expect(text).toContain('nesos_agent_tasks{state="TASK_RUNNING",agent="a1"} 1');
    expect(text).toContain('nesos_agent_draining{state="active",agent="a1"} 1');
    expect(text).toContain('nesos_agent_registered{agent="a1"} 1');
  });

  it('answers 400 to a malformed id and 502 when the agent does not answer', async () => {
    expect((await fetch(`${server.url}/agents/a%20b/state`)).status).toBe(400);
    const gone = await fetch(`${server.url}/agents/a9/metrics`);
    expect(gone.status).toBe(502);
    expect(await gone.json()).toMatchObject({ code: 'UNKNOWN_AGENT', reason: expect.stringContaining('agent a9 did not answer') });
  });
});

describe('http: the web UI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nesos-ui-test-'));
  beforeAll(() => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Nesos</title>');
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves index.html (not cached) and hashed assets (cached for ever)', async () => {
    const server = await serve(cluster(), { uiDir: dir });
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>Nesos</title>');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${server.url}/assets/app-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('sends people on a standby to the leader\'s UI', async () => {
    const src = new FakeOperatorSource({ masterId: 'm2', leading: false, leader: { masterId: 'm1', epoch: 7, url: 'http://127.0.0.1:5997' } });
    const server = await serve(src, { uiDir: dir });
    const r = await fetch(`${server.url}/`, { redirect: 'manual' });
    expect(r.status).toBe(307);
    expect(r.headers.get('location')).toBe('http://127.0.0.1:5997/');
    expect((await fetch(`${server.url}/assets/app-abc123.js`)).status).toBe(200);
  });
});
