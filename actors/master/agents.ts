/**
 * Agents in the master: admission and readmission (rebuilding tasks from what the agent
 * reports, as Mesos does), heartbeats, executor exits, and marking silent agents
 * unreachable.
 */
import { syncInverseOffers } from './inverse-offers.js';
import type { z } from 'zod';
import type { ExecutorToFramework, ExitedExecutor, RegisterAgent, TaskOnAgent, TaskRef } from '../../protocol/agent.js';
import { Resources, type ResourceWire } from '../../protocol/resources.js';
import { canTransition } from '../../protocol/task-lifecycle.js';
import { TaskReason, TaskState, isTerminal } from '../../protocol/task-state.js';
import { Rejection, type ReplyMessage } from '../runtime/actor.js';
import type { Step } from './context.js';
import { executorUse, rebuildExecutors, removeExecutor } from './executors.js';
import { rescindOffer } from './offers.js';
import { completeTask, isPartitionAware, masterStatus, setTaskState } from './tasks.js';
import type { RegistryAgent } from './registry.js';
import { withCheckpointed } from './reservations.js';
import { recordStatus } from './task-history.js';
import { inAllocator, taskKey, type AgentRecord, type TaskRecord } from './state.js';

/** The kind each well-known resource must have (as Mesos validates an agent's resources). */
const WELL_KNOWN_KINDS: Readonly<Record<string, 'scalar' | 'ranges' | 'set'>> = { cpus: 'scalar', mem: 'scalar', disk: 'scalar', gpus: 'scalar', ports: 'ranges' };

/**
 * One resource name has one kind across the cluster: the well-known names theirs, any
 * other the kind the agents registered so far give it. Otherwise sums across agents (a
 * framework's allocation, the cluster's total) would mix kinds. Throws INVALID.
 */
function checkResourceKinds(step: Step, agentId: string, total: Resources): void {
  for (const entry of total.entries()) {
    const want = WELL_KNOWN_KINDS[entry.name] ?? kindInCluster(step, agentId, entry.name);
    if (want !== undefined && want !== entry.kind) {
      throw new Rejection('INVALID', `agent resources: "${entry.name}" is ${entry.kind} here but ${want} in this cluster; give it as ${want} (e.g. ${want === 'ranges' ? `${entry.name}:[31000-32000]` : want === 'set' ? `${entry.name}:{a,b}` : `${entry.name}:4`})`);
    }
  }
}

/** The kind other agents give resource `name`, if any has it. */
function kindInCluster(step: Step, agentId: string, name: string): 'scalar' | 'ranges' | 'set' | undefined {
  for (const agent of step.state.agents.values()) {
    if (agent.id === agentId || agent.status === 'gone') continue;
    const entry = agent.total.entries().find((e) => e.name === name);
    if (entry !== undefined) return entry.kind;
  }
  return undefined;
}

