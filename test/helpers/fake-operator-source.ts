/**
 * A fake master behind the HTTP server's seam (`OperatorSource`): a cluster state that tests
 * change through methods, each of which emits the operator event a master would. Used by the
 * HTTP unit tests and the browser tests; the real master's wiring is tested on its own.
 */
import type { AgentSnapshot, AgentStateReplies } from '../../protocol/agent-state.js';
import type { FilesReply } from '../../protocol/files.js';
import type {
  FrameworkView,
  OfferView,
  ClusterAgentView,
  ClusterState,
  ClusterTaskView,
  LeaderView,
  OperatorApiCall,
  OperatorApiReply,
} from '../../protocol/operator-api.js';
import type { OperatorChangeEvent } from '../../protocol/operator-events.js';
import type { TaskStatus } from '../../protocol/schema.js';
import { isTerminal, type TaskState } from '../../protocol/task-state.js';
import type { FileReadRequest, MasterMetrics, MasterRole, OperatorSource } from '../../actors/http/types.js';
import { NoRespondersError } from '../../actors/runtime/errors.js';

/** Options of a fake source. */
export interface FakeSourceOptions {
  masterId?: string;
  epoch?: number;
  cluster?: string;
  leading?: boolean;
  /** The leader's view; default this master when leading. */
  leader?: LeaderView;
  peers?: string[];
}

/** A fake master: state, role, events, files and call answers that tests control. */
export class FakeOperatorSource implements OperatorSource {
  /** The state `snapshot()` returns (a copy). */
  state: ClusterState;
  /** This master's role. */
  roleNow: MasterRole;
  /** Calls `call()` received. */
  readonly calls: OperatorApiCall[] = [];
  /** Answers to calls by type; unlisted types are answered REJECTED UNKNOWN_TYPE. */
  readonly answers = new Map<string, (call: OperatorApiCall) => OperatorApiReply>();
  /** What each agent answers to GET_STATE (an agent missing here does not answer). */
  readonly agentStates = new Map<string, AgentSnapshot>();
  /** Sandbox files by `agent/framework/executor/path`. */
  readonly files = new Map<string, Buffer>();
  /** Agents whose files API does not answer. */
  readonly unreachableAgents = new Set<string>();
  /** Counters for /metrics. */
  counters: MasterMetrics = {
    messagesReceived: 10,
    messagesSent: 20,
    decodeErrors: 1,
    callsRejected: 2,
    decodeErrorCounts: [{ union: 'SchedulerCall', code: 'MALFORMED', count: 1 }],
    rejectionCounts: [
      { code: 'MALFORMED', count: 1 },
      { code: 'WRONG_PRINCIPAL', count: 1 },
    ],
    leaderChanges: 1,
    allocationRuns: 5,
    allocationSecondsTotal: 0.25,
    lastAllocationSeconds: 0.01,
  };
  /** Snapshots taken so far. */
  snapshots = 0;
  private readonly listeners = new Set<(e: OperatorChangeEvent) => void>();
  private clock = 1_700_000_000_000;

  constructor(options: FakeSourceOptions = {}) {
    const masterId = options.masterId ?? 'master-1';
    const epoch = options.epoch ?? 7;
    this.state = {
      masterId,
      epoch,
      cluster: options.cluster ?? 'fake',
      startedAt: this.clock,
      agents: [],
      frameworks: [],
      tasks: [],
      completedTasks: [],
      offers: [],
    };
    const leading = options.leading ?? true;
    this.roleNow = {
      masterId,
      leading,
      ...(options.leader !== undefined ? { leader: options.leader } : leading ? { leader: { masterId, epoch } } : {}),
      ...(options.peers !== undefined && { peers: options.peers }),
    };
  }

  // ---- OperatorSource ----------------------------------------------------------------

  role(): MasterRole {
    return this.roleNow;
  }

  async snapshot(): Promise<ClusterState> {
    this.snapshots += 1;
    return structuredClone(this.state);
  }

  async call(call: OperatorApiCall): Promise<OperatorApiReply> {
    this.calls.push(call);
    const answer = this.answers.get(call.type);
    if (answer !== undefined) return answer(call);
    return { type: 'REJECTED', code: 'UNKNOWN_TYPE', reason: `unknown message type "${call.type}"` };
  }

