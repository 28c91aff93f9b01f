/** The overview: the leader, resources total/allocated/offered/idle per kind, tasks by state, agents by status. */
import { useMemo } from 'preact/hooks';
import { ResourceAmounts, summarize } from '../../../actors/http/summary.js';
import { Facts, StateBadge, Title, UsageBar } from '../components/Bits.js';
import { ago, quantity, shortState, TASK_STATES } from '../format.js';
import { href } from '../router.js';
import { store } from '../store.js';

const amounts = new ResourceAmounts();
const KIND_ORDER = ['cpus', 'mem', 'disk', 'gpus', 'ports'];

/** The overview page. */
export function Overview() {
  const version = store.version.value;
  const meta = store.meta.value;
  const summary = useMemo(
    () =>
      summarize(
        {
          agents: [...store.agents.values()],
          frameworks: [...store.frameworks.values()],
          tasks: store.taskList(),
          completedTasks: [],
          offers: [...store.offers.values()],
        },
        amounts,
      ),
    [version],
  );
  if (meta === null) return <p class="note">Waiting for the cluster state…</p>;
  const r = summary.resources;
  const kinds = Object.keys(r.total).sort((a, b) => (KIND_ORDER.indexOf(a) + 99) % 99 - ((KIND_ORDER.indexOf(b) + 99) % 99) || a.localeCompare(b));
  const active = TASK_STATES.filter((s) => (summary.tasksByState[s] ?? 0) > 0);
  return (
    <section>
      <Title note={`cluster ${meta.cluster}`}>Overview</Title>
      <div class="cards">
        <div class="card">
          <h2>Leader</h2>
          <Facts
            rows={[
              ['master', <strong data-testid="overview-leader">{meta.leader?.masterId ?? meta.masterId}</strong>],
              ['epoch', <span data-testid="overview-epoch">{meta.leader?.epoch ?? meta.epoch}</span>],
              ['started', ago(meta.startedAt)],
            ]}
          />
        </div>
        <div class="card">
          <h2>Agents</h2>
          <Facts
            rows={Object.entries(summary.agentsByStatus).map(([status, n]) => [
              status,
              <a href={href(['agents'], { status })} data-testid={`agents-${status}`}>
                {n}
              </a>,
            ])}
          />
        </div>
        <div class="card">
          <h2>Frameworks</h2>
          <Facts
            rows={[
              ['connected', <span data-testid="frameworks-connected">{summary.frameworks.connected}</span>],
              ['total', <a href={href(['frameworks'])}>{summary.frameworks.total}</a>],
              ['offers', summary.offers],
            ]}
          />
        </div>
      </div>
      <h2>Resources</h2>
      <table class="grid" data-testid="resources">
        <thead>
          <tr>
            <th>kind</th>
            <th>total</th>
            <th>allocated</th>
            <th>offered</th>
            <th>idle</th>
            <th class="wide" />
          </tr>
        </thead>
        <tbody>
          {kinds.map((k) => (
            <tr key={k} data-kind={k}>
              <td>{k}</td>
              <td data-testid={`res-total-${k}`}>{quantity(k, r.total[k])}</td>
              <td data-testid={`res-allocated-${k}`}>{quantity(k, r.allocated[k])}</td>
              <td data-testid={`res-offered-${k}`}>{quantity(k, r.offered[k])}</td>
              <td data-testid={`res-idle-${k}`}>{quantity(k, r.idle[k])}</td>
              <td class="wide">
                <UsageBar total={r.total[k] ?? 0} allocated={r.allocated[k] ?? 0} offered={r.offered[k] ?? 0} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Tasks</h2>
      <div class="counts" data-testid="task-counts">
        {active.length === 0 && <span class="note">no tasks yet</span>}
        {active.map((s) => (
          <a class="count" href={href(['tasks'], { state: s })} key={s} data-testid={`task-count-${s}`} data-count={summary.tasksByState[s]}>
            <StateBadge state={s} />
            <b>{summary.tasksByState[s]}</b>
            <span class="sr">{shortState(s)}</span>
          </a>
        ))}
      </div>
    </section>
  );
}
