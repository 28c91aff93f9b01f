/**
 * Asking the cluster how it is: each master's PING (does it lead?), the leader's GET_STATE
 * reduced to a `MasterSample`, and the convergence probe after the last fault.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from '../../actors/runtime/request.js';
import { PingReply } from '../../protocol/leader.js';
import type { MasterSnapshot } from '../../protocol/operator.js';
import { Subjects } from '../../protocol/subjects.js';
import { getState } from '../readiness.js';
import { convergenceProblems } from './cluster-invariants.js';
import type { Convergence, MasterSample } from './types.js';

const PRINCIPAL = 'nesos-chaos';

/** Whether master `id` leads: true, false, or undefined when it does not answer. */
export async function pingMaster(nc: NatsConnection, cluster: string, id: string, timeoutMs = 500): Promise<boolean | undefined> {
  try {
    const pong = await request(nc, new Subjects(cluster).masterPing(id), { type: 'PING', from: PRINCIPAL }, PingReply, { timeoutMs });
    return pong.leading;
  } catch {
    return undefined;
  }
}

/** The leader's state, or undefined when nobody answers in time. */
export async function leaderState(nc: NatsConnection, cluster: string, timeoutMs = 1000): Promise<MasterSnapshot | undefined> {
  try {
    return await getState(nc, cluster, PRINCIPAL, timeoutMs);
  } catch {
    return undefined;
  }
}

/** A snapshot reduced to what the checker needs. */
export function sampleOf(s: MasterSnapshot, at: number): MasterSample {
  return {
    at,
    masterId: s.masterId,
    epoch: s.epoch,
    agents: s.agents.map((a) => ({ id: a.id, status: a.status, resources: a.resources })),
    tasks: s.tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId, state: t.state, resources: t.resources })),
    offers: s.offers.map((o) => ({ id: o.id, agentId: o.agentId, frameworkId: o.frameworkId, resources: o.resources, createdAt: o.createdAt })),
  };
}

/** What the convergence probe needs to know of the run's processes. */
export interface ProbeTargets {
  /** Names (ids) of the masters whose process is alive. */
  liveMasters(): string[];
  /** Ids of the agents whose process is alive. */
  liveAgents(): string[];
}

/** Probes every 500 ms until the cluster converged or `boundMs` passed since `lastFaultEndedAt`. */
export async function awaitConvergence(nc: NatsConnection, cluster: string, targets: ProbeTargets, lastFaultEndedAt: number, boundMs: number, offerStuckMs = 10_000, ageCheckedFrameworks?: readonly string[]): Promise<Convergence> {
  let problems: string[] = ['not probed'];
  const deadline = lastFaultEndedAt + boundMs;
  for (let i = 0; i < 10_000; i++) {
    const masters = await Promise.all(targets.liveMasters().map(async (name) => ({ name, leading: await pingMaster(nc, cluster, name) })));
    const snapshot = await leaderState(nc, cluster);
    const now = Date.now();
    problems = convergenceProblems({
      now,
      masters,
      state: snapshot === undefined ? undefined : sampleOf(snapshot, now),
      liveAgents: targets.liveAgents(),
      connectedFrameworks: snapshot?.frameworks.filter((f) => f.connected).map((f) => f.id) ?? [],
      offerStuckMs,
      ...(ageCheckedFrameworks !== undefined && { ageCheckedFrameworks }),
    });
    if (problems.length === 0) return { lastFaultEndedAt, boundMs, convergedAt: now, problems };
    if (now > deadline) break;
    await sleep(500);
  }
  return { lastFaultEndedAt, boundMs, problems };
}
