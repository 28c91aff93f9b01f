/**
 * Building blocks shared by every message: ids, resources on the wire, framework, agent,
 * task and status descriptions. Each is a zod schema (validated at decode) and the type
 * inferred from it, so the type and its validation never drift apart.
 */
import { z } from 'zod';
import { ALL_TASK_STATES, TaskReason, TaskSource, type TaskState } from './task-state.js';

/** An identifier that is also safe as a subject token (agent, framework, task, executor, offer ids). */
export const Id = z.string().regex(/^[A-Za-z0-9_~-]{1,128}$/, 'must be 1-128 letters, digits, "-", "_" or "~"');

/** A leader term. Every message a master sends carries one; receivers drop older ones (fencing). */
export const Epoch = z.number().int().nonnegative();

/** Free text of bounded size (names, messages, reasons). */
export const Text = z.string().max(4096);

/** One resource as sent on the wire; exactly one of `scalar`, `ranges` or `set`. */
export const ResourceWireSchema = z
  .object({
    name: z.string().min(1).max(64),
    role: z.string().min(1).max(256).optional(),
    /** True for a dynamic reservation (RESERVE); absent for static reservations and unreserved. */
    dynamic: z.boolean().optional(),
    /** Labels of a dynamic reservation. */
    labels: z.record(z.string().max(128), z.string().max(1024)).optional(),
    /** The persistent volume this reserved disk holds. */
    volume: z.object({ id: z.string().regex(/^[A-Za-z0-9_.~-]{1,128}$/), path: z.string().max(1024).optional() }).optional(),
    scalar: z.number().finite().nonnegative().optional(),
    ranges: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).max(4096).optional(),
    set: z.array(z.string().max(256)).max(4096).optional(),
  })
  .refine((r) => (r.scalar !== undefined ? 1 : 0) + (r.ranges !== undefined ? 1 : 0) + (r.set !== undefined ? 1 : 0) === 1, {
    message: 'a resource has exactly one of scalar, ranges or set',
  })
  .refine((r) => r.ranges === undefined || r.ranges.every(([b, e]) => b <= e), {
    message: 'a range must have begin <= end',
  });

/** A list of resources on the wire. */
export const ResourcesWire = z.array(ResourceWireSchema).max(1024);
/** A list of resources on the wire (see `Resources.fromWire`). */
export type ResourcesWire = z.infer<typeof ResourcesWire>;

/** Agent attributes, Mesos's `--attributes rack:r1;zone:a`, as text values. */
export const Attributes = z.record(z.string().max(128), z.string().max(1024));
/** Agent attributes. */
export type Attributes = z.infer<typeof Attributes>;

/** Capabilities a framework may declare at SUBSCRIBE. */
export const FrameworkCapability = z.enum(['PARTITION_AWARE', 'MULTI_ROLE', 'TASK_KILLING_STATE', 'REVOCABLE_RESOURCES']);
/** A framework capability. */
export type FrameworkCapability = z.infer<typeof FrameworkCapability>;

/** A framework's description, sent with SUBSCRIBE (Mesos's FrameworkInfo). */
export const FrameworkInfo = z.object({
  /** Chosen by the framework (the SDK makes one) and kept across failovers. */
  id: Id,
  name: z.string().min(1).max(256),
  /** Who the framework is; must match the principal token of the subject it calls on. */
  principal: Id,
  roles: z.array(z.string().min(1).max(256)).min(1).max(64).default(['*']),
  capabilities: z.array(FrameworkCapability).max(16).default([]),
  /** How long the master keeps the framework's tasks after it disconnects. */
  failoverTimeoutSeconds: z.number().nonnegative().max(365 * 24 * 3600).default(0),
  user: z.string().max(256).optional(),
  hostname: z.string().max(256).optional(),
});
/** A framework's description. */
export type FrameworkInfo = z.infer<typeof FrameworkInfo>;

/** What to run: a shell command with its environment (Mesos's CommandInfo). */
export const CommandInfo = z.object({
  value: z.string().min(1).max(65536),
  environment: z.record(z.string().max(256), z.string().max(65536)).default({}),
  user: z.string().max(256).optional(),
});
/** What to run. */
export type CommandInfo = z.infer<typeof CommandInfo>;

/** How a task is stopped: SIGTERM, then SIGKILL after the grace period. */
export const KillPolicy = z.object({ gracePeriodMs: z.number().int().nonnegative().max(3_600_000) });
/** How a task is stopped. */
export type KillPolicy = z.infer<typeof KillPolicy>;

/** A port on the task's host (health checks connect to 127.0.0.1). */
const Port = z.number().int().min(1).max(65_535);

/**
 * How the executor checks a task's health (Mesos's HealthCheck). One of:
 * - COMMAND: `command` run as the task runs (same environment, sandbox and container);
 *   healthy when it exits 0;
 * - HTTP: GET `http://127.0.0.1:<port><path>`; healthy on a status from 200 to 399;
 * - TCP: a connection to `127.0.0.1:<port>`; healthy when it opens.
 *
 * The first check runs `delaySeconds` after the task starts, the next `intervalSeconds`
 * after each result; a check that takes longer than `timeoutSeconds` failed. Failures
 * within `gracePeriodSeconds` of the start do not count until a check first succeeds.
 * Health changes reach the framework as TASK_RUNNING updates with `healthy` and reason
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; after `consecutiveFailures` failures in a row the
 * task is killed (its kill policy) and ends TASK_KILLED with `healthy: false` and that
 * reason. Defaults are Mesos's: 15 s, 10 s, 20 s, 10 s and 3.
 */
