// Master failover on a real cluster: three masters (one leads), agents and a framework.
// Killing the leader loses no task and no terminal update, launches nothing twice; a
// framework that goes away and comes back (same id) gets the updates it missed; a leader
// that was paused (SIGSTOP) and resumed acts on nothing it received meanwhile; a standby that
// takes over starts from its copy of the registry, which holds the old leader's last write.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OfferPool, Scheduler, TaskState, isTerminal, type Offer, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import { agentKey } from '../../actors/master/registry.js';
import { openRegistryBucket } from '../../actors/runtime/kv.js';
import { request } from '../../actors/runtime/request.js';
import { MasterReplyToAgent } from '../../protocol/agent.js';
import { Resources } from '../../protocol/resources.js';
import { Subjects } from '../../protocol/subjects.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup } from '../helpers/processes.js';

// A 2 s lease (the default) renewed every 200 ms: short enough for the SIGSTOP case, long
// enough that a loaded test machine does not change leaders by itself.
const MASTER_ARGS = ['--lease-ms', '2000', '--renew-interval-ms', '200'];

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function until(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${cluster?.logs() ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every run directory of every executor of `frameworkId`, on every agent: executor (task) id → runs. */
function runsByTask(dir: string, frameworkId: string): Map<string, number> {
  const runs = new Map<string, number>();
  for (const agentDir of readdirSync(dir).filter((d) => d.startsWith('agent-'))) {
    const agentsRoot = join(dir, agentDir, 'agents');
    let agents: string[] = [];
    try {
      agents = readdirSync(agentsRoot);
    } catch {
      continue;
    }
    for (const agentId of agents) {
      const executors = join(agentsRoot, agentId, 'frameworks', frameworkId, 'executors');
      let ids: string[] = [];
      try {
        ids = readdirSync(executors);
      } catch {
        continue;
      }
      for (const id of ids) {
        const n = readdirSync(join(executors, id, 'runs')).filter((r) => r !== 'latest').length;
        runs.set(id, (runs.get(id) ?? 0) + n);
      }
    }
  }
  return runs;
}

describe('master failover', () => {
  it('SIGKILL of the leader while 100 tasks run on 3 agents: every task ends, every terminal update arrives, none runs twice', async () => {
    cluster = await TestCluster.start({ masters: 3, agents: 3, agentResources: 'cpus:4;mem:4096;disk:1024;ports:[31000-31100]', masterArgs: MASTER_ARGS });
    const first = await cluster.leader();
    const sched = await Scheduler.connect({
      servers: cluster.natsUrl,
      cluster: cluster.name,
      framework: { name: 'hundred', failoverTimeoutSeconds: 60 },
      logger: silentLogger(),
    });
    const JOBS = 100;
    const pending: number[] = Array.from({ length: JOBS }, (_, i) => i);
    const jobOf = new Map<string, number>(); // task id → job
    const uncertain = new Map<string, string>(); // task id → agent id: ACCEPT got no answer
    const finished = new Set<number>();
    const terminal = new Map<string, TaskStatus>();
    const seen = new Set<string>();
    const history = new Map<string, string[]>(); // task id → states (and reasons) as they arrived
    let launched = 0;
    try {
      sched.on('update', (status) => {
        const job = jobOf.get(status.taskId);
        if (job === undefined) return;
        seen.add(status.taskId);
        history.set(status.taskId, [...(history.get(status.taskId) ?? []), `${status.state}${status.reason ? `(${status.reason}: ${status.message ?? ''})` : ''}${status.uuid ? '' : '[no uuid]'}`]);
        uncertain.delete(status.taskId);
        if (!isTerminal(status.state)) return;
        const first = !terminal.has(status.taskId);
        terminal.set(status.taskId, status);
        if (status.state === TaskState.FINISHED) finished.add(job);
        // Ended without finishing (LOST, then maybe KILLED when its agent came back): try
        // the job again under a new id, once per task.
        else if (first && !finished.has(job) && !pending.includes(job)) pending.push(job);
      });
      sched.on('offers', async (offers: Offer[]) => {
        for (const offer of offers) {
          const pool = new OfferPool(offer);
          const specs = [];
          while (pending.length > 0 && pool.fits('cpus:0.1;mem:32')) {
            const job = pending.shift()!;
            const taskId = `job${job}-${launched++}`;
            jobOf.set(taskId, job);
            specs.push({ taskId, name: `job-${job}`, command: 'sleep 0.3', resources: pool.take('cpus:0.1;mem:32')! });
          }
          if (specs.length === 0) {
            await sched.decline([offer.id], { refuseSeconds: 0.2 }).catch(() => undefined);
            continue;
          }
          try {
            await sched.launch(offer, specs, { refuseSeconds: 0.2 });
          } catch {
            // No answer (the leader died mid-call): the tasks may or may not run. Ask later.
            for (const s of specs) uncertain.set(s.taskId, offer.agentId);
          }
        }
      });

      await until(() => launched >= 40, '40 launches');
      signalGroup(first, 'SIGKILL');
      // A standby takes over.
      const next = await cluster.waitFor((s) => s.masterId !== first.name, 15_000);
      expect(next.epoch).toBeGreaterThan(0);

      // Tasks whose ACCEPT went unanswered are reconciled until the new leader knows.
      const reconciler = setInterval(() => {
        if (uncertain.size === 0) return;
        void sched.reconcile([...uncertain].map(([taskId, agentId]) => ({ taskId, agentId }))).catch(() => undefined);
      }, 1000);
      try {
        // Every job finished, and every task the framework heard of ended. (A task reported
        // LOST — say its agent was late to register with the new leader — may still run and
        // finish later, as Mesos allows for frameworks that are not partition-aware; its job
        // was retried meanwhile under a new task id.)
        await until(() => finished.size === JOBS && [...seen].every((id) => terminal.has(id) && isTerminal(terminal.get(id)!.state)), 'every job to finish and every task to end', 90_000);
      } finally {
        clearInterval(reconciler);
      }

      // Every task the framework heard of reaches a terminal state, reported to it (a retry
      // launched just before its job's first task finished after all may still be running).
      const runsOf = (taskId: string): string =>
        [...history].filter(([id]) => jobOf.get(id) === jobOf.get(taskId)).map(([id, states]) => `${id}: ${states.join(', ')}`).join('; ');
      await until(() => [...seen].every((taskId) => terminal.has(taskId)), 'a terminal update of every task', 30_000).catch(() => undefined);
      for (const taskId of seen) expect(terminal.has(taskId), `terminal update of ${taskId}: its job's tasks got ${runsOf(taskId)}`).toBe(true);
      // No task id ran twice: one sandbox run per executor, over all agents.
      const runs = runsByTask(cluster.dir, sched.frameworkId);
      expect([...runs.values()].filter((n) => n > 1)).toEqual([]);
      expect(runs.size).toBeGreaterThanOrEqual(JOBS);
      // The SDK follows the leader (it resubscribes on each new term).
      const leaderNow = (await cluster.state()).masterId;
      await until(() => sched.masterId === leaderNow, 'the framework to follow the leader', 15_000);
    } finally {
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  }, 150_000); // 100 tasks on 3 agents and a failover: a bound for a loaded 2-core machine, not a speed target

  it('a framework that goes away and comes back with its id gets the updates it missed', async () => {
    cluster = await TestCluster.start({ masters: 1, agents: 1, masterArgs: MASTER_ARGS });
    const options = { servers: cluster.natsUrl, cluster: cluster.name, logger: silentLogger(), acknowledge: 'manual' as const };
    const first = await Scheduler.connect({ ...options, framework: { name: 'phoenix', failoverTimeoutSeconds: 60 } });
    const frameworkId = first.frameworkId;
    const offer = await first.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
    const [task] = await first.launch(offer, [{ name: 'outlives', command: 'sleep 1', resources: 'cpus:0.1;mem:32' }]);
    const early = first.updates(task!.taskId);
    for await (const status of early) {
      await first.acknowledge(status);
      if (status.state === TaskState.RUNNING) break;
    }
    // The framework goes away without tearing down; its task finishes meanwhile.
    await first.close();
    await new Promise((r) => setTimeout(r, 1500));

    const second = await Scheduler.connect({ ...options, framework: { name: 'phoenix', id: frameworkId, failoverTimeoutSeconds: 60 } });
    try {
      expect(second.frameworkId).toBe(frameworkId);
      // The implicit reconciliation after SUBSCRIBE may answer first (no uuid); the agent's
      // own TASK_FINISHED, kept in the updates stream until acknowledged, must arrive too,
      // and nothing the first process acknowledged comes again.
      const missed: TaskStatus[] = [];
      for await (const status of second.updates(task!.taskId)) {
        if (status.uuid === undefined) continue;
        missed.push(status);
        await second.acknowledge(status);
        if (isTerminal(status.state)) break;
      }
      expect(missed.map((s) => [s.state, s.source])).toEqual([[TaskState.FINISHED, 'SOURCE_EXECUTOR']]);
    } finally {
      await second.teardown().catch(() => undefined);
      await second.close();
    }
  });

  it('a warm standby that takes over knows an agent admitted just before the SIGKILL (from its registry copy)', async () => {
    cluster = await TestCluster.start({ masters: 3, agents: 0, masterArgs: MASTER_ARGS });
    const first = await cluster.leader();
    const nc = await cluster.connect();
    const registry = await openRegistryBucket(nc, cluster.name);
    // An agent that registers once and then says nothing (no heartbeats, no registering
    // again): the new leader can only know it from the registry.
    const agentId = 'agent-just-before';
    const reply = await request(
      nc,
      new Subjects(cluster.name).agentToMaster(agentId),
      { type: 'REGISTER_AGENT', agent: { id: agentId, hostname: 'h', resources: Resources.parse('cpus:1;mem:64').toWire(), attributes: {} }, tasks: [] },
      MasterReplyToAgent,
      { timeoutMs: 5000 },
    );
    expect(reply.type).toBe('AGENT_REGISTERED');
    for (let i = 0; (await registry.get(agentKey(agentId)).catch(() => null)) === null; i++) {
      if (i > 200) throw new Error('the registry never held the agent');
      await new Promise((r) => setTimeout(r, 10));
    }
    signalGroup(first, 'SIGKILL');
    const state = await cluster.waitFor((s) => s.masterId !== first.name, 15_000);
    expect(state.agents.find((a) => a.id === agentId)?.status).toBe('recovering');
    const next = cluster.masters.find((m) => m.name === state.masterId)!;
    await until(() => /"msg":"registry loaded"/.test(next.output()), 'the new leader to log its registry');
    expect(next.output()).toMatch(/"agents":1,"frameworks":0,"warm":true,.*"msg":"registry loaded"/);
  });

  it('a leader paused with SIGSTOP and resumed is deposed: it kills nothing it was asked to meanwhile', async () => {
    cluster = await TestCluster.start({ masters: 2, agents: 1, masterArgs: MASTER_ARGS });
    const paused = await cluster.leader();
    const sched = await Scheduler.connect({
      servers: cluster.natsUrl,
      cluster: cluster.name,
      framework: { name: 'fenced', failoverTimeoutSeconds: 60 },
      logger: silentLogger(),
      requestTimeoutMs: 500,
    });
    const states: string[] = [];
    try {
      const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
      const [task] = await sched.launch(offer, [{ name: 'survivor', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }]);
      sched.on('update', (s) => {
        if (s.taskId === task!.taskId) states.push(s.state);
      });
      await until(() => states.includes(TaskState.RUNNING), 'the task to run');

      signalGroup(paused, 'SIGSTOP');
      // Asked of the paused leader only: the request waits in its socket.
      await expect(sched.kill(task!.taskId, { agentId: offer.agentId })).rejects.toThrow();
      const next = await cluster.waitFor((s) => s.masterId !== paused.name, 15_000);
      signalGroup(paused, 'SIGCONT');
      await until(() => /stepping down/.test(paused.output()), 'the resumed leader to step down', 10_000);

      // The old leader handled nothing: the task is still running under the new leader.
      const state = await cluster.waitFor((s) => s.tasks.some((t) => t.taskId === task!.taskId && t.state === TaskState.RUNNING), 10_000);
      expect(state.masterId).toBe(next.masterId);
      expect(states).not.toContain(TaskState.KILLED);
      expect(paused.output()).not.toMatch(/"msg":"rejected call"/);
    } finally {
      signalGroup(paused, 'SIGCONT');
      await sched.teardown().catch(() => undefined);
      await sched.close();
    }
  });
});