/** REGISTER_AGENT: admit a new agent or readmit a known one with the tasks it reports. */
export function onRegisterAgent(step: Step, msg: z.infer<typeof RegisterAgent>, principal: string): ReplyMessage {
  const info = msg.agent;
  if (info.id !== principal) {
    throw new Rejection('WRONG_PRINCIPAL', `agent ${info.id} must register on its own subject, not as ${principal}`);
  }
  let staticTotal: Resources;
  try {
    staticTotal = Resources.fromWire(info.resources);
  } catch (e) {
    throw new Rejection('INVALID', `agent resources: ${e instanceof Error ? e.message : String(e)}`);
  }
  checkResourceKinds(step, info.id, staticTotal);
  const known = step.state.agents.get(info.id);
  const kept = withCheckpointed(staticTotal, known?.checkpointed ?? Resources.empty());
  const total = kept.total;
  const checkpointed = kept.dropped ? Resources.empty() : (known?.checkpointed ?? Resources.empty());
  if (known?.status === 'gone') {
    throw new Rejection('AGENT_GONE', `agent ${info.id} was marked gone by an operator and may not register again; start it with a new work dir (a new id)`);
  }
  if (known !== undefined) {
    for (const offerId of [...known.offers]) rescindOffer(step, offerId, false);
    if (inAllocator(known)) step.allocator({ op: 'removeAgent', agentId: info.id });
  }
  // An agent the registry holds as it is (active, or recovering after a failover: its record
  // is the one just loaded) costs no write; a new, returning-from-unreachable or changed one does.
  const recorded = (known?.status === 'active' || known?.status === 'recovering') && !kept.dropped && JSON.stringify(known.info) === JSON.stringify(info);
  if (!recorded) {
    const drain = { ...(known?.draining === true && { draining: true }), ...(known?.goneWhenDrained === true && { goneWhenDrained: true }) };
    step.registry({ op: 'put-agent', agent: agentEntry(info, known?.registeredAtMs ?? step.now, checkpointed, known?.deactivated === true, drain) });
  }
  const agent: AgentRecord = {
    id: info.id,
    hostname: info.hostname,
    info,
    total,
    checkpointed,
    attributes: info.attributes,
    status: 'active',
    lastSeenMs: step.now,
    registeredAtMs: known?.registeredAtMs ?? step.now,
    tasks: known?.tasks ?? new Set(),
    offers: new Set(),
    ...(known?.deactivated === true && { deactivated: true }),
    ...(known?.draining === true && { draining: true }),
    ...(known?.goneWhenDrained === true && { goneWhenDrained: true }),
  };
  step.state.agents.set(agent.id, agent);
  reconcileReportedTasks(step, agent, msg.tasks, known !== undefined && known.status !== 'recovering');
  rebuildExecutors(step, agent);
  // What RESERVE and CREATE made of it, as recorded: the agent removes volumes destroyed meanwhile.
  step.toAgent(agent.id, { type: 'CHECKPOINT_RESOURCES', resources: checkpointed.toWire() });
  const used = usedByFramework(step, agent);
  for (const [frameworkId, r] of executorUse(agent)) used.set(frameworkId, (used.get(frameworkId) ?? Resources.empty()).add(r));
  if (inAllocator(agent)) step.allocator({ op: 'addAgent', agentId: agent.id, total, used });
  return {
    type: 'AGENT_REGISTERED',
    epoch: step.config.epoch,
    agentId: agent.id,
    masterId: step.config.masterId,
    heartbeatIntervalMs: step.config.agentHeartbeatIntervalMs,
  };
}

/** What each framework's live tasks use on `agent`. */
function usedByFramework(step: Step, agent: AgentRecord): Map<string, Resources> {
  const bags = new Map<string, Resources[]>();
  for (const key of agent.tasks) {
    const task = step.state.tasks.get(key);
    if (task === undefined || isTerminal(task.state)) continue;
    task.resourcesRecovered = false;
    const list = bags.get(task.frameworkId);
    if (list === undefined) bags.set(task.frameworkId, [task.resources]);
    else list.push(task.resources);
  }
  const used = new Map<string, Resources>();
  for (const [frameworkId, list] of bags) used.set(frameworkId, Resources.sum(list));
  return used;
}

/**
 * Brings the task table in line with what a (re)registering agent runs: reported tasks are
 * (re)created with the agent's state; tasks it reports as ended go to the completed tasks;
 * tasks the master declared LOST are killed (their framework was told they ended); tasks
 * that came back from UNREACHABLE are reported to their framework; launched tasks the agent
 * no longer has are gone.
 */
