/**
 * An agent's own state and metrics, served by any master (the agent answers over NATS; the
 * master only relays, so standbys serve it too):
 *
 * - `GET /agents/:agentId/state`: the agent's AGENT_STATE (`protocol/agent-state.ts`) as JSON:
 *   isolator, drain, recovery, tasks, and per executor its container's usage and limits.
 * - `GET /agents/:agentId/metrics`: the same figures in Prometheus text (see AGENT_METRIC_NAMES).
 *
 * An agent that does not answer is 502 UNKNOWN_AGENT (an unknown agent id gives the same:
 * nothing answers on its subject); a malformed id is 400.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentSnapshot } from '../../protocol/agent-state.js';
import { Id } from '../../protocol/schema.js';
import { isRetryable } from '../runtime/errors.js';
import { AgentUnreachableError, BadRequestError, HttpApiError, NotImplementedError, statusOfRejection } from './errors.js';
import type { OperatorSource } from './types.js';

/** Every metric name of `/agents/:agentId/metrics`, for docs and tests. */
export const AGENT_METRIC_NAMES = [
  'nesos_agent_registered',
  'nesos_agent_draining',
  'nesos_agent_tasks',
  'nesos_agent_executors',
  'nesos_agent_executor_cpu_seconds_total',
  'nesos_agent_executor_memory_bytes',
  'nesos_agent_executor_memory_max_bytes',
  'nesos_agent_executor_memory_limit_bytes',
  'nesos_agent_executor_cpus_limit',
  'nesos_agent_executor_processes',
  'nesos_agent_executor_throttled_periods_total',
  'nesos_agent_executor_process_memory_bytes',
] as const;

/** Renders one agent's state as Prometheus text (a fresh registry per scrape: the labels are the agent's executors now). */
export async function renderAgentMetrics(state: AgentSnapshot): Promise<{ text: string; contentType: string }> {
  const registry = new Registry();
  registry.setDefaultLabels({ agent: state.id });
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const counter = (name: string, help: string, labelNames: string[]) => new Counter({ name, help, labelNames, registers: [registry] });

  gauge('nesos_agent_registered', '1 while the agent is registered with a leading master').set(state.registered ? 1 : 0);
  const drain = gauge('nesos_agent_draining', 'The drain state: 1 for the state the agent is in', ['state']);
  for (const s of ['active', 'draining', 'drained'] as const) drain.set({ state: s }, state.drain.state === s ? 1 : 0);
  const tasks = gauge('nesos_agent_tasks', 'Tasks the agent holds, by state', ['state']);
  const byState = new Map<string, number>();
  for (const t of state.tasks) byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
  for (const [s, n] of byState) tasks.set({ state: s }, n);
  const executors = gauge('nesos_agent_executors', 'Executors the agent holds, by kind and phase', ['kind', 'phase']);
  const byKind = new Map<string, { kind: string; phase: string; n: number }>();
  for (const e of state.executors) {
    const key = `${e.kind}/${e.phase}`;
    const entry = byKind.get(key) ?? { kind: e.kind, phase: e.phase, n: 0 };
    entry.n += 1;
    byKind.set(key, entry);
  }
  for (const { kind, phase, n } of byKind.values()) executors.set({ kind, phase }, n);

  const ex = ['executor', 'framework'];
  const cpu = counter('nesos_agent_executor_cpu_seconds_total', "CPU time of the executor's container (its tasks), by mode", [...ex, 'mode']);
  const mem = gauge('nesos_agent_executor_memory_bytes', "Memory the executor's container uses", ex);
  const memMax = gauge('nesos_agent_executor_memory_max_bytes', "Highest memory the executor's container used", ex);
  const memLimit = gauge('nesos_agent_executor_memory_limit_bytes', "The executor container's memory limit", ex);
  const cpusLimit = gauge('nesos_agent_executor_cpus_limit', "The executor container's cpu limit", ex);
  const procs = gauge('nesos_agent_executor_processes', "Processes in the executor's container", ex);
  const throttled = counter('nesos_agent_executor_throttled_periods_total', 'CFS periods in which the cpu quota throttled the container (cgroups)', ex);
  const own = gauge('nesos_agent_executor_process_memory_bytes', 'Resident memory of the executor process itself (outside its container)', ex);
  for (const e of state.executors) {
    const labels = { executor: e.executorId, framework: e.frameworkId };
    if (e.executorMemBytes !== undefined) own.set(labels, e.executorMemBytes);
    const u = e.usage;
    if (u === undefined) continue;
    cpu.inc({ ...labels, mode: 'user' }, u.cpuUserSeconds);
    cpu.inc({ ...labels, mode: 'system' }, u.cpuSystemSeconds);
    mem.set(labels, u.memBytes);
    procs.set(labels, u.processes);
    if (u.memMaxBytes !== undefined) memMax.set(labels, u.memMaxBytes);
    if (u.memLimitBytes !== undefined) memLimit.set(labels, u.memLimitBytes);
    if (u.cpusLimit !== undefined) cpusLimit.set(labels, u.cpusLimit);
    if (u.throttledPeriods !== undefined) throttled.inc(labels, u.throttledPeriods);
  }
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/** Asks the agent for its state through the source; maps its failures to HTTP errors. */
async function stateOf(source: OperatorSource, rawId: unknown): Promise<AgentSnapshot> {
  const id = Id.safeParse(rawId);
  if (!id.success) throw new BadRequestError('INVALID', `bad agent id in the path: ${id.error.issues[0]?.message ?? 'invalid'} (use an id from /state or \`nesos agents\`)`);
  if (source.agentState === undefined) throw new NotImplementedError('agent state');
  let reply;
  try {
    reply = await source.agentState(id.data);
  } catch (e) {
    if (isRetryable(e)) throw new AgentUnreachableError(id.data, { cause: e });
    throw e;
  }
  if (reply.type === 'REJECTED') throw new HttpApiError(statusOfRejection(reply.code), reply.code, reply.reason);
  return reply.state;
}

/** Registers GET /agents/:agentId/state and GET /agents/:agentId/metrics. */
export function registerAgentRoutes(app: FastifyInstance, source: OperatorSource): void {
  app.get<{ Params: { agentId: string } }>('/agents/:agentId/state', async (req, reply) => {
    const state = await stateOf(source, req.params.agentId);
    void reply.header('cache-control', 'no-store');
    return state;
  });
  app.get<{ Params: { agentId: string } }>('/agents/:agentId/metrics', async (req, reply) => {
    const { text, contentType } = await renderAgentMetrics(await stateOf(source, req.params.agentId));
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(text);
  });
}
