// Property-based fuzzing of the master's pure core (through the harness): random sequences
// of agent messages, scheduler calls (some from the wrong principal), allocator decisions,
// status updates, operator calls, ticks and heartbeat outcomes, plus random well-formed
// messages of every union the master serves. Nothing throws but `Rejection`, and after each
// step the registry is consistent: a task is on exactly one agent, offers belong to active
// agents and connected frameworks, an agent's tasks and offers fit its total, the list of
// completed tasks stays bounded; after each tick or maintenance call every outstanding inverse
// offer is of an active DRAINING agent, about its current window, to a connected framework,
// one per agent and framework. Fixed seed (test/fuzz/config.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unavailabilityOf } from '../../actors/master/maintenance.js';
import { inAllocator, taskKey, type MasterState } from '../../actors/master/state.js';
import { Rejection } from '../../actors/runtime/actor.js';
import { AgentToMaster } from '../../protocol/agent.js';
import { OperatorApiCall } from '../../protocol/operator-api.js';
import { Resources } from '../../protocol/resources.js';
import { SchedulerCall } from '../../protocol/scheduler.js';
import { ALL_TASK_STATES, TaskSource, isTerminal, type TaskState } from '../../protocol/task-state.js';
import type { MessageUnion } from '../../protocol/union.js';
import { MasterHarness } from '../harness/master-harness.js';
import { runs } from './config.js';
import { snapIds, type IdPools } from './snap-ids.js';
import { messageOf } from './zod-arbitrary.js';

const AGENTS = ['a1', 'a2', 'a3'];
const FRAMEWORKS = ['f1', 'f2', 'f3'];
const TASKS = ['t1', 't2', 't3', 't4'];
const PRINCIPALS = ['p', 'q'];
/** Each agent always registers with the same resources, as a real one does (see the note on SETUP). */
const AGENT_RESOURCES: Record<string, string> = { a1: 'cpus:4;mem:4096', a2: 'cpus:2;mem:1024;ports:[31000-31010]', a3: 'cpus:4;mem:4096' };
const TASK_RESOURCES = ['cpus:0.5;mem:128', 'cpus:1;mem:512', 'cpus:3;mem:64', 'cpus:0.1;mem:32;ports:[31000-31001]'];

/** One input to the core, as data (printed by fast-check when a property fails). */
type Op =
  | { op: 'register'; agent: string }
  | { op: 'heartbeat'; agent: string; as: string }
  | { op: 'exited'; agent: string; framework: string; task: string }
  | { op: 'subscribe'; framework: string; principal: string; partitionAware: boolean }
  | { op: 'allocate'; framework: string; agent: string; part: boolean }
  | { op: 'accept'; framework: string; principal: string; offer: number; task: string; agent: string; resources: string }
  | { op: 'accept-own'; offer: number; task: string; resources: string }
  | { op: 'decline'; framework: string; offer: number }
  | { op: 'kill'; framework: string; task: string }
  | { op: 'reconcile'; framework: string; tasks: string[] }
  | { op: 'suppress' | 'revive' | 'teardown'; framework: string; principal: string }
  | { op: 'update'; framework: string; task: string; agent: string; state: TaskState; seq: number }
  | { op: 'update-live'; pick: number; state: TaskState; back: number }
  | { op: 'operator'; call: 'DEACTIVATE_AGENT' | 'REACTIVATE_AGENT' | 'DRAIN_AGENT' | 'MARK_AGENT_GONE'; agent: string }
  | { op: 'operator-teardown'; framework: string }
  | { op: 'unreachable'; agent: string }
  | { op: 'tick'; ms: number }
  | { op: 'framework-heartbeat'; framework: string; answered: boolean }
  | { op: 'maintenance'; call: 'schedule' | 'start' | 'stop' | 'clear'; agents: string[]; startIn: number }
  | { op: 'answer-inverse'; pick: number; accept: boolean; own: boolean; framework: string; refuseSeconds: number | undefined }
  | { op: 'random'; union: 'scheduler' | 'agent' | 'operator'; message: Record<string, unknown>; principal: string };

const agent = fc.constantFrom(...AGENTS);
const framework = fc.constantFrom(...FRAMEWORKS);
const task = fc.constantFrom(...TASKS);
const principal = fc.constantFrom(...PRINCIPALS);

const structuredOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('register' as const), agent }),
  fc.record({ op: fc.constant('heartbeat' as const), agent, as: agent }),
  fc.record({ op: fc.constant('exited' as const), agent, framework, task }),
  fc.record({ op: fc.constant('subscribe' as const), framework, principal, partitionAware: fc.boolean() }),
  { arbitrary: fc.record({ op: fc.constant('allocate' as const), framework, agent, part: fc.boolean() }), weight: 3 },
  {
    arbitrary: fc.record({ op: fc.constant('accept' as const), framework, principal, offer: fc.nat(), task, agent, resources: fc.constantFrom(...TASK_RESOURCES) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('accept-own' as const), offer: fc.nat(), task, resources: fc.constantFrom(...TASK_RESOURCES) }),
    weight: 4,
  },
  fc.record({ op: fc.constant('decline' as const), framework, offer: fc.nat() }),
  fc.record({ op: fc.constant('kill' as const), framework, task }),
  fc.record({ op: fc.constant('reconcile' as const), framework, tasks: fc.array(task, { maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('suppress' as const, 'revive' as const, 'teardown' as const), framework, principal }),
  {
    arbitrary: fc.record({ op: fc.constant('update' as const), framework, task, agent, state: fc.constantFrom(...ALL_TASK_STATES), seq: fc.integer({ min: 1, max: 400 }) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('update-live' as const), pick: fc.nat(), state: fc.oneof({ arbitrary: fc.constantFrom<TaskState>('TASK_STARTING', 'TASK_RUNNING'), weight: 3 }, fc.constantFrom(...ALL_TASK_STATES)), back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 })) }),
    weight: 4,
  },
  fc.record({ op: fc.constant('operator' as const), call: fc.constantFrom('DEACTIVATE_AGENT' as const, 'REACTIVATE_AGENT' as const, 'DRAIN_AGENT' as const, 'MARK_AGENT_GONE' as const), agent }),
  fc.record({ op: fc.constant('operator-teardown' as const), framework }),
  fc.record({ op: fc.constant('unreachable' as const), agent }),
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3000 }) }), weight: 2 },
  fc.record({ op: fc.constant('framework-heartbeat' as const), framework, answered: fc.boolean() }),
  {
    arbitrary: fc.record({
      op: fc.constant('maintenance' as const),
      call: fc.constantFrom('schedule' as const, 'schedule' as const, 'start' as const, 'stop' as const, 'clear' as const),
      agents: fc.uniqueArray(agent, { minLength: 1, maxLength: 2 }),
      startIn: fc.integer({ min: -5000, max: 60_000 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('answer-inverse' as const), pick: fc.nat(), accept: fc.boolean(), own: fc.boolean(), framework, refuseSeconds: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }) }),
    weight: 2,
  },
);

/**
 * Every run starts from a small cluster: two agents, two frameworks of different principals.
 * An agent that registers again with fewer resources than its STAGING tasks hold (tasks: [])
 * keeps those tasks, over its total: the master trusts an agent's report, and a real agent's
 * resources do not change under one id, so the generator keeps them fixed per agent.
 */
const SETUP: Op[] = [
  { op: 'register', agent: 'a1' },
  { op: 'register', agent: 'a2' },
  { op: 'subscribe', framework: 'f1', principal: 'p', partitionAware: true },
  { op: 'subscribe', framework: 'f2', principal: 'q', partitionAware: false },
];

/** A run: the setup, then `ops`. */
function sequence(op: fc.Arbitrary<Op>): fc.Arbitrary<Op[]> {
  return fc.array(op, { minLength: 10, maxLength: 80, size: 'max' }).map((ops) => [...SETUP, ...ops]);
}

const UNIONS: Record<'scheduler' | 'agent' | 'operator', MessageUnion> = { scheduler: SchedulerCall, agent: AgentToMaster, operator: OperatorApiCall };

const randomOp: fc.Arbitrary<Op> = fc.oneof(
  ...(['scheduler', 'agent', 'operator'] as const).map((union) =>
    fc.record({ op: fc.constant('random' as const), union: fc.constant(union), message: messageOf(UNIONS[union]), principal: fc.constantFrom(...PRINCIPALS, ...AGENTS) }),
  ),
);