function reconcileReportedTasks(step: Step, agent: AgentRecord, reported: TaskOnAgent[], readmitted: boolean): void {
  const seen = new Set<string>();
  const parse = wireParser();
  for (const r of reported) {
    const key = taskKey(r.frameworkId, r.task.taskId);
    seen.add(key);
    if (isTerminal(r.state)) {
      endReportedTask(step, agent, r, key, parse);
      continue;
    }
    if (step.state.completedTasks.has(key) && !step.state.tasks.has(key)) {
      step.toAgent(agent.id, { type: 'KILL_TASK', frameworkId: r.frameworkId, taskId: r.task.taskId });
      continue;
    }
    const existing = step.state.tasks.get(key);
    if (existing !== undefined) {
      const wasUnreachable = existing.state === TaskState.UNREACHABLE;
      existing.state = r.state;
      // The framework last heard UNREACHABLE: it hears the task's state again only where the
      // lifecycle allows that move (a task still STAGING stays silent; its own STARTING or
      // RUNNING comes through the stream and is a legal move from UNREACHABLE).
      if (wasUnreachable && canTransition(TaskState.UNREACHABLE, r.state)) {
        setStatusFromAgent(step, existing, r.state);
      }
      continue;
    }
    const task = reportedTask(agent, r, parse);
    if (task === undefined) continue;
    step.state.tasks.set(key, task);
    agent.tasks.add(key);
    step.state.frameworks.get(r.frameworkId)?.tasks.add(key);
  }
  if (!readmitted) return;
  const staging: TaskRef[] = [];
  for (const key of [...agent.tasks]) {
    const task = step.state.tasks.get(key);
    if (task === undefined || seen.has(key) || isTerminal(task.state)) continue;
    if (task.state === TaskState.STAGING) {
      // Its RUN_TASK may still be on the way, or may have reached nobody (the agent's process
      // was replaced meanwhile): the agent is asked, behind any such RUN_TASK (see onTasksUnknown).
      staging.push({ frameworkId: task.frameworkId, taskId: task.info.taskId });
      continue;
    }
    const framework = step.state.frameworks.get(task.frameworkId);
    const state = isPartitionAware(framework) ? TaskState.GONE : TaskState.LOST;
    task.resourcesRecovered = true;
    setTaskState(step, task, state, TaskReason.AGENT_REMOVED, 'task not reported by its agent when it registered again');
  }
  if (staging.length > 0) step.toAgent(agent.id, { type: 'RECONCILE_TASKS', tasks: staging });
}

/**
 * TASKS_UNKNOWN: the agent does not have these tasks, asked after their RUN_TASK on the same
 * channel (RECONCILE_TASKS, KILL_TASK), so their launch reached nobody. Those still STAGING
 * on this agent end TASK_DROPPED (partition-aware frameworks) or TASK_LOST, with
 * REASON_RECONCILIATION, as Mesos's agent answers them; their resources return. Any other
 * (moved on meanwhile, on another agent, ended) is left alone.
 */
export function onTasksUnknown(step: Step, agentId: string, tasks: readonly TaskRef[]): void {
  for (const { frameworkId, taskId } of tasks) {
    const task = step.state.tasks.get(taskKey(frameworkId, taskId));
    if (task === undefined || task.agentId !== agentId || task.state !== TaskState.STAGING) continue;
    const aware = isPartitionAware(step.state.frameworks.get(frameworkId));
    step.log('info', 'a task unknown to its agent ends: its launch never reached the agent', { taskId, frameworkId, agentId });
    setTaskState(step, task, aware ? TaskState.DROPPED : TaskState.LOST, TaskReason.RECONCILIATION, `task unknown to agent ${agentId}: its launch never reached it`);
  }
}

/**
 * `Resources.fromWire` for the tasks of one registration, which mostly ask for the same
 * resources: a wire list equal to the one parsed just before (plain scalar entries, compared
 * field by field) gets the same bag (bags are immutable) instead of a new parse; 10,000
 * agents re-registering 100,000 tasks after a failover parse a few.
 */
function wireParser(): (wire: readonly ResourceWire[]) => Resources {
  let lastWire: readonly ResourceWire[] | undefined;
  let last: Resources | undefined;
  return (wire) => {
    if (last !== undefined && lastWire !== undefined && samePlainScalars(wire, lastWire)) return last;
    const parsed = Resources.fromWire(wire);
    lastWire = wire;
    last = parsed;
    return parsed;
  };
}

