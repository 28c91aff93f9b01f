/**
 * Hash routing: `#/tasks?state=TASK_RUNNING` is page "tasks" with its query. Every master
 * serves the same index.html, so the route lives in the hash and survives a move to the leader.
 */
import { signal } from '@preact/signals';

/** A parsed route: path segments and query. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return {
    parts: path.split('/').filter((p) => p !== '').map(decodeURIComponent),
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}

/** The current route. */
export const route = signal<Route>(parse(location.hash));
window.addEventListener('hashchange', () => {
  route.value = parse(location.hash);
});

/** Builds a hash link from path segments and query values (empty values are left out). */
export function href(parts: string[], query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const qs = q.toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${qs === '' ? '' : `?${qs}`}`;
}

/** Replaces the query of the current route (filters), keeping the page. */
export function setQuery(values: Record<string, string | undefined>): void {
  const current = route.value;
  const merged: Record<string, string | undefined> = Object.fromEntries(current.query);
  Object.assign(merged, values);
  history.replaceState(null, '', href(current.parts, merged));
  route.value = parse(location.hash);
}