/** Applies one input; a `Rejection` is an answer (the shell turns it into REJECTED), anything else thrown fails the property. */
function apply(h: MasterHarness, op: Op): void {
  const core = h.core;
  const offers = () => [...core.state.offers.keys()];
  const offerAt = (i: number) => offers()[i % Math.max(1, offers().length)] ?? 'offer-none';
  try {
    switch (op.op) {
      case 'register':
        h.registerAgent(op.agent, AGENT_RESOURCES[op.agent]);
        break;
      case 'heartbeat':
        h.agent({ type: 'HEARTBEAT', agentId: op.agent }, op.as);
        break;
      case 'exited':
        h.agent({ type: 'EXITED_EXECUTOR', agentId: op.agent, frameworkId: op.framework, executorId: op.task, exitCode: 0 });
        break;
      case 'subscribe':
        h.call(
          { type: 'SUBSCRIBE', framework: { id: op.framework, name: op.framework, principal: op.principal, roles: ['*'], capabilities: op.partitionAware ? ['PARTITION_AWARE'] : [], failoverTimeoutSeconds: 1 } },
          op.principal,
        );
        break;
      case 'allocate': {
        // An honest allocator: it offers only what is free on the agent.
        const a = core.state.agents.get(op.agent);
        if (a === undefined) break;
        const free = a.total.subtract(usedOn(core.state, op.agent));
        const part = Resources.parse('cpus:1;mem:256');
        const resources = op.part && free.contains(part) ? part : free;
        if (!resources.isEmpty()) core.onAllocations([{ frameworkId: op.framework, agentId: op.agent, resources }], h.now);
        break;
      }
      case 'accept':
        h.call(
          {
            type: 'ACCEPT',
            frameworkId: op.framework,
            offerIds: [offerAt(op.offer)],
            operations: [{ type: 'LAUNCH', tasks: [{ taskId: op.task, name: op.task, agentId: op.agent, resources: Resources.parse(op.resources).toWire(), command: { value: 'true', environment: {} } }] }],
          },
          op.principal,
        );
        break;
      case 'accept-own': {
        // A framework launching on one of its own offers, on the offer's agent.
        const offer = core.state.offers.get(offerAt(op.offer));
        if (offer === undefined) break;
        const tasks = [{ taskId: op.task, name: op.task, agentId: offer.agentId, resources: Resources.parse(op.resources).toWire(), command: { value: 'true', environment: {} } }];
        h.call({ type: 'ACCEPT', frameworkId: offer.frameworkId, offerIds: [offer.id], operations: [{ type: 'LAUNCH', tasks }] }, principalOf(core.state, offer.frameworkId));
        break;
      }
      case 'decline':
        h.call({ type: 'DECLINE', frameworkId: op.framework, offerIds: [offerAt(op.offer)] }, principalOf(core.state, op.framework));
        break;
      case 'kill':
        h.call({ type: 'KILL', frameworkId: op.framework, taskId: op.task }, principalOf(core.state, op.framework));
        break;
      case 'reconcile':
        h.call({ type: 'RECONCILE', frameworkId: op.framework, tasks: op.tasks.map((taskId) => ({ taskId })) }, principalOf(core.state, op.framework));
        break;
      case 'suppress':
        h.call({ type: 'SUPPRESS', frameworkId: op.framework }, op.principal);
        break;
      case 'revive':
        h.call({ type: 'REVIVE', frameworkId: op.framework }, op.principal);
        break;
      case 'teardown':
        h.call({ type: 'TEARDOWN', frameworkId: op.framework }, op.principal);
        break;
      case 'update':
        core.onStatusUpdate(op.framework, { taskId: op.task, state: op.state, agentId: op.agent, executorId: op.task, source: TaskSource.EXECUTOR, uuid: `u-${op.seq}`, timestamp: h.now / 1000 }, op.seq, h.now);
        break;
      case 'update-live': {
        // An update of a task the master tracks, usually the stream's next one, sometimes an older sequence.
        const live = [...core.state.tasks.values()];
        const t = live[op.pick % Math.max(1, live.length)];
        if (t === undefined) break;
        const seq = ++h.streamSeq - op.back;
        const status = { taskId: t.info.taskId, state: op.state, agentId: t.agentId, executorId: t.info.taskId, source: TaskSource.EXECUTOR, uuid: `u-${h.streamSeq}`, timestamp: h.now / 1000 };
        core.onStatusUpdate(t.frameworkId, status, seq, h.now);
        break;
      }
      case 'operator':
        core.onOperatorCall(op.call === 'DRAIN_AGENT' ? { type: op.call, agentId: op.agent, markGone: false } : { type: op.call, agentId: op.agent }, h.now);
        break;
      case 'operator-teardown':
        core.onOperatorCall({ type: 'TEARDOWN', frameworkId: op.framework }, h.now);
        break;
      case 'unreachable':
        core.markAgentUnreachable(op.agent, h.now);
        break;
      case 'tick':
        h.now += op.ms;
        core.onTick(h.now);
        break;
      case 'framework-heartbeat':
        core.onFrameworkHeartbeat(op.framework, op.answered, h.now);
        break;
      case 'maintenance':
        if (op.call === 'schedule') {
          // Adds a window for agents not scheduled yet (an agent may be in one window only).
          const m = core.state.maintenance;
          const fresh = op.agents.filter((a) => !m.windows.some((w) => w.agentIds.includes(a)));
          const windows = [...m.windows, ...(fresh.length > 0 ? [{ agentIds: fresh, start: Math.max(0, h.now + op.startIn), durationMs: 3_600_000 }] : [])];
          core.onOperatorCall({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows }, h.now);
        } else if (op.call === 'clear') core.onOperatorCall({ type: 'UPDATE_MAINTENANCE_SCHEDULE', windows: [] }, h.now);
        else core.onOperatorCall({ type: op.call === 'start' ? 'START_MAINTENANCE' : 'STOP_MAINTENANCE', agentIds: op.agents }, h.now);
        break;
      case 'answer-inverse': {
        // An outstanding inverse offer answered by its framework, or by another one (refused WRONG_FRAMEWORK or NOT_SUBSCRIBED).
        const outstanding = [...core.state.maintenance.inverseOffers.values()];
        const io = outstanding[op.pick % Math.max(1, outstanding.length)];
        const frameworkId = io !== undefined && op.own ? io.frameworkId : op.framework;
        h.call(
          {
            type: op.accept ? 'ACCEPT_INVERSE_OFFERS' : 'DECLINE_INVERSE_OFFERS',
            frameworkId,
            inverseOfferIds: [io?.id ?? 'inverse-offer-none'],
            ...(op.refuseSeconds !== undefined && { filters: { refuseSeconds: op.refuseSeconds } }),
          },
          principalOf(core.state, frameworkId),
        );
        break;
      }
      case 'random': {
        const pools: IdPools = { agent: AGENTS, framework: FRAMEWORKS, task: TASKS, offer: offers };
        const union = UNIONS[op.union];
        const parsed = union.byType.get(String(op.message.type))!.safeParse(snapIds(op.message, pools));
        if (!parsed.success) break; // the codec refuses it before the core sees it
        const message = parsed.data as never;
        if (op.union === 'scheduler') core.onSchedulerCall(message, op.principal, h.now);
        else if (op.union === 'agent') core.onAgentMessage(message, op.principal, h.now);
        else core.onOperatorCall(message, h.now);
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof Rejection)) throw e;
  }
}

