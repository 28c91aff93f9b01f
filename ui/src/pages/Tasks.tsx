/** Tasks: filter by state, framework, agent and text; detail with status history and health. */
import { useMemo } from 'preact/hooks';
import { Facts, StateBadge, Title } from '../components/Bits.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { ago, clock, isTerminalState, TASK_STATES } from '../format.js';
import { href, route, setQuery } from '../router.js';
import { store, taskKey, type Task } from '../store.js';

/** When a task last changed (its latest status), in ms. */
function changedAt(t: Task): number {
  return (t.status?.timestamp ?? 0) * 1000;
}

/** A virtualised table of tasks, newest change first. */
export function TaskTable({ rows, height }: { rows: readonly Task[]; height?: number }) {
  const sorted = useMemo(() => [...rows].sort((a, b) => changedAt(b) - changedAt(a)), [rows]);
  return (
    <VirtualTable<Task>
      rows={sorted}
      rowKey={(t) => t.key}
      rowHref={(t) => href(['tasks', t.frameworkId, t.taskId])}
      rowTestId="task-row"
      empty="no tasks match"
      {...(height !== undefined && { height })}
      columns={[
        { title: 'id', width: '2.5fr', render: (t) => <span data-testid="task-id">{t.taskId}</span> },
        { title: 'name', width: '1.5fr', render: (t) => t.name },
        { title: 'state', width: '1.2fr', render: (t) => <StateBadge state={t.state} testId="task-state" /> },
        { title: 'framework', width: '1.5fr', render: (t) => store.frameworks.get(t.frameworkId)?.name ?? t.frameworkId },
        { title: 'agent', width: '1.5fr', render: (t) => t.agentId },
        { title: 'resources', width: '2fr', render: (t) => <code>{t.resources}</code> },
        { title: 'changed', width: '1fr', render: (t) => ago(changedAt(t)) },
      ]}
    />
  );
}

/** The tasks page. */
export function Tasks() {
  const version = store.version.value;
  const q = route.value.query;
  const state = q.get('state') ?? '';
  const framework = q.get('framework') ?? '';
  const agent = q.get('agent') ?? '';
  const text = (q.get('q') ?? '').toLowerCase();
  const rows = useMemo(
    () =>
      store.taskList().filter(
        (t) =>
          (state === '' ||
            t.state === state ||
            (state === 'active' && !isTerminalState(t.state)) ||
            (state === 'completed' && isTerminalState(t.state))) &&
          (framework === '' || t.frameworkId === framework) &&
          (agent === '' || t.agentId === agent) &&
          (text === '' || t.taskId.toLowerCase().includes(text) || t.name.toLowerCase().includes(text)),
      ),
    [version, state, framework, agent, text],
  );
  const pick = (key: string) => (e: Event) => setQuery({ [key]: (e.currentTarget as HTMLSelectElement).value });
  return (
    <section>
      <Title note={<span data-testid="task-total">{`${rows.length} of ${store.tasks.size}`}</span>}>Tasks</Title>
      <div class="filters">
        <select value={state} onChange={pick('state')} aria-label="state" data-testid="filter-state">
          <option value="">any state</option>
          <option value="active">active (not terminal)</option>
          <option value="completed">completed (terminal)</option>
          {TASK_STATES.map((s) => (
            <option value={s} key={s}>
              {s}
            </option>
          ))}
        </select>
        <select value={framework} onChange={pick('framework')} aria-label="framework" data-testid="filter-framework">
          <option value="">any framework</option>
          {[...store.frameworks.values()].map((f) => (
            <option value={f.id} key={f.id}>
              {f.name} ({f.id})
            </option>
          ))}
        </select>
        <select value={agent} onChange={pick('agent')} aria-label="agent" data-testid="filter-agent">
          <option value="">any agent</option>
          {[...store.agents.values()].map((a) => (
            <option value={a.id} key={a.id}>
              {a.hostname} ({a.id})
            </option>
          ))}
        </select>
        <input placeholder="task id or name" value={q.get('q') ?? ''} onInput={(e) => setQuery({ q: (e.currentTarget as HTMLInputElement).value })} data-testid="filter-text" />
      </div>
      <TaskTable rows={rows} />
    </section>
  );
}

/** One task's detail. */
export function TaskDetail({ frameworkId, taskId }: { frameworkId: string; taskId: string }) {
  void store.version.value;
  const task = store.tasks.get(taskKey(frameworkId, taskId));
  if (task === undefined) return <p class="note">No task {taskId} of framework {frameworkId}. <a href={href(['tasks'])}>All tasks</a></p>;
  const executorId = task.status?.executorId ?? task.taskId;
  const sandbox = (path: string) => href(['sandbox', task.agentId, task.frameworkId, executorId], { path, task: task.taskId });
  const health = task.status?.healthy;
  return (
    <section>
      <Title note={task.name}>Task {task.taskId}</Title>
      <div class="cards">
        <div class="card">
          <Facts
            rows={[
              ['state', <StateBadge state={task.state} testId="task-detail-state" />],
              ['framework', <a href={href(['frameworks', task.frameworkId])}>{store.frameworks.get(task.frameworkId)?.name ?? task.frameworkId}</a>],
              ['agent', <a href={href(['agents', task.agentId])}>{task.agentId}</a>],
              ['resources', <code>{task.resources}</code>],
              ['health', health === undefined ? 'no health check' : health ? 'healthy' : 'unhealthy'],
              ['exit code', task.status?.exitCode ?? '—'],
              ['message', task.status?.message ?? '—'],
            ]}
          />
        </div>
        <div class="card">
          <h2>Sandbox</h2>
          <p>
            <a href={sandbox('stdout')} data-testid="open-stdout">
              stdout
            </a>{' '}
            · <a href={sandbox('stderr')}>stderr</a>
          </p>
        </div>
      </div>
      <h2>Status history</h2>
      <table class="grid" data-testid="status-history">
        <thead>
          <tr>
            <th>time</th>
            <th>state</th>
            <th>source</th>
            <th>reason</th>
            <th>message</th>
          </tr>
        </thead>
        <tbody>
          {(task.statuses ?? []).map((s, i) => (
            <tr key={`${i}-${s.state}`}>
              <td>{clock(s.timestamp * 1000)}</td>
              <td>
                <StateBadge state={s.state} />
              </td>
              <td>{s.source.replace(/^SOURCE_/, '').toLowerCase()}</td>
              <td>{s.reason?.replace(/^REASON_/, '').toLowerCase() ?? ''}</td>
              <td>{s.message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
