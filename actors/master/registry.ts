/**
 * The registry: what a master must remember across failover, kept in the cluster's
 * registry KV bucket. As in Mesos, it holds who was admitted (agents, frameworks), not
 * what runs: tasks are rebuilt from the agents when they register with a new leader.
 *
 * | key | value |
 * |---|---|
 * | `agents.<agentId>` | `RegistryAgent`: the agent's info, when it was admitted, whether it is unreachable |
 * | `frameworks.<frameworkId>` | `RegistryFramework`: the framework's info (with its failover timeout) |
 * | `roles.<hex of the role>` | `RegistryRole`: a role's weight and quota |
 * | `maintenance` | `RegistryMaintenance`: the maintenance windows and the agents that are DOWN |
 *
 * Pure: record schemas, key encoding, and the operations the master core emits as effects.
 */
import { z } from 'zod';
import { MaintenanceWindow } from '../../protocol/operator-api.js';
import { AgentInfo, FrameworkInfo, Id, ResourcesWire } from '../../protocol/schema.js';
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
  /** An operator is draining it; with `goneWhenDrained`, it is marked gone once drained. */
  draining: z.boolean().optional(),
  /** Mark it gone once drained. */
  goneWhenDrained: z.boolean().optional(),
  /** What RESERVE and CREATE made of its static resources (dynamic reservations, volumes). */
  checkpointed: ResourcesWire.optional(),
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

/** A role's settings as the registry keeps them (quota in resource text, as the operator API). */
export const RegistryRole = z.object({
  role: z.string().min(1).max(256),
  weight: z.number().positive().optional(),
  guarantee: z.string().max(4096).optional(),
  limit: z.string().max(4096).optional(),
});
/** A role's settings as the registry keeps them. */
export type RegistryRole = z.infer<typeof RegistryRole>;

/** The maintenance schedule as the registry keeps it: one value, so that a change is written at once or not at all. */
export const RegistryMaintenance = z.object({
  windows: z.array(MaintenanceWindow),
  /** Agents taken DOWN (each in a window). */
  down: z.array(Id),
});
/** The maintenance schedule as the registry keeps it. */
export type RegistryMaintenance = z.infer<typeof RegistryMaintenance>;

/** How registry values are stored: one msgpack message per key, validated when loaded. */
export const RegistryEntry = defineUnion('RegistryEntry', [
  message('AGENT', { agent: RegistryAgent }),
  message('FRAMEWORK', { framework: RegistryFramework }),
  message('ROLE', { role: RegistryRole }),
  message('MAINTENANCE', { maintenance: RegistryMaintenance }),
]);
/** A registry value. */
export type RegistryEntry = z.infer<typeof RegistryEntry.schema>;

/** Everything the registry holds, as loaded by a new leader. */
export interface RegistryContents {
  agents: RegistryAgent[];
  frameworks: RegistryFramework[];
  /** Roles with a weight or quota; absent in contents written before roles were kept. */
  roles?: RegistryRole[];
  /** The maintenance schedule; absent when none was ever set. */
  maintenance?: RegistryMaintenance;
}

/** A change to the registry, emitted by the master core and written in order by the shell. */
export type RegistryOp =
  | { op: 'put-agent'; agent: RegistryAgent }
  | { op: 'delete-agent'; agentId: string }
  | { op: 'put-framework'; framework: RegistryFramework }
  | { op: 'delete-framework'; frameworkId: string }
  | { op: 'put-role'; role: RegistryRole }
  | { op: 'delete-role'; role: string }
  | { op: 'put-maintenance'; maintenance: RegistryMaintenance };

/** The key of the maintenance schedule. */
export const MAINTENANCE_KEY = 'maintenance';

/** KV keys allow `-/_=.` and alphanumerics: ids' `~` is written `=7E`. */
function keyToken(id: string): string {
  return id.replaceAll('~', '=7E');
}

/** The key of a role's record (role names may hold '/' and '*': hex keeps any name a valid key). */
export function roleKey(role: string): string {
  return `roles.${Buffer.from(role, 'utf8').toString('hex')}`;
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
    case 'put-role':
      return { key: roleKey(op.role.role), value: { type: 'ROLE', role: op.role } };
    case 'delete-role':
      return { key: roleKey(op.role), value: undefined };
    case 'put-maintenance':
      return { key: MAINTENANCE_KEY, value: { type: 'MAINTENANCE', maintenance: op.maintenance } };
  }
}

/** Sorts loaded entries into the registry's contents. */
export function contentsOf(entries: Iterable<RegistryEntry>): RegistryContents {
  const contents: RegistryContents = { agents: [], frameworks: [], roles: [] };
  for (const e of entries) {
    if (e.type === 'AGENT') contents.agents.push(e.agent);
    else if (e.type === 'FRAMEWORK') contents.frameworks.push(e.framework);
    else if (e.type === 'ROLE') contents.roles?.push(e.role);
    else contents.maintenance = e.maintenance;
  }
  return contents;
}
