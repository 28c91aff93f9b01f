/**
 * Roles: weights, quota and shares. Uses the master's role views when it reports them;
 * otherwise derives roles from the frameworks (their roles, what they hold and their shares).
 */
import { useMemo } from 'preact/hooks';
import { ResourceAmounts, summarize, type Quantities } from '../../../actors/http/summary.js';
import type { RoleView } from '../../../protocol/operator-api.js';
import { Title } from '../components/Bits.js';
import { quantity } from '../format.js';
import { store } from '../store.js';
import { share } from './Frameworks.js';

const amounts = new ResourceAmounts();

function text(q: Quantities | undefined): string {
  if (q === undefined) return '—';
  const parts = Object.entries(q).map(([k, v]) => `${k} ${quantity(k, v)}`);
  return parts.length === 0 ? '—' : parts.join(', ');
}

/** The roles page. */
export function Roles() {
  const version = store.version.value;
  const meta = store.meta.value;
  const derived = useMemo(() => {
    const s = summarize({ agents: [...store.agents.values()], frameworks: [...store.frameworks.values()], tasks: store.taskList(), completedTasks: [], offers: [...store.offers.values()] }, amounts);
    const names = new Set<string>([...Object.keys(s.roles.allocated), ...Object.keys(s.roles.offered)]);
    for (const f of store.frameworks.values()) for (const r of f.roles) names.add(r);
    for (const w of meta?.weights ?? []) names.add(w.role);
    for (const q of meta?.quotas ?? []) names.add(q.role);
    return [...names].sort().map((name) => {
      const frameworks = [...store.frameworks.values()].filter((f) => f.roles.includes(name));
      return {
        name,
        weight: meta?.weights?.find((w) => w.role === name)?.weight ?? 1,
        quota: meta?.quotas?.find((q) => q.role === name),
        frameworks: frameworks.map((f) => f.id),
        allocated: text(s.roles.allocated[name]),
        offered: text(s.roles.offered[name]),
        share: frameworks.reduce((m, f) => Math.max(m, f.share), 0),
      };
    });
  }, [version, meta]);
  const fromMaster: RoleView[] | undefined = meta?.roles;
  const rows = fromMaster?.map((r) => ({ ...r, share: r.share ?? 0 })) ?? derived;
  return (
    <section>
      <Title note={fromMaster === undefined ? 'derived from the frameworks: this master reports no roles yet' : undefined}>Roles</Title>
      <table class="grid" data-testid="roles">
        <thead>
          <tr>
            <th>role</th>
            <th>weight</th>
            <th>quota guarantee</th>
            <th>quota limit</th>
            <th>frameworks</th>
            <th>allocated</th>
            <th>offered</th>
            <th>share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} data-role={r.name}>
              <td>{r.name}</td>
              <td>{r.weight}</td>
              <td>
                <code>{r.quota?.guarantee ?? '—'}</code>
              </td>
              <td>
                <code>{r.quota?.limit ?? '—'}</code>
              </td>
              <td>{r.frameworks.length}</td>
              <td>{r.allocated || '—'}</td>
              <td>{r.offered || '—'}</td>
              <td>{share(r.share)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