/** True when both lists hold the same scalar entries, none of them reserved dynamically, with labels or a volume. */
function samePlainScalars(a: readonly ResourceWire[], b: readonly ResourceWire[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ResourceWire;
    const y = b[i] as ResourceWire;
    if (x.scalar === undefined || x.scalar !== y.scalar || x.name !== y.name || x.role !== y.role) return false;
    if (x.dynamic !== undefined || y.dynamic !== undefined || x.labels !== undefined || y.labels !== undefined || x.volume !== undefined || y.volume !== undefined) return false;
    if (y.ranges !== undefined || y.set !== undefined) return false;
  }
  return true;
}

/** A record of a task as its agent reports it; undefined when its resources do not parse. */
function reportedTask(agent: AgentRecord, r: TaskOnAgent, parse: (wire: readonly ResourceWire[]) => Resources): TaskRecord | undefined {
  let resources: Resources;
  try {
    resources = parse(r.task.resources);
  } catch {
    return undefined;
  }
  return { frameworkId: r.frameworkId, agentId: agent.id, info: r.task, resources, state: r.state, status: undefined, lastUpdateSeq: undefined, resourcesRecovered: false };
}

/**
 * A task the agent reports as ended (it keeps the last ones it ran): it goes to the
 * completed tasks, so that reconciliation answers its state. Its update is in the stream
 * already; its resources are not counted (the allocator gets this agent's use afresh).
 */
function endReportedTask(step: Step, agent: AgentRecord, r: TaskOnAgent, key: string, parse: (wire: readonly ResourceWire[]) => Resources): void {
  if (step.state.completedTasks.has(key) && !step.state.tasks.has(key)) return;
  const task = step.state.tasks.get(key) ?? reportedTask(agent, r, parse);
  if (task === undefined) return;
  task.state = r.state;
  task.resourcesRecovered = true;
  completeTask(step, task);
}

/** A task whose agent came back from unreachable: its framework learns its state (a change, so through the stream). */
function setStatusFromAgent(step: Step, task: TaskRecord, state: TaskState): void {
  const status = step.withUuid(masterStatus(step, { taskId: task.info.taskId, agentId: task.agentId }, state, TaskReason.RECONCILIATION, 'agent reachable again'));
  recordStatus(task, status);
  step.publishUpdate(task.frameworkId, status, task.lastUpdateSeq ?? 0);
}

/** HEARTBEAT: an agent the master does not know (or has marked unreachable) must register again. */
export function onAgentHeartbeat(step: Step, agentId: string): ReplyMessage {
  const agent = step.state.agents.get(agentId);
  if (agent === undefined || agent.status !== 'active') {
    throw new Rejection('UNKNOWN_AGENT', `agent ${agentId} is not registered with this master: register again`);
  }
  agent.lastSeenMs = step.now;
  return { type: 'OK', epoch: step.config.epoch };
}

/** EXITED_EXECUTOR: a custom executor's resources go back; tell the framework (FAILURE with the executor's status). */
export function onExitedExecutor(step: Step, msg: z.infer<typeof ExitedExecutor>): void {
  removeExecutor(step, msg.agentId, msg.frameworkId, msg.executorId);
  if (!step.state.frameworks.has(msg.frameworkId)) return;
  step.toFramework(msg.frameworkId, {
    type: 'FAILURE',
    agentId: msg.agentId,
    executorId: msg.executorId,
    ...(msg.exitCode !== undefined && { status: msg.exitCode }),
  });
}

/** EXECUTOR_TO_FRAMEWORK: pass the bytes on as a MESSAGE event. */
export function onExecutorToFramework(step: Step, msg: z.infer<typeof ExecutorToFramework>): void {
  if (!step.state.frameworks.has(msg.frameworkId)) return;
  step.toFramework(msg.frameworkId, { type: 'MESSAGE', agentId: msg.agentId, executorId: msg.executorId, data: msg.data });
}

/**
 * Marks an agent unreachable: its offers are rescinded, it leaves the allocator, its tasks
 * become UNREACHABLE (partition-aware frameworks) or LOST (others), and every framework
 * gets FAILURE for the agent.
 */
