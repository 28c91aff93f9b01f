/** Frameworks: roles, DRF share, what they hold, their tasks and offers. */
import { useMemo } from 'preact/hooks';
import type { FrameworkView } from '../../../protocol/operator-api.js';
import { Facts, StateBadge, Title } from '../components/Bits.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { ago } from '../format.js';
import { href } from '../router.js';
import { store } from '../store.js';
import { TaskTable } from './Tasks.js';

/** A DRF share as a percentage. */
export function share(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

/** The frameworks page. */
export function Frameworks() {
  const version = store.version.value;
  const rows = useMemo(() => [...store.frameworks.values()], [version]);
  return (
    <section>
      <Title note={`${rows.length}`}>Frameworks</Title>
      <VirtualTable<FrameworkView>
        rows={rows}
        rowKey={(f) => f.id}
        rowHref={(f) => href(['frameworks', f.id])}
        rowTestId="framework-row"
        empty="no frameworks subscribed"
        columns={[
          { title: 'id', width: '2.5fr', render: (f) => f.id },
          { title: 'name', width: '1.5fr', render: (f) => f.name },
          { title: 'principal', width: '1fr', render: (f) => f.principal },
          { title: 'roles', width: '1fr', render: (f) => f.roles.join(', ') },
          { title: 'connected', width: '1fr', render: (f) => <StateBadge state={f.connected ? 'active' : 'disconnected'} /> },
          { title: 'share', width: '0.8fr', render: (f) => share(f.share) },
          { title: 'tasks', width: '0.6fr', render: (f) => f.tasks },
          { title: 'offers', width: '0.6fr', render: (f) => f.offers },
          { title: 'allocated', width: '2.5fr', render: (f) => <code>{f.allocated}</code> },
        ]}
      />
    </section>
  );
}

/** One framework's detail. */
export function FrameworkDetail({ id }: { id: string }) {
  const version = store.version.value;
  const f = store.frameworks.get(id);
  const tasks = useMemo(() => store.taskList().filter((t) => t.frameworkId === id), [version, id]);
  const offers = [...store.offers.values()].filter((o) => o.frameworkId === id);
  if (f === undefined) return <p class="note">No framework {id} (it may have been torn down). <a href={href(['frameworks'])}>All frameworks</a></p>;
  return (
    <section>
      <Title note={f.id}>Framework {f.name}</Title>
      <Facts
        rows={[
          ['principal', f.principal],
          ['roles', f.roles.join(', ')],
          ['capabilities', f.capabilities.join(', ') || '—'],
          ['connected', f.connected ? 'yes' : 'no'],
          ['suppressed', f.suppressed ? 'yes' : 'no'],
          ['failover timeout', `${f.failoverTimeoutSeconds} s`],
          ['registered', ago(f.registeredAt)],
          ['DRF share', share(f.share)],
          ['allocated', <code>{f.allocated || '—'}</code>],
        ]}
      />
      <h2>Offers ({offers.length})</h2>
      <table class="grid">
        <tbody>
          {offers.slice(0, 100).map((o) => (
            <tr key={o.id}>
              <td>{o.id}</td>
              <td>
                <a href={href(['agents', o.agentId])}>{o.agentId}</a>
              </td>
              <td>
                <code>{o.resources}</code>
              </td>
              <td>{ago(o.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Tasks</h2>
      <TaskTable rows={tasks} />
    </section>
  );
}
