/**
 * Task descriptions as a framework author writes them (`TaskSpec`), turned into the
 * protocol's `TaskInfo` for one offer: the agent comes from the offer, a missing task id is
 * generated, a command string becomes a CommandInfo, resources may be text. Pure.
 */
import { randomUUID } from 'node:crypto';
import { ResourceParseError } from '../../protocol/resource-errors.js';
import { Resources } from '../../protocol/resources.js';
import type { z } from 'zod';
import { TaskInfo, type HealthCheck, type Offer, type ResourcesWire } from '../../protocol/schema.js';
import { InvalidTaskError, TasksDoNotFitError } from './errors.js';
import { offerResources } from './offer-pool.js';

/** A task to launch, as a framework author writes it. */
export interface TaskSpec {
  /** Unique among the framework's tasks; default `task-<uuid>`. */
  taskId?: string;
  /** Name shown to operators. */
  name: string;
  /** A shell command, or a full command description. */
  command: string | { value: string; environment?: Record<string, string>; user?: string };
  /** What the task uses: Resources, Mesos text (`cpus:0.5;mem:64`) or the wire form. */
  resources: Resources | string | ResourcesWire;
  /** Environment variables, added to (and overriding) the command's. */
  env?: Record<string, string>;
  /** How the task is stopped: SIGTERM, then SIGKILL after `gracePeriodMs`. */
  killPolicy?: { gracePeriodMs: number };
  /** How the executor checks the task's health (COMMAND, HTTP or TCP; Mesos's defaults). */
  healthCheck?: z.input<typeof HealthCheck>;
  /** Free key/value labels. */
  labels?: Record<string, string>;
  /** The custom executor that runs the task (else the command executor); see `ExecutorSpec`. */
  executor?: ExecutorSpec;
}

/**
 * A custom executor as a framework author writes it (becomes TaskInfo.executor). Every task
 * naming the same `executorId` on an agent goes to the same executor process while it runs;
 * they must all give the same command and resources. The executor's `resources` are taken
 * from the offer once, with the task that starts it (`launch` checks only the tasks' own
 * resources against the offer; the master refuses a task whose new executor does not fit).
 */
export interface ExecutorSpec {
  executorId: string;
  name?: string;
  /** Run as `/bin/sh -c` in the executor's sandbox; a program written with the executor SDK. */
  command: string | { value: string; environment?: Record<string, string> };
  /** The executor's own resources (its tasks bring theirs). */
  resources?: Resources | string | ResourcesWire;
}

/** Makes a new task id: `task-<uuid>`. */
export function newTaskId(): string {
  return `task-${randomUUID()}`;
}

/** Builds the TaskInfo of `spec` on `offer`'s agent; throws InvalidTaskError naming the field. */
export function buildTaskInfo(offer: Offer, spec: TaskSpec, makeId: () => string = newTaskId): TaskInfo {
  const command = typeof spec.command === 'string' ? { value: spec.command } : spec.command;
  const draft = {
    taskId: spec.taskId ?? makeId(),
    name: spec.name,
    agentId: offer.agentId,
    resources: wireOf(spec),
    command: {
      value: command.value,
      environment: { ...(command.environment ?? {}), ...(spec.env ?? {}) },
      ...(command.user !== undefined && { user: command.user }),
    },
    ...(spec.killPolicy !== undefined && { killPolicy: spec.killPolicy }),
    ...(spec.healthCheck !== undefined && { healthCheck: spec.healthCheck }),
    ...(spec.labels !== undefined && { labels: spec.labels }),
    ...(spec.executor !== undefined && { executor: executorInfoOf(spec.name, spec.executor) }),
  };
  const parsed = TaskInfo.safeParse(draft);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(task)'}: ${i.message}`).join('; ');
    throw new InvalidTaskError(`invalid task "${String(spec.name)}": ${detail}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Builds the TaskInfos of `specs` on `offer` and checks that together they fit it. */
export function buildLaunch(offer: Offer, specs: readonly TaskSpec[], makeId: () => string = newTaskId): TaskInfo[] {
  if (specs.length === 0) throw new InvalidTaskError('launch needs at least one task');
  const tasks = specs.map((spec) => buildTaskInfo(offer, spec, makeId));
  const ids = new Set(tasks.map((t) => t.taskId));
  if (ids.size !== tasks.length) throw new InvalidTaskError('two tasks of one launch have the same taskId');
  const needed = tasks.reduce((sum, t) => sum.add(Resources.fromWire(t.resources)), Resources.empty());
  const offered = offerResources(offer);
  if (!offered.contains(needed)) throw new TasksDoNotFitError(offer.id, needed.toString(), offered.toString());
  return tasks;
}

function executorInfoOf(taskName: string, spec: ExecutorSpec): object {
  const command = typeof spec.command === 'string' ? { value: spec.command } : spec.command;
  return {
    executorId: spec.executorId,
    ...(spec.name !== undefined && { name: spec.name }),
    command: { value: command.value, environment: command.environment ?? {} },
    ...(spec.resources !== undefined && { resources: wireOf({ name: taskName, resources: spec.resources }) }),
  };
}

function wireOf(spec: Pick<TaskSpec, 'name' | 'resources'>): ResourcesWire {
  try {
    const { resources } = spec;
    if (typeof resources === 'string') return Resources.parse(resources).toWire();
    if (resources instanceof Resources) return resources.toWire();
    return Resources.fromWire(resources).toWire();
  } catch (e) {
    if (e instanceof ResourceParseError) throw new InvalidTaskError(`invalid task "${spec.name}": ${e.message}`, { cause: e });
    throw e;
  }
}
