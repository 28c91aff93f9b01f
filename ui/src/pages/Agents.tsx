/** Agents: a list (filter by status or text) and each agent's detail with its tasks and executors. */
import { useMemo } from 'preact/hooks';
import { ResourceAmounts, summarize } from '../../../actors/http/summary.js';
import { Facts, StateBadge, Title, UsageBar } from '../components/Bits.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { ago, quantity } from '../format.js';
import { href, route, setQuery } from '../router.js';
import { store, type Task } from '../store.js';
import type { ClusterAgentView } from '../../../protocol/operator-api.js';
import { TaskTable } from './Tasks.js';

const amounts = new ResourceAmounts();

/** The agents page. */
export function Agents() {
  const version = store.version.value;
  const q = route.value.query;
  const status = q.get('status') ?? '';
  const text = (q.get('q') ?? '').toLowerCase();
  const rows = useMemo(
    () =>
      [...store.agents.values()].filter(
        (a) => (status === '' || a.status === status) && (text === '' || a.id.toLowerCase().includes(text) || a.hostname.toLowerCase().includes(text)),
      ),
    [version, status, text],
  );
  return (
    <section>
      <Title note={`${rows.length} of ${store.agents.size}`}>Agents</Title>
      <div class="filters">
        <select value={status} onChange={(e) => setQuery({ status: (e.currentTarget as HTMLSelectElement).value })} aria-label="status">
          <option value="">any status</option>
          <option value="active">active</option>
          <option value="unreachable">unreachable</option>
        </select>
        <input placeholder="id or hostname" value={q.get('q') ?? ''} onInput={(e) => setQuery({ q: (e.currentTarget as HTMLInputElement).value })} />
      </div>
      <VirtualTable<ClusterAgentView>
        rows={rows}
        rowKey={(a) => a.id}
        rowHref={(a) => href(['agents', a.id])}
        rowTestId="agent-row"
        empty="no agents"
        columns={[
          { title: 'id', width: '2fr', render: (a) => a.id },
          { title: 'hostname', width: '2fr', render: (a) => a.hostname },
          { title: 'status', width: '1fr', render: (a) => <StateBadge state={a.status} /> },
          { title: 'resources', width: '3fr', render: (a) => <code>{a.resources}</code> },
          { title: 'available', width: '3fr', render: (a) => <code>{a.available}</code> },
          { title: 'tasks', width: '0.6fr', render: (a) => a.tasks },
        ]}
      />
    </section>
  );
}

/** One agent's detail. */
export function AgentDetail({ id }: { id: string }) {
  const version = store.version.value;
  const agent = store.agents.get(id);
  const tasks = useMemo(() => store.taskList().filter((t) => t.agentId === id), [version, id]);
  const usage = useMemo(() => {
    if (agent === undefined) return undefined;
    const offers = [...store.offers.values()].filter((o) => o.agentId === id);
    return summarize({ agents: [{ ...agent, status: 'active' }], frameworks: [...store.frameworks.values()], tasks, completedTasks: [], offers }, amounts).resources;
  }, [version, id]);
  if (agent === undefined || usage === undefined) return <p class="note">No agent {id} (it may have been removed). <a href={href(['agents'])}>All agents</a></p>;
  const executors = tasks.map((t: Task) => ({ task: t, executorId: t.status?.executorId ?? t.taskId }));
  return (
    <section>
      <Title note={agent.hostname}>Agent {agent.id}</Title>
      <div class="cards">
        <div class="card">
          <Facts
            rows={[
              ['status', <StateBadge state={agent.status} testId="agent-status" />],
              ['registered', ago(agent.registeredAt)],
              ['last seen', ago(agent.lastSeenAt)],
              ['resources', <code>{agent.resources}</code>],
              ['available', <code>{agent.available}</code>],
              ...(agent.draining === true ? ([['draining', 'yes']] as Array<[string, string]>) : []),
              ...(agent.deactivated === true ? ([['deactivated', 'yes']] as Array<[string, string]>) : []),
            ]}
          />
        </div>
        <div class="card">
          <h2>Attributes</h2>
          <Facts rows={Object.entries(agent.attributes).map(([k, v]) => [k, v])} />
        </div>
      </div>
      <h2>Usage</h2>
      <table class="grid">
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
          {Object.keys(usage.total).map((k) => (
            <tr key={k}>
              <td>{k}</td>
              <td>{quantity(k, usage.total[k])}</td>
              <td>{quantity(k, usage.allocated[k])}</td>
              <td>{quantity(k, usage.offered[k])}</td>
              <td>{quantity(k, usage.idle[k])}</td>
              <td class="wide">
                <UsageBar total={usage.total[k] ?? 0} allocated={usage.allocated[k] ?? 0} offered={usage.offered[k] ?? 0} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Executors</h2>
      <table class="grid">
        <thead>
          <tr>
            <th>executor</th>
            <th>framework</th>
            <th>task state</th>
            <th>sandbox</th>
          </tr>
        </thead>
        <tbody>
          {executors
            .filter((e) => e.task.state !== 'TASK_FINISHED' || executors.length < 50)
            .slice(0, 200)
            .map(({ task, executorId }) => (
              <tr key={task.key}>
                <td>{executorId}</td>
                <td>
                  <a href={href(['frameworks', task.frameworkId])}>{task.frameworkId}</a>
                </td>
                <td>
                  <StateBadge state={task.state} />
                </td>
                <td>
                  <a href={href(['sandbox', task.agentId, task.frameworkId, executorId], { task: task.taskId })}>stdout / stderr</a>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      <h2>Tasks</h2>
      <TaskTable rows={tasks} />
    </section>
  );
}