export function markUnreachable(step: Step, agent: AgentRecord, why: string): void {
  const wasActive = inAllocator(agent);
  agent.status = 'unreachable';
  agent.reregisterDeadlineMs = undefined;
  step.registry({ op: 'put-agent', agent: { ...agentEntry(agent.info, agent.registeredAtMs, agent.checkpointed, agent.deactivated === true), unreachableSince: step.now } });
  for (const offerId of [...agent.offers]) rescindOffer(step, offerId, false);
  if (wasActive) step.allocator({ op: 'removeAgent', agentId: agent.id });
  for (const key of [...agent.tasks]) {
    const task = step.state.tasks.get(key);
    if (task === undefined || isTerminal(task.state)) continue;
    task.resourcesRecovered = true; // the allocator dropped the agent with everything on it
    const aware = isPartitionAware(step.state.frameworks.get(task.frameworkId));
    setTaskState(step, task, aware ? TaskState.UNREACHABLE : TaskState.LOST, TaskReason.AGENT_UNREACHABLE, why);
  }
  for (const framework of step.state.frameworks.values()) {
    if (framework.connected) step.toFramework(framework.id, { type: 'FAILURE', agentId: agent.id });
  }
  // Its inverse offers go now, not at the next tick: an unreachable agent has none.
  syncInverseOffers(step);
}

/**
 * Marks unreachable every active agent that has been silent too long, and every agent from
 * the registry that did not register again with this leader in time.
 */
export function checkAgentHealth(step: Step): void {
  const timeout = step.config.agentHeartbeatIntervalMs * step.config.maxMissedAgentHeartbeats;
  for (const agent of step.state.agents.values()) {
    if (agent.status === 'active' && step.now - agent.lastSeenMs > timeout) {
      markUnreachable(step, agent, `agent ${agent.id} missed ${step.config.maxMissedAgentHeartbeats} heartbeats`);
    } else if (agent.status === 'recovering' && step.now >= (agent.reregisterDeadlineMs ?? step.now)) {
      markUnreachable(step, agent, `agent ${agent.id} did not register again within ${step.config.agentReregisterTimeoutMs} ms of the failover`);
    }
  }
}

/**
 * An agent from the registry after a failover: known, but not active until it registers
 * again (with its tasks); unreachable ones stay unreachable until they do.
 */
export function recoverAgent(step: Step, record: RegistryAgent): void {
  let total: Resources;
  let checkpointed: Resources;
  try {
    checkpointed = Resources.fromWire(record.checkpointed ?? []);
    total = withCheckpointed(Resources.fromWire(record.info.resources), checkpointed).total;
  } catch {
    return; // a record this version cannot read: the agent registers afresh
  }
  const unreachable = record.unreachableSince !== undefined;
  const gone = record.goneSince !== undefined;
  step.state.agents.set(record.info.id, {
    id: record.info.id,
    hostname: record.info.hostname,
    info: record.info,
    total,
    checkpointed,
    attributes: record.info.attributes,
    status: gone ? 'gone' : unreachable ? 'unreachable' : 'recovering',
    ...(record.deactivated === true && { deactivated: true }),
    ...(record.draining === true && { draining: true }),
    ...(record.goneWhenDrained === true && { goneWhenDrained: true }),
    lastSeenMs: step.now,
    registeredAtMs: record.admittedAt,
    ...(!unreachable && !gone && { reregisterDeadlineMs: step.now + step.config.agentReregisterTimeoutMs }),
    tasks: new Set(),
    offers: new Set(),
  });
}

/** An agent's registry record (without the unreachable and gone marks). */
export function agentEntry(
  info: AgentRecord['info'],
  admittedAt: number,
  checkpointed: Resources,
  deactivated: boolean,
  drain: { draining?: boolean; goneWhenDrained?: boolean } = {},
): RegistryAgent {
  return {
    info,
    admittedAt,
    ...(!checkpointed.isEmpty() && { checkpointed: checkpointed.toWire() }),
    ...(deactivated && { deactivated: true }),
    ...(drain.draining === true && { draining: true }),
    ...(drain.goneWhenDrained === true && { goneWhenDrained: true }),
  };
}