export const HealthCheck = z
  .object({
    type: z.enum(['COMMAND', 'HTTP', 'TCP']),
    command: CommandInfo.optional(),
    http: z.object({ port: Port, path: z.string().startsWith('/').max(1024).default('/') }).optional(),
    tcp: z.object({ port: Port }).optional(),
    delaySeconds: z.number().nonnegative().max(86_400).default(15),
    intervalSeconds: z.number().positive().max(86_400).default(10),
    timeoutSeconds: z.number().positive().max(86_400).default(20),
    gracePeriodSeconds: z.number().nonnegative().max(86_400).default(10),
    consecutiveFailures: z.number().int().positive().max(1000).default(3),
  })
  .refine((h) => (h.type === 'COMMAND' ? h.command : h.type === 'HTTP' ? h.http : h.tcp) !== undefined, {
    message: 'a COMMAND health check needs `command`, an HTTP one `http`, a TCP one `tcp`',
  });
/** How the executor checks a task's health. */
export type HealthCheck = z.infer<typeof HealthCheck>;

/**
 * A custom executor (Mesos's ExecutorInfo): a program the agent starts in the sandbox, with
 * `command` run as `/bin/sh -c value`, which subscribes to its agent with the executor SDK
 * and runs the tasks given to it. Several tasks may name the same `executorId`: while the
 * executor runs, the agent hands them to it (its container grows by their resources);
 * `resources` are the executor's own, counted once, for as long as it runs. Executor ids
 * are unique per framework on an agent, and every task naming one must give the same
 * command and resources.
 */
export const ExecutorInfo = z.object({
  executorId: Id,
  name: z.string().min(1).max(256).optional(),
  command: CommandInfo,
  resources: ResourcesWire.optional(),
});
/** A custom executor. */
export type ExecutorInfo = z.infer<typeof ExecutorInfo>;

/** A task to launch (Mesos's TaskInfo). */
export const TaskInfo = z.object({
  taskId: Id,
  name: z.string().min(1).max(256),
  agentId: Id,
  resources: ResourcesWire,
  command: CommandInfo,
  killPolicy: KillPolicy.optional(),
  /** Optional: how the executor checks the task's health (see HealthCheck). */
  healthCheck: HealthCheck.optional(),
  labels: z.record(z.string().max(128), z.string().max(1024)).optional(),
  /** Optional: the custom executor that runs the task (else the command executor). */
  executor: ExecutorInfo.optional(),
});
/** A task to launch. */
export type TaskInfo = z.infer<typeof TaskInfo>;

const TaskStateSchema = z.enum(ALL_TASK_STATES as [TaskState, ...TaskState[]]);

/** A task's state as reported to frameworks (Mesos's TaskStatus). */
export const TaskStatus = z.object({
  taskId: Id,
  state: TaskStateSchema,
  agentId: Id.optional(),
  executorId: Id.optional(),
  source: z.enum(Object.values(TaskSource) as [TaskSource, ...TaskSource[]]),
  reason: z.enum(Object.values(TaskReason) as [TaskReason, ...TaskReason[]]).optional(),
  message: Text.optional(),
  /** Identity of this update; set when it must be acknowledged (agent/executor updates). */
  uuid: Id.optional(),
  /** Seconds since the epoch, as produced by the sender's clock. */
  timestamp: z.number().nonnegative(),
  healthy: z.boolean().optional(),
  exitCode: z.number().int().optional(),
  signal: z.string().max(32).optional(),
});
/** A task's state as reported to frameworks. */
export type TaskStatus = z.infer<typeof TaskStatus>;

/** An interval during which an agent's resources are expected to be unavailable (Mesos's Unavailability); times in ms since the epoch. */
export const Unavailability = z.object({ start: z.number().nonnegative(), durationMs: z.number().int().positive() });
/** An interval during which an agent's resources are expected to be unavailable. */
export type Unavailability = z.infer<typeof Unavailability>;

/** An offer of one agent's resources to one framework. */
export const Offer = z.object({
  id: Id,
  frameworkId: Id,
  agentId: Id,
  /** The role the resources are allocated to (Mesos's allocation_info.role); tasks launched on it run in it. */
  role: z.string().min(1).max(256).optional(),
  hostname: z.string().max(256),
  resources: ResourcesWire,
  attributes: Attributes,
  /** Set while the agent is scheduled for maintenance (DRAINING): when it is expected to go down, and for how long. */
  unavailability: Unavailability.optional(),
});
/** An offer of one agent's resources to one framework. */
export type Offer = z.infer<typeof Offer>;

/**
 * An inverse offer (Mesos's InverseOffer): the master asks a framework to release an agent
 * that is scheduled for maintenance — all of its resources — by `unavailability.start`, for
 * `unavailability.durationMs`. The framework answers ACCEPT_INVERSE_OFFERS or
 * DECLINE_INVERSE_OFFERS; the operator sees the answer in the maintenance status.
 */
export const InverseOffer = z.object({
  id: Id,
  frameworkId: Id,
  agentId: Id,
  hostname: z.string().max(256),
  unavailability: Unavailability,
});
/** An inverse offer: a request to release an agent scheduled for maintenance. */
export type InverseOffer = z.infer<typeof InverseOffer>;

/** An agent's description, sent at registration (Mesos's SlaveInfo). */
export const AgentInfo = z.object({
  id: Id,
  hostname: z.string().min(1).max(256),
  resources: ResourcesWire,
  attributes: Attributes,
});
/** An agent's description. */
export type AgentInfo = z.infer<typeof AgentInfo>;

/** Opaque bytes between a framework and its executors. At most 256 KiB. */
export const Data = z.instanceof(Uint8Array).refine((b) => b.byteLength <= 256 * 1024, 'data is larger than 256 KiB');