  subscribeEvents(listener: (event: OperatorChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async readFile(r: FileReadRequest): Promise<FilesReply> {
    if (this.unreachableAgents.has(r.agentId)) throw new NoRespondersError(`agent ${r.agentId}`);
    const file = this.files.get(`${r.agentId}/${r.frameworkId}/${r.executorId}/${r.path}`);
    if (file === undefined) return { type: 'REJECTED', code: 'NOT_FOUND', reason: `cannot open "${r.path}"` };
    const data = file.subarray(Math.min(r.offset, file.length), Math.min(r.offset + r.length, file.length));
    return { type: 'FILE_DATA', data: new Uint8Array(data), offset: r.offset, size: file.length };
  }

  async agentState(agentId: string): Promise<AgentStateReplies> {
    if (this.unreachableAgents.has(agentId)) throw new NoRespondersError(`agent ${agentId}`);
    const state = this.agentStates.get(agentId);
    if (state === undefined) throw new NoRespondersError(`agent ${agentId}`);
    return { type: 'AGENT_STATE', state };
  }

  metrics(): MasterMetrics {
    return this.counters;
  }

  // ---- changing the fake cluster -------------------------------------------------------

  /** Listeners registered now. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Emits an event to every listener. */
  emit(event: OperatorChangeEvent): void {
    for (const l of [...this.listeners]) l(event);
  }

  /** Adds an agent (AGENT_ADDED). */
  addAgent(id: string, resources = 'cpus:4;mem:4096;disk:10240;ports:[31000-31099]', hostname = `${id}.example`): ClusterAgentView {
    const agent: ClusterAgentView = {
      id,
      hostname,
      status: 'active',
      resources,
      available: resources,
      attributes: { rack: 'r1' },
      registeredAt: this.clock,
      lastSeenAt: this.clock,
      tasks: 0,
      offers: 0,
    };
    this.state.agents.push(agent);
    this.emit({ type: 'AGENT_ADDED', agent: structuredClone(agent) });
    return agent;
  }

  /** Sets an agent's status (AGENT_UPDATED). */
  setAgentStatus(id: string, status: 'active' | 'unreachable'): void {
    const agent = this.state.agents.find((a) => a.id === id);
    if (agent === undefined) throw new Error(`no agent ${id}`);
    agent.status = status;
    this.emit({ type: 'AGENT_UPDATED', agent: structuredClone(agent) });
  }

  /** Removes an agent (AGENT_REMOVED). */
  removeAgent(id: string): void {
    this.state.agents = this.state.agents.filter((a) => a.id !== id);
    this.emit({ type: 'AGENT_REMOVED', agentId: id });
  }

  /** Adds a framework (FRAMEWORK_ADDED). */
  addFramework(id: string, name = id, roles = ['*']): FrameworkView {
    const framework: FrameworkView = {
      id,
      name,
      principal: name,
      roles,
      capabilities: [],
      connected: true,
      suppressed: false,
      failoverTimeoutSeconds: 0,
      registeredAt: this.clock,
      allocated: '',
      share: 0,
      tasks: 0,
      offers: 0,
    };
    this.state.frameworks.push(framework);
    this.emit({ type: 'FRAMEWORK_ADDED', framework: structuredClone(framework) });
    return framework;
  }

  /** Removes a framework (FRAMEWORK_REMOVED). */
  removeFramework(id: string): void {
    this.state.frameworks = this.state.frameworks.filter((f) => f.id !== id);
    this.emit({ type: 'FRAMEWORK_REMOVED', frameworkId: id });
  }

  /** Adds an offer (OFFER_ADDED). */
  addOffer(id: string, frameworkId: string, agentId: string, resources: string): OfferView {
    const offer: OfferView = { id, frameworkId, agentId, resources, createdAt: this.clock };
    this.state.offers.push(offer);
    this.emit({ type: 'OFFER_ADDED', offer: structuredClone(offer) });
    return offer;
  }

  /** Launches a task in TASK_STAGING (TASK_ADDED). */
  launchTask(taskId: string, frameworkId: string, agentId: string, resources = 'cpus:0.5;mem:128', name = taskId): ClusterTaskView {
    const task: ClusterTaskView = { taskId, name, frameworkId, agentId, state: 'TASK_STAGING', resources, statuses: [] };
    this.state.tasks.push(task);
    this.emit({ type: 'TASK_ADDED', task: structuredClone(task) });
    return task;
  }

  /** Moves a task to `state` with a status (TASK_UPDATED); terminal tasks move to completedTasks. */
  updateTask(taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}): ClusterTaskView {
    const task = this.state.tasks.find((t) => t.taskId === taskId);
    if (task === undefined) throw new Error(`no running task ${taskId}`);
    this.clock += 1000;
    const status: TaskStatus = {
      taskId,
      state,
      agentId: task.agentId,
      executorId: taskId,
      source: 'SOURCE_EXECUTOR',
      timestamp: this.clock / 1000,
      ...extra,
    };
    task.state = state;
    task.status = status;
    task.statuses = [...(task.statuses ?? []), status];
    if (isTerminal(state)) {
      this.state.tasks = this.state.tasks.filter((t) => t !== task);
      this.state.completedTasks.push(task);
    }
    this.emit({ type: 'TASK_UPDATED', task: structuredClone(task) });
    return task;
  }

  /** Appends to a sandbox file. */
  appendFile(agentId: string, frameworkId: string, executorId: string, path: string, text: string | Buffer): void {
    const key = `${agentId}/${frameworkId}/${executorId}/${path}`;
    this.files.set(key, Buffer.concat([this.files.get(key) ?? Buffer.alloc(0), typeof text === 'string' ? Buffer.from(text) : text]));
  }

  /** Changes who leads (LEADER_CHANGED): this master leads when `leader.masterId` is its id. */
  setLeader(leader: LeaderView | undefined): void {
    this.roleNow = {
      ...this.roleNow,
      leading: leader?.masterId === this.roleNow.masterId,
      ...(leader !== undefined ? { leader } : {}),
    };
    if (leader === undefined) delete this.roleNow.leader;
    if (leader !== undefined) this.state.leader = leader;
    this.emit(leader === undefined ? { type: 'LEADER_CHANGED' } : { type: 'LEADER_CHANGED', leader });
  }
}
