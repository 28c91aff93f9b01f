/**
 * Dynamic reservations and persistent volumes in the master, pure. An agent registers with
 * its static resources only; the master keeps what RESERVE and CREATE made of them (its
 * "checkpointed resources", in Mesos's words) in the registry, and applies them again
 * whenever the agent registers, so that they survive agent restarts and master failovers.
 */
import type { Resources } from '../../protocol/resources.js';
import type { Conversion } from '../allocator/operations.js';
import type { AgentRecord } from './state.js';

/** What operations made of an agent's static resources: dynamic reservations and every volume. */
export function checkpointed(total: Resources): Resources {
  const dynamic = total.dynamicallyReserved();
  return dynamic.add(total.volumes().subtract(dynamic));
}

/** The static resources `checkpointed` was made of. */
function baseOf(made: Resources): Resources {
  const dynamic = made.dynamicallyReserved();
  return dynamic.toUnreserved().add(made.subtract(dynamic).withoutVolumes());
}

/**
 * An agent's total: its static resources with `made` applied. When the agent no longer
 * has what they were made of (its resources changed), they are dropped and `dropped` is true.
 */
export function withCheckpointed(staticTotal: Resources, made: Resources): { total: Resources; dropped: boolean } {
  if (made.isEmpty()) return { total: staticTotal, dropped: false };
  const base = baseOf(made);
  if (!staticTotal.contains(base)) return { total: staticTotal, dropped: true };
  return { total: staticTotal.subtract(base).add(made), dropped: false };
}

/** Applies an operation's conversion to an agent's total; returns the new checkpointed part. */
export function applyConversion(agent: AgentRecord, conversion: Conversion): Resources {
  agent.total = agent.total.subtract(conversion.from).add(conversion.to);
  return checkpointed(agent.total);
}