function principalOf(state: MasterState, frameworkId: string): string {
  return state.frameworks.get(frameworkId)?.info.principal ?? 'p';
}

/** Resources held on an agent by its live tasks and its outstanding offers. */
function usedOn(state: MasterState, agentId: string): Resources {
  let used = Resources.empty();
  for (const t of state.tasks.values()) if (t.agentId === agentId && !isTerminal(t.state)) used = used.add(t.resources);
  for (const o of state.offers.values()) if (o.agentId === agentId) used = used.add(o.resources);
  return used;
}

/** The registry's invariants; `resources` adds "what an agent holds fits its total". */
function checkInvariants(state: MasterState, maxCompleted: number, resources: boolean): void {
  for (const [key, t] of state.tasks) {
    expect(taskKey(t.frameworkId, t.info.taskId), 'task keyed by framework and id').toBe(key);
    const holders = [...state.agents.values()].filter((a) => a.tasks.has(key));
    expect(holders.map((a) => a.id), `task ${key} is on exactly its own agent`).toEqual(state.agents.has(t.agentId) ? [t.agentId] : []);
  }
  for (const a of state.agents.values()) {
    for (const key of a.tasks) expect(state.tasks.get(key)?.agentId, `agent ${a.id} lists task ${key}`).toBe(a.id);
    for (const id of a.offers) expect(state.offers.get(id)?.agentId, `agent ${a.id} lists offer ${id}`).toBe(a.id);
    if (resources && a.status === 'active') expect(a.total.contains(usedOn(state, a.id)), `agent ${a.id}: used ${usedOn(state, a.id)} within ${a.total}`).toBe(true);
  }
  for (const f of state.frameworks.values()) {
    for (const key of f.tasks) expect(state.tasks.get(key)?.frameworkId, `framework ${f.id} lists task ${key}`).toBe(f.id);
    for (const id of f.offers) expect(state.offers.get(id)?.frameworkId, `framework ${f.id} lists offer ${id}`).toBe(f.id);
  }
  for (const o of state.offers.values()) {
    expect(inAllocator(state.agents.get(o.agentId)), `offer ${o.id} is of an active agent`).toBe(true);
    expect(state.agents.get(o.agentId)?.offers.has(o.id)).toBe(true);
    const f = state.frameworks.get(o.frameworkId);
    expect(f?.connected, `offer ${o.id} is to a connected framework`).toBe(true);
    expect(f?.offers.has(o.id)).toBe(true);
  }
  expect(state.completedTasks.size).toBeLessThanOrEqual(maxCompleted);
}

