/**
 * Which fault kinds a run against an attached cluster uses (pure). It owns only its
 * workload framework (and that framework's executors): the cluster's masters and agents
 * are paused (SIGSTOP, then SIGCONT), never killed, because nothing the run knows of would
 * start them again (`nesos up` reports a child that died and does not restart it), and
 * nats-servers are not touched. A kind also needs a process of its kind on this machine:
 * a local master that answers PING leading (stop-leader) or not (stop-standby), a local
 * agent the master has registered (stop-agent, and kill-executor: the workload's executors
 * run on the agents). Kinds asked for with `--faults` that cannot be applied are refused;
 * by default they are left out and the report says why.
 */
import { FaultNotApplicableError } from './errors.js';
import type { FaultKind } from './types.js';

/** Every kind `--attach` can apply, when the processes it needs are on this machine. */
export const ATTACH_FAULT_KINDS: readonly FaultKind[] = ['stop-leader', 'stop-standby', 'stop-agent', 'kill-executor', 'kill-framework', 'stop-framework'];

/** Why the other kinds are never applied to an attached cluster, and what to use instead. */
export const NOT_WITH_ATTACH: Readonly<Partial<Record<FaultKind, { reason: string; fix: string }>>> = {
  'kill-leader': { reason: "with --attach the cluster's masters are not the run's to restart (nesos up does not restart a process that died)", fix: 'Use stop-leader (SIGSTOP, then SIGCONT), or run `nesos chaos` without --attach on a cluster of its own.' },
  'kill-standby': { reason: "with --attach the cluster's masters are not the run's to restart (nesos up does not restart a process that died)", fix: 'Use stop-standby, or run `nesos chaos` without --attach.' },
  'kill-agent': { reason: "with --attach the cluster's agents are not the run's to restart (nesos up does not restart a process that died)", fix: 'Use stop-agent, or run `nesos chaos` without --attach.' },
  'kill-nats': { reason: "with --attach the cluster's nats-servers are left alone", fix: 'Run `nesos chaos --nats-cluster` without --attach to kill nats-servers.' },
};

/** What the run found on this machine, as far as fault kinds care. */
export interface LocalFacts {
  /** Local masters of the cluster: id, whether it answered PING leading (undefined: no answer or no --id), whether this user may signal it. */
  masters: Array<{ id: string | undefined; pid: number; leading: boolean | undefined; signalable: boolean }>;
  /** Local agents of the cluster: id, whether the master has it registered and active, whether this user may signal it. */
  agents: Array<{ id: string | undefined; pid: number; registered: boolean; signalable: boolean }>;
}

/** The kinds to use and the ones left out (with why). */
export interface AttachKinds {
  kinds: FaultKind[];
  dropped: Array<{ kind: FaultKind; reason: string }>;
}

function unmet(kind: FaultKind, f: LocalFacts): { reason: string; fix: string } | undefined {
  const never = NOT_WITH_ATTACH[kind];
  if (never !== undefined) return never;
  const fix = 'Run `nesos chaos --attach` on a machine that runs them, as the user that runs them, or leave the kind out of --faults.';
  const masters = (want: boolean, what: string) => {
    const found = f.masters.filter((m) => m.leading === want);
    if (found.length === 0) return { reason: `no ${what} of the cluster runs on this machine (local masters: ${f.masters.map((m) => `${m.id ?? `pid ${m.pid} without --id`}${m.leading === undefined ? ' (no PING answer)' : m.leading ? ' (leading)' : ' (standby)'}`).join(', ') || 'none'})`, fix };
    if (!found.some((m) => m.signalable)) return { reason: `this user may not signal the local ${what} (${found.map((m) => `pid ${m.pid}`).join(', ')})`, fix };
    return undefined;
  };
  switch (kind) {
    case 'stop-leader':
      return masters(true, 'leading master');
    case 'stop-standby':
      return masters(false, 'standby master');
    case 'stop-agent':
    case 'kill-executor': {
      const found = f.agents.filter((a) => a.registered);
      if (found.length === 0) return { reason: `no agent of the cluster that the master has registered runs on this machine (local agents: ${f.agents.map((a) => a.id ?? `pid ${a.pid}`).join(', ') || 'none'})`, fix };
      if (kind === 'stop-agent' && !found.some((a) => a.signalable)) return { reason: `this user may not signal the local agents (${found.map((a) => `pid ${a.pid}`).join(', ')})`, fix };
      return undefined;
    }
    default:
      return undefined; // the framework's own kinds
  }
}

/**
 * The kinds of an attached run: `asked` (from `--faults`) must all apply, else
 * FaultNotApplicableError names the first that does not; without `asked`, every kind of
 * ATTACH_FAULT_KINDS that applies, and the others in `dropped`.
 */
export function attachKinds(asked: readonly FaultKind[] | undefined, facts: LocalFacts): AttachKinds {
  if (asked !== undefined) {
    for (const kind of asked) {
      const why = unmet(kind, facts);
      if (why !== undefined) throw new FaultNotApplicableError(kind, why.reason, why.fix);
    }
    return { kinds: [...asked], dropped: [] };
  }
  const kinds: FaultKind[] = [];
  const dropped: AttachKinds['dropped'] = [];
  for (const kind of ATTACH_FAULT_KINDS) {
    const why = unmet(kind, facts);
    if (why === undefined) kinds.push(kind);
    else dropped.push({ kind, reason: why.reason });
  }
  return { kinds, dropped };
}
