/**
 * Shorthands for the agent's integration tests: a cluster and a framework per test, a
 * framework on a test cluster, an offer from one chosen agent, the updates of one task,
 * SIGKILL of an agent, and polling until something holds.
 */
import { Resources, Scheduler, offerResources, type Offer, type SchedulerOptions, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { request } from '../../actors/runtime/request.js';
import { AgentStateReplies, type AgentSnapshot } from '../../protocol/agent-state.js';
import { encode } from '../../protocol/codec.js';
import { Subjects } from '../../protocol/subjects.js';
import { isTerminal } from '../../protocol/task-state.js';
import { afterEach } from 'vitest';
import type { TestCluster } from './cluster.js';
import type { TestProcess } from './processes.js';

/** The cluster and the framework of the test that runs now. */
export interface PerTest {
  cluster: TestCluster | undefined;
  sched: Scheduler | undefined;
}

/** Call at a test file's top: what a test keeps in the returned holder is closed and stopped after it, even when it fails. */
export function stoppedAfterEach(): PerTest {
  const held: PerTest = { cluster: undefined, sched: undefined };
  afterEach(async () => {
    await held.sched?.close();
    await held.cluster?.stop();
    held.sched = undefined;
    held.cluster = undefined;
  });
  return held;
}

/** SIGKILLs an agent process (not its executors: they run in sessions of their own) and waits until it is gone. */
export async function killAgent(agent: TestProcess): Promise<void> {
  process.kill(agent.pid, 'SIGKILL');
  await agent.exited;
}

/** Offers each framework holds that no test has taken yet (so an offer made between two waits is not missed). */
const held = new WeakMap<Scheduler, Map<string, Offer>>();

/** Connects a framework to the test cluster (the caller closes it). Its offers are kept until a test takes or declines them. */
export async function connectFramework(cluster: TestCluster, name: string, extra: Partial<SchedulerOptions> = {}): Promise<Scheduler> {
  const sched = await Scheduler.connect({ servers: cluster.natsUrl, cluster: cluster.name, framework: { name }, logger: silentLogger(), ...extra });
  const offers = new Map<string, Offer>();
  held.set(sched, offers);
  sched.on('offers', (list) => {
    for (const o of list) offers.set(o.id, o);
  });
  sched.on('rescind', (id) => {
    offers.delete(id);
  });
  sched.on('subscribed', () => {
    offers.clear(); // a new term: the old offers are gone
  });
  return sched;
}

/**
 * The next offer from agent `agentId`, held or new, that holds `needs` (Mesos text; default:
 * any): the largest such. Every other held offer is declined for 0.1 s — other agents', and
 * this agent's smaller pieces, which the allocator then offers again as one.
 */
export function offerFrom(sched: Scheduler, agentId: string, timeoutMs = 15_000, needs?: string): Promise<Offer> {
  const offers = held.get(sched) ?? new Map<string, Offer>();
  const wanted = needs === undefined ? Resources.empty() : Resources.parse(needs);
  const cpus = (o: Offer) => offerResources(o).scalar('cpus');
  return new Promise<Offer>((resolve, reject) => {
    const take = (): boolean => {
      const mine = [...offers.values()]
        .filter((o) => o.agentId === agentId && offerResources(o).contains(wanted))
        .sort((x, y) => cpus(y) - cpus(x))[0];
      const others = [...offers.values()].filter((o) => o !== mine).map((o) => o.id);
      for (const id of others) offers.delete(id);
      if (others.length > 0) sched.decline(others, { refuseSeconds: 0.1 }).catch(() => undefined);
      if (mine === undefined) return false;
      offers.delete(mine.id);
      resolve(mine);
      return true;
    };
    if (take()) return;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no offer from ${agentId}${needs === undefined ? '' : ` holding ${needs}`} within ${timeoutMs} ms`));
    }, timeoutMs);
    // registered after connectFramework's listener, so `offers` already holds the new ones
    const off = sched.on('offers', () => {
      if (!take()) return;
      clearTimeout(timer);
      off();
    });
  });
}

/** Records every update the framework receives, in arrival order. */
export function recordUpdates(sched: Scheduler): TaskStatus[] {
  const seen: TaskStatus[] = [];
  sched.on('update', (status) => {
    seen.push(status);
  });
  return seen;
}

/** Resolves once `done()` holds (polled every 50 ms); rejects with `what` and `details()` after `timeoutMs`. */
export async function until(done: () => boolean, what: string, timeoutMs = 30_000, details: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${details()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The terminal update of `taskId` among `updates`, if it came. */
export function terminalOf(updates: readonly TaskStatus[], taskId: string): TaskStatus | undefined {
  return updates.find((u) => u.taskId === taskId && isTerminal(u.state));
}

/** The states `taskId` went through, in order. */
export function statesOf(updates: readonly TaskStatus[], taskId: string): string[] {
  return updates.filter((u) => u.taskId === taskId).map((u) => u.state);
}

/** Asks an agent for its state over NATS (GET_STATE on its state subject). */
export async function agentState(cluster: TestCluster, agentId: string): Promise<AgentSnapshot> {
  const nc = await cluster.connect();
  const reply = await request(nc, new Subjects(cluster.name).agentState(agentId, 'test'), { type: 'GET_STATE' }, AgentStateReplies, { timeoutMs: 5000 });
  if (reply.type === 'REJECTED') throw new Error(`agent refused GET_STATE: ${reply.code}: ${reply.reason}`);
  return reply.state;
}

/** Publishes a master → agent message as the current leader would (with its epoch). */
export async function asMaster(cluster: TestCluster, agentId: string, message: object): Promise<void> {
  const nc = await cluster.connect();
  const { epoch } = await cluster.state();
  nc.publish(new Subjects(cluster.name).masterToAgent(agentId), encode({ ...message, epoch }));
  await nc.flush();
}
