// Maintenance on a real cluster (two masters, two agents, processes from dist/), driven with
// the `nesos maintenance` CLI: a scheduled agent is DRAINING and its offers carry the window;
// the framework running a task there gets an inverse offer naming the agent and the window, and
// its ACCEPT, then (asked again after its refuse_seconds) its DECLINE, show in the operator's
// maintenance status, /state and the CLI; START_MAINTENANCE rescinds the inverse offer and takes it DOWN (its task ends, it gets no offers, its registrations are
// refused); the schedule and the DOWN mode survive a failover of the leader;
// STOP_MAINTENANCE lets the agent register again and its resources are offered again.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallRejectedError, Scheduler, isTerminal, type InverseOffer, type Offer } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { request } from '../../actors/runtime/request.js';
import { OperatorApiReply, type ClusterState, type MaintenanceAgentStatus, type MaintenanceWindow, type OperatorApiCall } from '../../protocol/operator-api.js';
import type { TaskStatus } from '../../protocol/schema.js';
import { Subjects } from '../../protocol/subjects.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup, type TestProcess } from '../helpers/processes.js';

const WAIT_MS = 15_000;

let cluster: TestCluster;
let nc: NatsConnection;
let sched: Scheduler;
/** Every offer the framework received, in order. */
const seen: Offer[] = [];
let window: MaintenanceWindow | undefined;
/** Every inverse offer the framework received, in order, and the ids of those rescinded. */
const inverseOffers: InverseOffer[] = [];
const rescindedInverse: string[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({
    masters: 2,
    agents: 2,
    masterArgs: ['--lease-ms', '1000', '--renew-interval-ms', '100', '--allocation-interval', '200'],
  });
  nc = await cluster.connect();
  sched = await Scheduler.connect({
    servers: cluster.natsUrl,
    cluster: cluster.name,
    framework: { name: 'maint', capabilities: ['PARTITION_AWARE'] },
    logger: silentLogger(),
  });
  listenForOffers();
  sched.on('inverseOffers', (list) => void inverseOffers.push(...list));
  sched.on('rescindInverseOffer', (id) => void rescindedInverse.push(id));
});

afterAll(async () => {
  await sched?.close().catch(() => undefined);
  await cluster?.stop();
});

async function operator(call: OperatorApiCall): Promise<OperatorApiReply> {
  return request(nc, new Subjects(cluster.name).operatorCall('ops'), call, OperatorApiReply, { timeoutMs: 5000, attempts: 5 });
}

async function maintenanceStatus(): Promise<MaintenanceAgentStatus[]> {
  const reply = await operator({ type: 'GET_MAINTENANCE_STATUS' });
  if (reply.type !== 'MAINTENANCE_STATUS') throw new Error(`GET_MAINTENANCE_STATUS answered ${JSON.stringify(reply)}`);
  return reply.agents;
}

/** Each scheduled agent's mode (without the inverse offer answers). */
async function modes(): Promise<Array<{ agentId: string; mode: string }>> {
  return (await maintenanceStatus()).map(({ agentId, mode }) => ({ agentId, mode }));
}

/** The frameworks' answers to agent-1's inverse offers, as GET_MAINTENANCE_STATUS gives them. */
async function answersOnAgent1(): Promise<Array<{ frameworkId: string; status: string }>> {
  const agent = (await maintenanceStatus()).find((a) => a.agentId === 'agent-1');
  return (agent?.statuses ?? []).map(({ frameworkId, status }) => ({ frameworkId, status }));
}

/** Resolves with the first inverse offer received from index `from` on (fails after WAIT_MS). */
async function inverseOfferFrom(from: number): Promise<InverseOffer> {
  await expect.poll(() => inverseOffers.length, { timeout: WAIT_MS, interval: 50, message: `no inverse offer after #${from}\n${cluster.logs()}` }).toBeGreaterThan(from);
  return inverseOffers[from]!;
}

async function fullState(): Promise<ClusterState> {
  const reply = await operator({ type: 'GET_STATE' });
  if (reply.type !== 'STATE') throw new Error(`GET_STATE answered ${JSON.stringify(reply)}`);
  return reply.state;
}

