// An agent that dies (SIGKILL) while its task runs: the master notices the missed
// heartbeats and tells the framework — TASK_LOST to a framework that is not partition-aware,
// TASK_UNREACHABLE to one that is — within the heartbeat timeout, and rescinds nothing twice.
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler, TaskState, isTerminal, type TaskStatus } from '../../actors/scheduler/index.js';
import { silentLogger } from '../../actors/runtime/logger.js';
import type { FrameworkCapability } from '../../protocol/schema.js';
import { TestCluster } from '../helpers/cluster.js';
import { signalGroup } from '../helpers/processes.js';

// Heartbeats every 200 ms, unreachable after 5 missed: the master decides within ~1 s.
const HEARTBEAT_MS = 200;
const MISSED = 5;
const TIMEOUT_MS = HEARTBEAT_MS * MISSED;

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function loseAgentWithRunningTask(capabilities: FrameworkCapability[]): Promise<{ status: TaskStatus; agentId: string }> {
  cluster = await TestCluster.start({
    agents: 1,
    masterArgs: ['--agent-heartbeat-interval', String(HEARTBEAT_MS), '--max-missed-heartbeats', String(MISSED)],
  });
  const sched = await Scheduler.connect({
    servers: cluster.natsUrl,
    cluster: cluster.name,
    framework: { name: 'loser', capabilities },
    logger: silentLogger(),
  });
  try {
    const updates = sched.updates();
    const offer = await sched.waitForOffer('cpus:0.1;mem:32', { timeoutMs: 10_000 });
    const [task] = await sched.launch(offer, [{ name: 'sleeper', command: 'sleep 60', resources: 'cpus:0.1;mem:32' }]);
    let killedAt = 0;
    for await (const status of updates) {
      if (status.taskId !== task!.taskId) continue;
      if (status.state === TaskState.RUNNING && killedAt === 0) {
        signalGroup(cluster.agents[0]!, 'SIGKILL');
        killedAt = Date.now();
        continue;
      }
      if (killedAt > 0 && (isTerminal(status.state) || status.state === TaskState.UNREACHABLE)) {
        return { status, agentId: offer.agentId };
      }
    }
    throw new Error('the update stream ended');
  } finally {
    await sched.teardown().catch(() => undefined);
    await sched.close();
  }
}

describe('losing an agent', () => {
  it('reports TASK_LOST to a framework that is not partition-aware, once the heartbeat timeout has passed', async () => {
    const { status, agentId } = await loseAgentWithRunningTask([]);
    expect(status.state).toBe(TaskState.LOST);
    expect(status.reason).toBe('REASON_AGENT_UNREACHABLE');
    expect(status.source).toBe('SOURCE_MASTER');
    const state = await cluster!.state();
    const agent = state.agents.find((a) => a.id === agentId);
    expect(agent?.status).toBe('unreachable');
    // The master waited out the heartbeat timeout (5 × 200 ms) after the agent's last sign
    // of life before declaring the task lost: by its own clock, not before.
    expect(status.timestamp * 1000 - agent!.lastSeenAt).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // No offers of a lost agent remain.
    expect(state.offers.filter((o) => o.agentId === agentId)).toEqual([]);
  });

  it('reports TASK_UNREACHABLE to a PARTITION_AWARE framework', async () => {
    const { status } = await loseAgentWithRunningTask(['PARTITION_AWARE']);
    expect(status.state).toBe(TaskState.UNREACHABLE);
    expect(status.reason).toBe('REASON_AGENT_UNREACHABLE');
  });
});
