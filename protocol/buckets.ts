/**
 * Names of the JetStream KV buckets and streams a cluster uses, built here and nowhere
 * else. Each carries the cluster's name, so several clusters (and parallel tests) can share
 * one NATS server. JetStream names allow letters, digits, '-' and '_': a cluster name's
 * '~' becomes '_' (choose cluster names without '~' to rule out a clash).
 *
 * | name | kind | holds |
 * |---|---|---|
 * | `nesos_<c>_leader` | KV | key `leader`: the leading master's `LeaderRecord` |
 * | `nesos_<c>_registry` | KV | admitted agents, frameworks, roles' weights and quota, reservations, maintenance |
 * | `nesos_<c>_updates` | stream | every task status update (`nesos.<c>.updates.>`), until each consumer acknowledged it |
 *
 * Consumers of the updates stream (durable, pull, explicit acks):
 *
 * | name | filter | read by |
 * |---|---|---|
 * | `master` | `nesos.<c>.updates.>` | the leading master (applies updates to its task table) |
 * | `fw_<frameworkId>` | `nesos.<c>.updates.<frameworkId>.>` | the framework (the scheduler SDK) |
 */
import { token } from './subjects.js';

/** The key of the leader record in the leader bucket. */
export const LEADER_KEY = 'leader';

/** Bucket and stream names for one cluster. */
export class Buckets {
  private readonly base: string;

  constructor(cluster: string) {
    this.base = `nesos_${token(cluster, 'cluster name').replaceAll('~', '_')}`;
  }

  /** The KV bucket holding the leader record. */
  leader(): string {
    return `${this.base}_leader`;
  }

  /** The KV bucket holding the master's registry. */
  registry(): string {
    return `${this.base}_registry`;
  }

  /** The stream holding every task status update of the cluster. */
  updates(): string {
    return `${this.base}_updates`;
  }

  /** The durable consumer through which the leading master reads every status update. */
  masterUpdatesConsumer(): string {
    return 'master';
  }

  /** The durable consumer through which one framework reads its status updates. */
  frameworkUpdatesConsumer(frameworkId: string): string {
    return `fw_${token(frameworkId, 'framework id')}`;
  }
}
