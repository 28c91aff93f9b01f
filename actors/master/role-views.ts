/** The operator API's views of roles' settings (weights, quota), from the master's registry. */
import type { QuotaView, WeightView } from '../../protocol/operator-api.js';
import type { RoleSettings } from './state.js';

/** Every role with a weight set. */
export function weightsOf(roles: ReadonlyMap<string, RoleSettings>): WeightView[] {
  return [...roles].flatMap(([role, s]) => (s.weight === undefined ? [] : [{ role, weight: s.weight }]));
}

/** Every role with a quota. */
export function quotasOf(roles: ReadonlyMap<string, RoleSettings>): QuotaView[] {
  return [...roles].flatMap(([role, s]) =>
    s.guarantee === undefined && s.limit === undefined ? [] : [{ role, ...(s.guarantee !== undefined && { guarantee: s.guarantee }), ...(s.limit !== undefined && { limit: s.limit }) }],
  );
}