/** Where the CLI finds the cluster (given after the subcommand, as people type it). */
function cliFlags(): string[] {
  return ['--nats', cluster.natsUrl, '--cluster', cluster.name];
}

/** Runs `nesos maintenance <args>` and expects exit 0. */
async function maintenance(...args: string[]): Promise<string> {
  const { code, output } = await cluster.cli(['maintenance', ...args, ...cliFlags()]);
  expect(code, `${output}\n${cluster.logs()}`).toBe(0);
  return output;
}

/** Waiters for offers: each takes the first offer (from when it asked) that it matches. */
const waiters: Array<{ match: (o: Offer) => boolean; resolve: (o: Offer) => void }> = [];

/**
 * One offers listener for the whole file, attached before any offer can arrive: every offer is
 * recorded in `seen`; the first waiter that matches it takes it, the others are declined at
 * once with no filter, so the resources come back on the next allocation run.
 */
function listenForOffers(): void {
  sched.on('offers', (offers) => {
    const declined: string[] = [];
    for (const offer of offers) {
      seen.push(offer);
      const i = waiters.findIndex((w) => w.match(offer));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(offer);
      else declined.push(offer.id);
    }
    // Not awaited: the SDK hands out the next offers once this listener returns.
    if (declined.length > 0) void sched.decline(declined, { refuseSeconds: 0 }).catch(() => undefined);
  });
}

/** Resolves with the next offer that `match` accepts (rejects after `timeoutMs`). */
function nextOffer(match: (o: Offer) => boolean, timeoutMs = WAIT_MS): Promise<Offer> {
  return new Promise((resolve, reject) => {
    const waiter = {
      match,
      resolve: (o: Offer) => {
        clearTimeout(timer);
        resolve(o);
      },
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(waiter), 1);
      reject(new Error(`no matching offer within ${timeoutMs} ms; offers seen last: ${JSON.stringify(seen.slice(-5))}\n${cluster.logs()}`));
    }, timeoutMs);
    waiters.push(waiter);
  });
}

/** Gives an offer back at once (no filter), so that its resources are offered again. */
function release(offer: Offer): void {
  void sched.decline([offer.id], { refuseSeconds: 0 }).catch(() => undefined);
}

/** True once `master`'s log shows a registration of agent-1 refused AGENT_DOWN. */
function refusedAgent1(master: TestProcess): boolean {
  return /"type":"REGISTER_AGENT","principal":"agent-1","code":"AGENT_DOWN"/.test(master.output());
}

/** The statuses of `taskId` until a terminal one. */
async function untilTerminal(taskId: string): Promise<TaskStatus[]> {
  const got: TaskStatus[] = [];
  for await (const status of sched.updates(taskId)) {
    got.push(status);
    if (isTerminal(status.state)) break;
  }
  return got;
}

