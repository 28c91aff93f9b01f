/**
 * Which fault kinds a run against an attached cluster uses (pure). It owns only its
 * workload framework (and that framework's executors). The cluster's masters and agents
 * are paused (SIGSTOP, then SIGCONT); they are SIGKILLed only when something restarts them:
 * a `nesos up` of the cluster that restarts its children (not run with `--no-restart`).
 * nats-servers are not touched. A kind also needs a process of its kind on this machine:
 * a local master that answers PING leading (stop-leader, kill-leader) or not (stop-standby,
 * kill-standby), a local agent the master has registered (stop-agent, kill-agent, and
 * kill-executor: the workload's executors run on the agents). Kinds asked for with
 * `--faults` that cannot be applied are refused; by default they are left out and the
 * report says why.
 */
import { FaultNotApplicableError } from './errors.js';
import type { FaultKind } from './types.js';

/** Every kind `--attach` can apply, when the processes it needs are on this machine (kills: and are restarted by `nesos up`). */
export const ATTACH_FAULT_KINDS: readonly FaultKind[] = ['kill-leader', 'stop-leader', 'kill-standby', 'stop-standby', 'kill-agent', 'stop-agent', 'kill-executor', 'kill-framework', 'stop-framework'];

/** Why the other kinds are never applied to an attached cluster, and what to use instead. */
export const NOT_WITH_ATTACH: Readonly<Partial<Record<FaultKind, { reason: string; fix: string }>>> = {
  'kill-nats': { reason: "with --attach the cluster's nats-servers are left alone", fix: 'Run `nesos chaos --nats-cluster` without --attach to kill nats-servers.' },
};

/** The kill kinds, each with the pause that can be used instead. */
const KILLS: Readonly<Partial<Record<FaultKind, FaultKind>>> = { 'kill-leader': 'stop-leader', 'kill-standby': 'stop-standby', 'kill-agent': 'stop-agent' };

/** What the run found on this machine, as far as fault kinds care. */
export interface LocalFacts {
  /** Local masters of the cluster: id, whether it answered PING leading (undefined: no answer or no --id), whether this user may signal it, whether a `nesos up` restarts it. */
  masters: Array<{ id: string | undefined; pid: number; leading: boolean | undefined; signalable: boolean; restarted: boolean }>;
  /** Local agents of the cluster: id, whether the master has it registered and active, whether this user may signal it, whether a `nesos up` restarts it. */
  agents: Array<{ id: string | undefined; pid: number; registered: boolean; signalable: boolean; restarted: boolean }>;
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
  const pause = KILLS[kind];
  /** Of the processes `found` (non-empty) a kind needs: one this user may signal and, for a kill, that `nesos up` restarts. */
  const usable = (found: ReadonlyArray<{ pid: number; signalable: boolean; restarted: boolean }>, what: string) => {
    if (!found.some((p) => p.signalable)) return { reason: `this user may not signal the local ${what} (${found.map((p) => `pid ${p.pid}`).join(', ')})`, fix };
    if (pause !== undefined && !found.some((p) => p.signalable && p.restarted)) {
      return {
        reason: `nothing would restart the local ${what} after a SIGKILL (${found.map((p) => `pid ${p.pid}`).join(', ')}): only the children of a \`nesos up\` of the cluster run without --no-restart are killed`,
        fix: `Use ${pause} (SIGSTOP, then SIGCONT), run the cluster with \`nesos up\` (it restarts what dies), or run \`nesos chaos\` without --attach.`,
      };
    }
    return undefined;
  };
  const masters = (want: boolean, what: string) => {
    const found = f.masters.filter((m) => m.leading === want);
    if (found.length === 0) return { reason: `no ${what} of the cluster runs on this machine (local masters: ${f.masters.map((m) => `${m.id ?? `pid ${m.pid} without --id`}${m.leading === undefined ? ' (no PING answer)' : m.leading ? ' (leading)' : ' (standby)'}`).join(', ') || 'none'})`, fix };
    return usable(found, what);
  };
  switch (kind) {
    case 'stop-leader':
    case 'kill-leader':
      return masters(true, 'leading master');
    case 'stop-standby':
    case 'kill-standby':
      return masters(false, 'standby master');
    case 'stop-agent':
    case 'kill-agent':
    case 'kill-executor': {
      const found = f.agents.filter((a) => a.registered);
      if (found.length === 0) return { reason: `no agent of the cluster that the master has registered runs on this machine (local agents: ${f.agents.map((a) => a.id ?? `pid ${a.pid}`).join(', ') || 'none'})`, fix };
      return kind === 'kill-executor' ? undefined : usable(found, 'agents');
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
