/**
 * Following the leader: agents and frameworks watch the leader KV key, so that they learn
 * a new term (and fence the old one) the moment it is won, and register or subscribe
 * again at once, each after its own random pause so that thousands do not arrive together.
 */
import type { Logger } from 'pino';
import { openLeaderBucket, watchLeader, type LeaderWatch } from './kv.js';
import type { NatsConnection } from './nats.js';

/** A term as the leader key announces it. */
export interface LeaderTerm {
  masterId: string;
  epoch: number;
}

/** Options of `followLeader`. */
export interface FollowLeaderOptions {
  nc: NatsConnection;
  cluster: string;
  logger: Logger;
  /** Called with each new term (newer epoch than any before), after the jitter pause. */
  onTerm: (term: LeaderTerm) => void;
  /** Longest random pause before `onTerm` (default 0: none). */
  jitterMs?: number;
  /** Random source in [0, 1) for the pause (default Math.random: shells only). */
  random?: () => number;
  /** Pause before trying again when the bucket cannot be watched (default 1000 ms). */
  retryMs?: number;
}

/** A running follower. */
export interface LeaderFollower {
  /** The newest term seen, if any. */
  readonly term: LeaderTerm | undefined;
  /** Stops following. */
  stop(): void;
}

/** Watches the leader key until stopped; keeps trying when the bucket is not reachable yet. */
export function followLeader(options: FollowLeaderOptions): LeaderFollower {
  const random = options.random ?? Math.random;
  const log = options.logger.child({ part: 'leader-follower' });
  let newest: LeaderTerm | undefined;
  let watch: LeaderWatch | undefined;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const start = async (): Promise<void> => {
    try {
      const kv = await openLeaderBucket(options.nc, options.cluster);
      if (stopped) return;
      watch = await watchLeader(kv, (change) => {
        // A new term counts once its leader serves calls (`ready`): registering earlier would
        // reach nobody, or a hung old leader that never answers.
        if (change.kind !== 'record' || change.record.ready === false || (newest !== undefined && change.epoch <= newest.epoch)) return;
        const term = { masterId: change.record.masterId, epoch: change.epoch };
        newest = term;
        const pause = Math.floor(random() * (options.jitterMs ?? 0));
        setTimeout(() => {
          if (!stopped && newest === term) options.onTerm(term);
        }, pause);
      });
      if (stopped) watch.stop();
    } catch (e) {
      if (stopped) return;
      log.debug({ err: e }, 'cannot watch the leader key yet; retrying');
      retry = setTimeout(() => void start(), options.retryMs ?? 1000);
    }
  };
  void start();
  return {
    get term() {
      return newest;
    },
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      watch?.stop();
    },
  };
}
