/**
 * The seam between a master and its HTTP server: the master implements `OperatorSource`, the
 * server (`startOperatorHttp`) serves `/state`, `/metrics`, the JSON operator API, the event
 * stream, sandbox files and the web UI from it. Nothing here knows the master's internals.
 */
import type { Logger } from 'pino';
import type { AgentStateReplies } from '../../protocol/agent-state.js';
import type { FilesReply } from '../../protocol/files.js';
import type { ClusterState, LeaderView, OperatorApiCall, OperatorApiReply } from '../../protocol/operator-api.js';
import type { OperatorChangeEvent } from '../../protocol/operator-events.js';

/** Who this master is, and who leads as far as it knows. */
export interface MasterRole {
  /** This master's id. */
  masterId: string;
  /** True while this master leads (and may answer leader-only endpoints). */
  leading: boolean;
  /** The leader (this master itself when leading); absent while none is known. */
  leader?: LeaderView;
  /** HTTP base URLs of the other masters, if known: the web UI looks for a new leader there. */
  peers?: string[];
}

/** A read of a sandbox file (the agent files API's READ, addressed to one agent). */
export interface FileReadRequest {
  agentId: string;
  frameworkId: string;
  executorId: string;
  /** Path relative to the sandbox, e.g. "stdout". */
  path: string;
  offset: number;
  length: number;
}

/** Counters and timings a master keeps that its state does not show (all monotonic but `lastAllocationSeconds`). */
export interface MasterMetrics {
  /** Messages the master decoded (all subjects). */
  messagesReceived: number;
  /** Messages the master sent. */
  messagesSent: number;
  /** Messages that could not be decoded (malformed, unknown type, invalid, too large). */
  decodeErrors: number;
  /** Requests answered REJECTED. */
  callsRejected: number;
  /** `decodeErrors` by the union a message was decoded as and the protocol code (MALFORMED, TOO_LARGE, UNKNOWN_TYPE, INVALID). */
  decodeErrorCounts: Array<{ union: string; code: string; count: number }>;
  /** `callsRejected` by REJECTED code. */
  rejectionCounts: Array<{ code: string; count: number }>;
  /** Times the leader changed, as seen by this master. */
  leaderChanges: number;
  /** Allocation runs completed. */
  allocationRuns: number;
  /** Total time spent in allocation runs, in seconds. */
  allocationSecondsTotal: number;
  /** Duration of the latest allocation run, in seconds. */
  lastAllocationSeconds: number;
}

/** What a master gives its HTTP server. Every method must be cheap to call and never throw for ordinary failures. */
export interface OperatorSource {
  /** This master's role now (called on every leader-only request). */
  role(): MasterRole;
  /** The cluster state (called only while leading): `/state`, GET_STATE, SUBSCRIBED, metrics. */
  snapshot(): Promise<ClusterState>;
  /**
   * Answers an operator call the HTTP server does not answer from `snapshot()` itself (every
   * call but GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS and GET_MASTER): the same handler
   * the master serves on NATS. A call it does not implement is answered REJECTED UNKNOWN_TYPE.
   */
  call(call: OperatorApiCall): Promise<OperatorApiReply>;
  /**
   * Registers a listener for changes (TASK_ADDED, AGENT_UPDATED, LEADER_CHANGED, ...), called in
   * the order they happen; returns the function that unregisters it. `SnapshotEventFeed` makes
   * such a function from `snapshot()` alone.
   */
  subscribeEvents(listener: (event: OperatorChangeEvent) => void): () => void;
  /** Reads a chunk of a sandbox file through the agent's files API (see `natsFileReader`). */
  readFile(request: FileReadRequest): Promise<FilesReply>;
  /** Asks an agent for its own state (see `natsAgentStateReader`); absent: /agents/:id/state answers 501. */
  agentState?(agentId: string): Promise<AgentStateReplies>;
  /** Counters for `/metrics` (absent: only state-derived and process metrics are served). */
  metrics?(): MasterMetrics;
}

/** Options of `startOperatorHttp`. */
export interface OperatorHttpOptions {
  /** The master's side of the seam. */
  source: OperatorSource;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 5050; 0 picks a free one). */
  port?: number;
  /**
   * Folder of the built web UI (index.html and assets). Default: `dist/ui` under the package
   * root; `null` serves no UI.
   */
  uiDir?: string | null;
  /** Logger (default silent). */
  logger?: Logger;
  /** Largest request body accepted, in bytes (default 1 MiB); larger bodies get 413. */
  bodyLimitBytes?: number;
  /** Seconds between HEARTBEAT events on the event stream (default 15). */
  heartbeatIntervalSeconds?: number;
  /** An event-stream client whose unsent output exceeds this is disconnected (default 8 MiB). */
  maxStreamBufferBytes?: number;
  /** Also serve Node's process metrics (CPU, memory, event loop) on /metrics (default true). */
  processMetrics?: boolean;
}

/** A running HTTP server. */
export interface OperatorHttpServer {
  /** Base URL, e.g. http://127.0.0.1:5050. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Event-stream clients connected now. */
  streamClients(): number;
  /** Ends every event stream (e.g. when this master stops leading), telling clients who leads. */
  endStreams(leader?: LeaderView): void;
  /** Stops listening, ends the event streams and waits for open requests. */
  close(): Promise<void>;
}
