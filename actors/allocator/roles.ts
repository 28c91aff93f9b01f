// Roles, as Mesos names them: `*` is the default role (and the role of unreserved
// resources); other roles are `/`-separated paths (`eng/frontend`) forming a tree whose
// top-level roles carry quota. Reservations made to a role may be used by it and by its
// descendants.
import { UNRESERVED, checkRole } from '../../protocol/resources-parse.js';
import { InvalidRoleError } from './errors.js';

/** The default role: frameworks that name none are in it; unreserved resources carry it. */
export const DEFAULT_ROLE = UNRESERVED;

/** Throws `InvalidRoleError` unless `role` is `*` or a valid role path. */
export function validateRole(role: string): void {
  const problem = typeof role === 'string' ? checkRole(role) : 'role must be a string';
  if (problem !== undefined) throw new InvalidRoleError(String(role), problem);
}

/** The top-level role of `role` (`eng` for `eng/frontend`; `*` for `*`). */
export function topLevel(role: string): string {
  const slash = role.indexOf('/');
  return slash < 0 ? role : role.slice(0, slash);
}

/** True when `role` is `ancestor` or below it (`eng/web` is within `eng`). */
export function isWithin(role: string, ancestor: string): boolean {
  return role === ancestor || role.startsWith(`${ancestor}/`);
}