describe('maintenance on a real cluster', () => {
  let taskId = '';
  let updates: Promise<TaskStatus[]>;

  it('a task runs on agent-1; scheduling agent-1 makes it DRAINING and its offers carry the window', async () => {
    const offer = await nextOffer((o) => o.agentId === 'agent-1');
    const [info] = await sched.launch(offer, [{ name: 'long', command: 'sleep 300', resources: 'cpus:0.5;mem:64' }], { refuseSeconds: 0 });
    taskId = info!.taskId;
    updates = untilTerminal(taskId);
    await cluster.waitFor((s) => s.tasks.some((t) => t.taskId === taskId && t.state === 'TASK_RUNNING'), WAIT_MS);

    await maintenance('schedule', 'agent-1', '--start', '+1h', '--duration', '2h');
    expect(await modes()).toEqual([{ agentId: 'agent-1', mode: 'DRAINING' }]);
    const schedule = await operator({ type: 'GET_MAINTENANCE_SCHEDULE' });
    window = schedule.type === 'MAINTENANCE_SCHEDULE' ? schedule.windows[0] : undefined;
    expect(window).toMatchObject({ agentIds: ['agent-1'], durationMs: 2 * 3_600_000 });
    // The CLI shows it too.
    expect(JSON.parse(await maintenance('--json'))).toMatchObject({ windows: [window], agents: [{ agentId: 'agent-1', mode: 'DRAINING' }] });

    const drainingOffer = await nextOffer((o) => o.agentId === 'agent-1');
    expect(drainingOffer.unavailability).toEqual({ start: window!.start, durationMs: window!.durationMs });
    release(drainingOffer);
    const otherOffer = await nextOffer((o) => o.agentId === 'agent-2');
    release(otherOffer);
    expect(otherOffer.unavailability).toBeUndefined();
    // A DRAINING agent keeps running its tasks; /state carries the schedule.
    const state = await fullState();
    expect(state.tasks.find((t) => t.taskId === taskId)?.state).toBe('TASK_RUNNING');
    expect(state.maintenance).toMatchObject({ windows: [window], agents: [{ agentId: 'agent-1', mode: 'DRAINING' }] });
  });

  let inverseIndex = 0;

  it('the framework running the task gets an inverse offer naming agent-1 and its window; until it answers the status says UNKNOWN', async () => {
    const io = await inverseOfferFrom(0);
    expect(io).toMatchObject({ frameworkId: sched.frameworkId, agentId: 'agent-1', unavailability: { start: window!.start, durationMs: window!.durationMs } });
    // agent-2 is not scheduled: every inverse offer so far is of agent-1.
    expect(inverseOffers.map((o) => o.agentId)).toEqual(inverseOffers.map(() => 'agent-1'));
    expect(await answersOnAgent1()).toEqual([{ frameworkId: sched.frameworkId, status: 'UNKNOWN' }]);
    inverseIndex = inverseOffers.length;
  });

  it('ACCEPT_INVERSE_OFFERS shows as ACCEPT in the maintenance status, /state and the CLI; an unknown inverse offer is REJECTED', async () => {
    const io = inverseOffers[inverseIndex - 1]!;
    // A 1 s filter: the framework still runs the task on agent-1, so it is asked again a second later.
    await sched.acceptInverseOffers([io.id], { refuseSeconds: 1 });
    expect(await answersOnAgent1()).toEqual([{ frameworkId: sched.frameworkId, status: 'ACCEPT' }]);
    const state = await fullState();
    expect(state.maintenance?.agents).toMatchObject([{ agentId: 'agent-1', mode: 'DRAINING', statuses: [{ frameworkId: sched.frameworkId, status: 'ACCEPT' }] }]);
    const text = await maintenance();
    expect(text).toMatch(new RegExp(`agent-1\\s+${sched.frameworkId}\\s+ACCEPT`));
    // Answering it twice: it is closed.
    const refused = await sched.declineInverseOffers([io.id]).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(CallRejectedError);
    expect(refused).toMatchObject({ code: 'UNKNOWN_INVERSE_OFFER' });
    expect(await answersOnAgent1()).toEqual([{ frameworkId: sched.frameworkId, status: 'ACCEPT' }]);
  });

  it('after the filter the framework is asked again; its DECLINE shows in the status and the CLI', async () => {
    const again = await inverseOfferFrom(inverseIndex);
    expect(again).toMatchObject({ agentId: 'agent-1', unavailability: { start: window!.start, durationMs: window!.durationMs } });
    expect(again.id).not.toBe(inverseOffers[inverseIndex - 1]!.id);
    inverseIndex = inverseOffers.length;
    await sched.declineInverseOffers([again.id], { refuseSeconds: 1 });
    expect(await answersOnAgent1()).toEqual([{ frameworkId: sched.frameworkId, status: 'DECLINE' }]);
    expect(JSON.parse(await maintenance('--json')).agents).toMatchObject([{ agentId: 'agent-1', statuses: [{ frameworkId: sched.frameworkId, status: 'DECLINE' }] }]);
    // Declined with a 1 s filter while the window applies: asked once more.
    expect(await inverseOfferFrom(inverseIndex)).toMatchObject({ agentId: 'agent-1' });
  });

  it('START refuses an agent that is not scheduled with WRONG_MODE', async () => {
    expect(await operator({ type: 'START_MAINTENANCE', agentIds: ['agent-2'] })).toMatchObject({ type: 'REJECTED', code: 'WRONG_MODE' });
    const { code, output } = await cluster.cli(['maintenance', 'start', 'agent-2', ...cliFlags()]);
    expect(code).toBe(1);
    expect(output).toMatch(/not in the maintenance schedule/);
  });

  it('START_MAINTENANCE takes agent-1 DOWN: its inverse offer is rescinded, its task ends, it gets no offers, its registrations are refused', async () => {
    const outstanding = inverseOffers.at(-1)!;
    await maintenance('start', 'agent-1');
    expect(await maintenanceStatus()).toEqual([{ agentId: 'agent-1', mode: 'DOWN' }]);
    await expect.poll(() => rescindedInverse, { timeout: WAIT_MS, interval: 50 }).toContain(outstanding.id);
    const statuses = await updates;
    // The master says GONE_BY_OPERATOR and tells the agent to kill the task; the agent's own
    // TASK_KILLED can reach the stream first, and then the master's (stale) update is dropped.
    const end = statuses.at(-1);
    expect([
      { state: 'TASK_GONE_BY_OPERATOR', reason: 'REASON_AGENT_REMOVED' },
      { state: 'TASK_KILLED', reason: 'REASON_TASK_KILLED' },
    ]).toContainEqual({ state: end?.state, reason: end?.reason });
    const state = await fullState();
    expect(state.agents.find((a) => a.id === 'agent-1')?.status).toBe('down');
    expect(state.offers.filter((o) => o.agentId === 'agent-1')).toEqual([]);
    expect(state.completedTasks.find((t) => t.taskId === taskId)?.state).toBe('TASK_GONE_BY_OPERATOR');

    // The agent learns it is not registered and tries again: the master refuses it.
    const leader = await cluster.leader();
    await expect.poll(() => refusedAgent1(leader), { timeout: WAIT_MS, interval: 100 }).toBe(true);
    // Three more rounds of offers (of agent-2's resources): none of agent-1's.
    const from = seen.length;
    for (let round = 0; round < 3; round++) release(await nextOffer((o) => o.agentId === 'agent-2'));
    expect(seen.slice(from).filter((o) => o.agentId === 'agent-1')).toEqual([]);
    expect((await fullState()).agents.find((a) => a.id === 'agent-1')?.status).toBe('down');
  });

  it('a new leader keeps the schedule and agent-1 DOWN', async () => {
    const leader = await cluster.leader();
    signalGroup(leader, 'SIGKILL');
    await cluster.waitFor((s) => s.masterId !== leader.name && s.agents.some((a) => a.id === 'agent-2' && a.status === 'active'), WAIT_MS);
    expect(await modes()).toEqual([{ agentId: 'agent-1', mode: 'DOWN' }]);
    const schedule = await operator({ type: 'GET_MAINTENANCE_SCHEDULE' });
    expect(schedule).toMatchObject({ type: 'MAINTENANCE_SCHEDULE', windows: [window] });
    // agent-1 keeps trying to register: the new leader refuses it too.
    const next = await cluster.leader();
    expect(next.name).not.toBe(leader.name);
    await expect.poll(() => refusedAgent1(next), { timeout: WAIT_MS, interval: 100 }).toBe(true);
    expect((await fullState()).agents.find((a) => a.id === 'agent-1')?.status).toBe('down');
  });

  it('STOP_MAINTENANCE brings agent-1 UP: it registers again and its resources are offered again, without unavailability', async () => {
    await maintenance('stop', 'agent-1');
    expect(await modes()).toEqual([]);
    expect(await operator({ type: 'GET_MAINTENANCE_SCHEDULE' })).toMatchObject({ windows: [] });
    await cluster.waitFor((s) => s.agents.some((a) => a.id === 'agent-1' && a.status === 'active'), WAIT_MS);
    const offer = await nextOffer((o) => o.agentId === 'agent-1');
    release(offer);
    expect(offer.unavailability).toBeUndefined();
    // STOP of an agent that is not DOWN is refused.
    expect(await operator({ type: 'STOP_MAINTENANCE', agentIds: ['agent-1'] })).toMatchObject({ type: 'REJECTED', code: 'WRONG_MODE' });
  });
});
