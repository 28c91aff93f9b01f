/** Small shared pieces: a state badge, a definition list, a bar, a page title. */
import type { ComponentChildren } from 'preact';
import { shortState, stateClass } from '../format.js';

/** A coloured task or agent state. */
export function StateBadge({ state, testId }: { state: string; testId?: string }) {
  return (
    <span class={`badge ${stateClass(state)}`} data-testid={testId} data-state={state}>
      {shortState(state)}
    </span>
  );
}

/** A two-column list of facts. */
export function Facts({ rows }: { rows: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="facts">
      {rows.map(([k, v]) => (
        <>
          <dt key={`${k}-k`}>{k}</dt>
          <dd key={`${k}-v`}>{v}</dd>
        </>
      ))}
    </dl>
  );
}

/** A horizontal bar of allocated, offered and idle parts of a total. */
export function UsageBar({ total, allocated, offered }: { total: number; allocated: number; offered: number }) {
  const pct = (n: number) => (total <= 0 ? 0 : Math.min(100, (n / total) * 100));
  return (
    <div class="bar" title={`allocated ${pct(allocated).toFixed(0)}%, offered ${pct(offered).toFixed(0)}%`}>
      <span class="alloc" style={{ width: `${pct(allocated)}%` }} />
      <span class="offer" style={{ width: `${pct(offered)}%` }} />
    </div>
  );
}

/** A page heading with an optional note beside it. */
export function Title({ children, note }: { children: ComponentChildren; note?: ComponentChildren }) {
  return (
    <h1>
      {children}
      {note !== undefined && <small>{note}</small>}
    </h1>
  );
}

/** A notice that a part of the state is not reported by this master. */
export function NotReported({ what }: { what: string }) {
  return <p class="note">This master does not report {what} yet.</p>;
}
