/**
 * Invariants over what the run saw of the cluster (pure):
 *
 * - **no-double-run**: no task had processes in two sandbox runs at the same moment (the
 *   process samples), and no task id had more than one sandbox run in the end (a task id
 *   runs once: a second run means it was launched twice).
 * - **allocation-within-resources**: in every master state sampled, what each agent's
 *   live tasks and outstanding offers hold together fits the agent's resources.
 * - **converged**: after the last fault, within the bound, exactly one master led, every
 *   live agent was registered and active, and no offer was stuck.
 */
import { Resources } from '../../protocol/resources.js';
import { isTerminal } from '../../protocol/task-state.js';
import type { Convergence, MasterSample, ProcessSample, Violation } from './types.js';

/** no-double-run: see the file's comment. */
export function checkNoDoubleRun(samples: readonly ProcessSample[], sandboxRuns: Readonly<Record<string, number>>): Violation[] {
  const out: Violation[] = [];
  const reported = new Set<string>();
  for (const s of samples) {
    const runs = new Map<string, Set<string>>();
    for (const r of s.runs) runs.set(r.taskId, (runs.get(r.taskId) ?? new Set()).add(r.sandbox));
    for (const [taskId, sandboxes] of runs) {
      if (sandboxes.size < 2 || reported.has(taskId)) continue;
      reported.add(taskId);
      out.push({ invariant: 'no-double-run', taskId, at: s.at, message: `task ${taskId} ran in ${sandboxes.size} sandboxes at once: ${[...sandboxes].join(', ')}` });
    }
  }
  for (const [taskId, n] of Object.entries(sandboxRuns)) {
    if (n < 2 || reported.has(taskId)) continue;
    out.push({ invariant: 'no-double-run', taskId, message: `task ${taskId} was run ${n} times (sandbox runs across agents)` });
  }
  return out;
}

/** allocation-within-resources: see the file's comment. One violation per agent at most (its first). */
export function checkAllocation(samples: readonly MasterSample[]): Violation[] {
  const out: Violation[] = [];
  const reported = new Set<string>();
  for (const s of samples) {
    for (const agent of s.agents) {
      if (reported.has(agent.id)) continue;
      const held = [
        ...s.tasks.filter((t) => t.agentId === agent.id && !isTerminal(t.state)).map((t) => t.resources),
        ...s.offers.filter((o) => o.agentId === agent.id).map((o) => o.resources),
      ];
      const total = held.reduce((sum, text) => sum.add(parse(text)), Resources.empty());
      if (parse(agent.resources).contains(total)) continue;
      reported.add(agent.id);
      const tasks = s.tasks.filter((t) => t.agentId === agent.id && !isTerminal(t.state)).length;
      const offers = s.offers.filter((o) => o.agentId === agent.id).length;
      out.push({ invariant: 'allocation-within-resources', agentId: agent.id, at: s.at, message: `agent ${agent.id} (${agent.status}) has ${agent.resources} but ${tasks} tasks and ${offers} offers held ${total.toString()} (master ${s.masterId}, epoch ${s.epoch})` });
    }
  }
  return out;
}

function parse(text: string): Resources {
  return text.trim() === '' ? Resources.empty() : Resources.parse(text);
}

/** converged: see the file's comment. */
export function checkConverged(c: Convergence): Violation[] {
  if (c.convergedAt !== undefined && c.convergedAt - c.lastFaultEndedAt <= c.boundMs) return [];
  return [{ invariant: 'converged', at: c.lastFaultEndedAt, message: `the cluster did not converge within ${c.boundMs} ms of the last fault: ${c.problems.join('; ') || 'no probe succeeded'}` }];
}

/** The convergence probe's conditions over one observation (pure): what does not hold yet. */
export function convergenceProblems(o: {
  now: number;
  /** Masters alive, and what each answered to PING (undefined: no answer). */
  masters: Array<{ name: string; leading: boolean | undefined }>;
  /** The leader's state, undefined when GET_STATE got no answer. */
  state: MasterSample | undefined;
  /** Agents whose process is alive. */
  liveAgents: readonly string[];
  /** Frameworks connected to the leader. */
  connectedFrameworks: readonly string[];
  /** An offer older than this is stuck, ms. */
  offerStuckMs: number;
  /** Only these frameworks' offers are checked for age (default every framework's; an attached cluster's other frameworks may hold offers as long as they like). */
  ageCheckedFrameworks?: readonly string[];
}): string[] {
  const problems: string[] = [];
  const silent = o.masters.filter((m) => m.leading === undefined).map((m) => m.name);
  if (silent.length > 0) problems.push(`masters not answering PING: ${silent.join(', ')}`);
  const leaders = o.masters.filter((m) => m.leading === true).map((m) => m.name);
  if (leaders.length !== 1) problems.push(`${leaders.length} masters lead${leaders.length > 0 ? `: ${leaders.join(', ')}` : ''}`);
  if (o.state === undefined) return [...problems, 'no master answers GET_STATE'];
  for (const id of o.liveAgents) {
    const a = o.state.agents.find((x) => x.id === id);
    if (a?.status !== 'active') problems.push(`agent ${id} is ${a?.status ?? 'not registered'}`);
  }
  for (const offer of o.state.offers) {
    const agent = o.state.agents.find((a) => a.id === offer.agentId);
    if (agent?.status !== 'active') problems.push(`offer ${offer.id} is on agent ${offer.agentId}, which is ${agent?.status ?? 'unknown'}`);
    else if (!o.connectedFrameworks.includes(offer.frameworkId)) problems.push(`offer ${offer.id} is held for framework ${offer.frameworkId}, which is not connected`);
    else if (o.now - offer.createdAt > o.offerStuckMs && (o.ageCheckedFrameworks?.includes(offer.frameworkId) ?? true)) problems.push(`offer ${offer.id} has been outstanding for ${o.now - offer.createdAt} ms`);
  }
  return problems;
}
