/**
 * Status updates as the cluster's updates stream stores them (JetStream; see
 * docs/status-updates.md).
 *
 * Each record is published on `nesos.<c>.updates.<frameworkId>.<taskId>` with the update's
 * `uuid` as its JetStream message id (so a publish retried after a lost PubAck is stored
 * once), and the subject's ids must equal the record's: readers drop (and acknowledge) a
 * record whose body disagrees with its subject, as they drop one that does not decode.
 *
 * Who publishes: the agent, for updates from its executors and its own (TASK_FAILED when an
 * executor dies, TASK_KILLED during launch, ...), each task's in order, the next only after
 * the stream acknowledged the previous; the leading master, for the updates it makes itself
 * that change a task's state (TASK_LOST or TASK_UNREACHABLE when an agent is lost, TASK_GONE,
 * TASK_ERROR or TASK_DROPPED at ACCEPT, RUNNING again when an unreachable agent returns).
 * Reconciliation answers are not stored: they stay UPDATE events without uuid.
 *
 * Who reads: the leading master (consumer `master`, every update, to keep its task table)
 * and each framework (consumer `fw_<frameworkId>`, its own updates). A record is removed once
 * every consumer that wants it has acknowledged it (interest retention), or after the
 * stream's maximum age.
 */
import type { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Id, TaskStatus } from './schema.js';

/** A status as stored: every stored update has a uuid, by which it is acknowledged. */
export const StoredStatus = TaskStatus.extend({ uuid: Id });
/** A status as stored. */
export type StoredStatus = z.infer<typeof StoredStatus>;

/** STATUS_UPDATE: one status update of `status.taskId`, a task of framework `frameworkId`. */
export const StatusUpdateRecord = message('STATUS_UPDATE', { frameworkId: Id, status: StoredStatus });
/** One status update as stored. */
export type StatusUpdateRecord = z.infer<typeof StatusUpdateRecord>;

/** Every record the updates stream holds. */
export const UpdateRecord = defineUnion('UpdateRecord', [StatusUpdateRecord]);
/** Every record the updates stream holds. */
export type UpdateRecord = z.infer<typeof UpdateRecord.schema>;
