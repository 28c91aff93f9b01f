/**
 * The registry: what a master must remember across failover, kept in the cluster's
 * registry KV bucket. As in Mesos, it holds who was admitted (agents, frameworks), not
 * what runs: tasks are rebuilt from the agents when they register with a new leader.
 *
 * | key | value |
 * |---|---|
 * | `agents.<agentId>` | `RegistryAgent`: the agent's info, when it was admitted, whether it is unreachable |
 * | `frameworks.<frameworkId>` | `RegistryFramework`: the framework's info (with its failover timeout) |
 *
 * Pure: record schemas, key encoding, and the operations the master core emits as effects.
 */
import { z } from 'zod';
import { AgentInfo, FrameworkInfo } from '../../protocol/schema.js';
import { defineUnion, message } from '../../protocol/union.js';

/** An admitted agent as the registry keeps it. */
export const RegistryAgent = z.object({
  info: AgentInfo,
  /** When it was first admitted (ms since the epoch). */
  admittedAt: z.number().nonnegative(),
  /** Set while the agent is unreachable (ms since the epoch it was marked). */
  unreachableSince: z.number().nonnegative().optional(),
  /** Set once an operator marked the agent gone: it may never register again. */
  goneSince: z.number().nonnegative().optional(),
  /** An operator deactivated it (or drains it): no offers. */
  deactivated: z.boolean().optional(),
});
/** An admitted agent as the registry keeps it. */
export type RegistryAgent = z.infer<typeof RegistryAgent>;

/** A subscribed framework as the registry keeps it. */
export const RegistryFramework = z.object({
  info: FrameworkInfo,
  /** When it first subscribed (ms since the epoch). */
  registeredAt: z.number().nonnegative(),
});
/** A subscribed framework as the registry keeps it. */
export type RegistryFramework = z.infer<typeof RegistryFramework>;

/** How registry values are stored: one msgpack message per key, validated when loaded. */
export const RegistryEntry = defineUnion('RegistryEntry', [
  message('AGENT', { agent: RegistryAgent }),
  message('FRAMEWORK', { framework: RegistryFramework }),
]);
/** A registry value. */
export type RegistryEntry = z.infer<typeof RegistryEntry.schema>;

/** Everything the registry holds, as loaded by a new leader. */
export interface RegistryContents {
  agents: RegistryAgent[];
  frameworks: RegistryFramework[];
}

/** A change to the registry, emitted by the master core and written in order by the shell. */
export type RegistryOp =
  | { op: 'put-agent'; agent: RegistryAgent }
  | { op: 'delete-agent'; agentId: string }
  | { op: 'put-framework'; framework: RegistryFramework }
  | { op: 'delete-framework'; frameworkId: string };

/** KV keys allow `-/_=.` and alphanumerics: ids' `~` is written `=7E`. */
function keyToken(id: string): string {
  return id.replaceAll('~', '=7E');
}

/** The key of an agent's record. */
export function agentKey(agentId: string): string {
  return `agents.${keyToken(agentId)}`;
}

/** The key of a framework's record. */
export function frameworkKey(frameworkId: string): string {
  return `frameworks.${keyToken(frameworkId)}`;
}

/** The key and value (or deletion) a registry operation writes. */
export function registryWrite(op: RegistryOp): { key: string; value: RegistryEntry | undefined } {
  switch (op.op) {
    case 'put-agent':
      return { key: agentKey(op.agent.info.id), value: { type: 'AGENT', agent: op.agent } };
    case 'delete-agent':
      return { key: agentKey(op.agentId), value: undefined };
    case 'put-framework':
      return { key: frameworkKey(op.framework.info.id), value: { type: 'FRAMEWORK', framework: op.framework } };
    case 'delete-framework':
      return { key: frameworkKey(op.frameworkId), value: undefined };
  }
}

/** Sorts loaded entries into the registry's contents. */
export function contentsOf(entries: Iterable<RegistryEntry>): RegistryContents {
  const contents: RegistryContents = { agents: [], frameworks: [] };
  for (const e of entries) {
    if (e.type === 'AGENT') contents.agents.push(e.agent);
    else contents.frameworks.push(e.framework);
  }
  return contents;
}