/**
 * Inverse offers: at most one outstanding per agent and framework, always; once the core has
 * synced them (`synced`: after a tick or a maintenance call), each is of an active DRAINING
 * agent, about its current window, to a connected framework.
 */
function checkInverseOffers(state: MasterState, synced: boolean): void {
  const pairs = [...state.maintenance.inverseOffers.values()].map((io) => `${io.agentId}/${io.frameworkId}`);
  expect(new Set(pairs).size, 'one outstanding inverse offer per agent and framework').toBe(pairs.length);
  if (!synced) return;
  for (const io of state.maintenance.inverseOffers.values()) {
    expect(state.agents.get(io.agentId)?.status, `inverse offer ${io.id} is of an active agent`).toBe('active');
    expect(unavailabilityOf(state.maintenance, io.agentId), `inverse offer ${io.id} is about the agent's current window`).toEqual(io.unavailability);
    expect(state.frameworks.get(io.frameworkId)?.connected, `inverse offer ${io.id} is to a connected framework`).toBe(true);
  }
}

/** How far the runs got: so that a generator that never reaches a state cannot pass unnoticed. */
interface Reach {
  offers: number;
  tasks: number;
  running: number;
  completed: number;
  inverseOffers: number;
  answers: number;
}

function observe(state: MasterState, reach: Reach): void {
  reach.inverseOffers += state.maintenance.inverseOffers.size > 0 ? 1 : 0;
  reach.answers += [...state.maintenance.responses.values()].some((r) => [...r.byFramework.values()].some((a) => a.status !== 'UNKNOWN')) ? 1 : 0;
  reach.offers += state.offers.size > 0 ? 1 : 0;
  reach.tasks += state.tasks.size > 0 ? 1 : 0;
  reach.running += [...state.tasks.values()].some((t) => t.state === 'TASK_RUNNING') ? 1 : 0;
  reach.completed += state.completedTasks.size > 0 ? 1 : 0;
}

describe('master core fuzz', () => {
  it('keeps its invariants under random sequences of well-formed inputs', () => {
    const reach: Reach = { offers: 0, tasks: 0, running: 0, completed: 0, inverseOffers: 0, answers: 0 };
    fc.assert(
      fc.property(sequence(structuredOp), (ops) => {
        const h = new MasterHarness();
        for (const op of ops) {
          apply(h, op);
          checkInvariants(h.core.state, h.core.config.maxCompletedTasks, true);
          checkInverseOffers(h.core.state, op.op === 'tick' || op.op === 'maintenance');
          observe(h.core.state, reach);
        }
      }),
      runs(150),
    );
    // Steps (of all runs) that had offers, live tasks, a running task, completed tasks, outstanding inverse offers, an answer recorded.
    expect(Math.min(reach.offers, reach.tasks, reach.running, reach.completed, reach.inverseOffers, reach.answers), JSON.stringify(reach)).toBeGreaterThan(20);
  });

  it('keeps its structure under random messages of every union it serves, from any principal', () => {
    fc.assert(
      fc.property(sequence(fc.oneof(structuredOp, randomOp)), (ops) => {
        const h = new MasterHarness();
        for (const op of ops) {
          apply(h, op);
          // Random REGISTER_AGENTs report tasks the agent may not have room for: the master
          // takes an agent's word for what runs on it, so only the structure is checked here.
          checkInvariants(h.core.state, h.core.config.maxCompletedTasks, false);
          checkInverseOffers(h.core.state, op.op === 'tick' || op.op === 'maintenance');
        }
      }),
      runs(100),
    );
  });
});
