/**
 * The agent's checkpoint: what it runs, in one file under its work dir
 * (`<workDir>/meta/checkpoint.json`), so that a restarted agent takes its executors and
 * tasks back. Written atomically — a temp file, fsync, rename — by one writer that
 * coalesces changes: while a write is under way, further changes wait for the next one.
 *
 * Acknowledgements to executors wait for the write that holds the update they acknowledge
 * (`afterWrite`), so an update the executor has forgotten is always on disk: a restarted
 * agent either finds it in the checkpoint or gets it again from the executor.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ExecutorInfo, FrameworkInfo, Id, TaskInfo, TaskStatus, Text } from '../../protocol/schema.js';
import { ALL_TASK_STATES, TaskReason, type TaskState } from '../../protocol/task-state.js';
import type { CoreCheckpoint } from './core.js';
import { AgentCheckpointError } from './errors.js';

/** Where the checkpoint lives under the work dir. */
export const CHECKPOINT_FILE = join('meta', 'checkpoint.json');

/** The file's format version. */
export const CHECKPOINT_VERSION = 1;

const Limitation = z.object({ reason: z.enum(Object.values(TaskReason) as [TaskReason, ...TaskReason[]]), message: Text });

/** The checkpoint file: the core's state plus each live executor's process. */
export const AgentCheckpointFile = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  agentId: Id,
  savedAt: z.number(),
  /** The isolator that made the containers. */
  isolator: z.string().max(32),
  core: z.object({
    drain: z.object({ state: z.enum(['active', 'draining', 'drained']), maxGracePeriodMs: z.number().int().nonnegative().optional() }),
    frameworks: z.array(FrameworkInfo),
    executors: z.array(
      z.object({
        executorId: Id,
        frameworkId: Id,
        runId: Id,
        exited: z.boolean(),
        taskIds: z.array(Id),
        executorKind: z.enum(['command', 'default', 'custom']),
        limitation: Limitation.optional(),
        /** A custom executor's description. */
        info: ExecutorInfo.optional(),
        /** A default executor told to SHUTDOWN. */
        shuttingDown: z.boolean().optional(),
        /** Tasks of groups waiting for the executor's next run. */
        queued: z.array(Id).optional(),
      }),
    ),
    tasks: z.array(
      z.object({
        task: TaskInfo,
        frameworkId: Id,
        executorId: Id.optional(),
        state: z.enum(ALL_TASK_STATES as [TaskState, ...TaskState[]]),
        killRequested: z.boolean(),
        launched: z.boolean(),
        seen: z.array(z.string().max(128)),
        pending: z.array(TaskStatus),
        group: z.number().int().nonnegative().optional(),
      }),
    ),
  }),
  /** Executor processes, by executor id: pid, start time (to tell a reused pid) and sandbox. */
  processes: z.record(z.string(), z.object({ pid: z.number().int().positive(), startTime: z.number().optional(), sandbox: z.string().max(4096) })),
});
/** The checkpoint file. */
export type AgentCheckpointFile = z.infer<typeof AgentCheckpointFile>;

/** Reads the checkpoint; undefined when there is none; AgentCheckpointError when it cannot be used. */
export async function readCheckpoint(workDir: string): Promise<AgentCheckpointFile | undefined> {
  const path = join(workDir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentCheckpointError(path, `cannot be read: ${String(e)}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AgentCheckpointError(path, 'is not JSON (a torn write cannot happen: it was changed by hand?)', { cause: e });
  }
  const parsed = AgentCheckpointFile.safeParse(json);
  if (!parsed.success) throw new AgentCheckpointError(path, `does not hold a checkpoint of this version: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Writes `text` to `path` atomically: a temp file beside it, fsync, rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** Options of the checkpoint writer. */
export interface CheckpointerOptions {
  workDir: string;
  /** Builds the file's content now (called in the agent's mailbox by `build`). */
  build: () => Promise<AgentCheckpointFile>;
  /** Where write errors go. */
  onError: (e: unknown) => void;
}

/**
 * One writer of the checkpoint. `changed()` asks for a write; writes do not overlap, and
 * every change asked for during a write is covered by the next. A write whose content is
 * the same as the last one's is skipped. `afterWrite(fn)` runs `fn` once a write that began
 * after the call is done (or skipped as unchanged). Changes are numbered (`changed()` returns
 * the number): `afterWriteOf(n, fn)` runs `fn` once a write covering change `n` is done, at
 * once if one already is.
 */
export class Checkpointer {
  private readonly path: string;
  private readonly options: CheckpointerOptions;
  private dirty = false;
  private running: Promise<void> | undefined;
  private waiting: Array<() => void> = [];
  private last: string | undefined;
  /** Changes asked for so far, and the highest of them a finished write covers. */
  private requested = 0;
  private written = 0;
  private waitingFor: Array<{ change: number; fn: () => void }> = [];

  constructor(options: CheckpointerOptions) {
    this.options = options;
    this.path = join(options.workDir, CHECKPOINT_FILE);
  }

  /** Something changed: write (soon) again. Returns the change's number (for `afterWriteOf`). */
  changed(): number {
    const change = ++this.requested; // before the loop starts (it runs at once up to its first await)
    this.dirty = true;
    this.running ??= this.loop();
    return change;
  }

  /** Runs `fn` once a write covering change `change` (a number `changed()` returned) is done: now, if one is. */
  afterWriteOf(change: number, fn: () => void): void {
    if (this.written >= change) fn();
    else this.waitingFor.push({ change, fn });
  }

  /** Runs `fn` after the next write (one that starts after this call). */
  afterWrite(fn: () => void): void {
    this.waiting.push(fn);
    this.changed();
  }

  /** Resolves once every change asked for so far is written. */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const release = this.waiting;
        this.waiting = [];
        // The content is built after this (in the agent's mailbox): it holds every change numbered so far.
        const covers = this.requested;
        try {
          const text = JSON.stringify(await this.options.build());
          if (text !== this.last) {
            await writeAtomically(this.path, text);
            this.last = text;
          }
        } catch (e) {
          this.options.onError(e);
        }
        this.written = covers;
        const due = this.waitingFor.filter((w) => w.change <= covers);
        this.waitingFor = this.waitingFor.filter((w) => w.change > covers);
        for (const fn of release) fn();
        for (const w of due) w.fn();
      }
    } finally {
      this.running = undefined;
    }
  }
}

/** The core's part of a checkpoint file, typed for `AgentCore.recover`. */
export function coreCheckpointOf(file: AgentCheckpointFile): CoreCheckpoint {
  return file.core;
}
