/** Agents: a list (filter by status or text) and each agent's detail with its tasks and executors. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AgentSnapshot } from '../../../protocol/agent-state.js';
import { ResourceAmounts, summarize } from '../../../actors/http/summary.js';
import { Facts, StateBadge, Title, UsageBar } from '../components/Bits.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { ago, quantity } from '../format.js';

/** How often an open agent page asks the agent for its state (usage is not in the event stream). */
const AGENT_STATE_INTERVAL_MS = 2000;

/** The agent's own state (`/agents/:id/state`), asked again every AGENT_STATE_INTERVAL_MS while mounted; an error says why it is missing. */
function useAgentState(id: string): { state?: AgentSnapshot; error?: string } {
  const [answer, setAnswer] = useState<{ state?: AgentSnapshot; error?: string }>({});
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async (): Promise<void> => {
      try {
        const r = await fetch(`/agents/${encodeURIComponent(id)}/state`, { cache: 'no-store' });
        const body = (await r.json()) as AgentSnapshot | { reason?: string };
        if (!stopped) setAnswer(r.ok ? { state: body as AgentSnapshot } : { error: (body as { reason?: string }).reason ?? `HTTP ${r.status}` });
      } catch (e) {
        if (!stopped) setAnswer({ error: String(e) });
      }
      if (!stopped) timer = setTimeout(() => void ask(), AGENT_STATE_INTERVAL_MS);
    };
    void ask();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [id]);
  return answer;
}

const MiB = 1024 * 1024;

/** Bytes as MiB with one decimal. */
function mib(bytes: number | undefined): string {
  return bytes === undefined ? '—' : `${(bytes / MiB).toFixed(1)} MiB`;
}
import { href, route, setQuery } from '../router.js';
import { store } from '../store.js';
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
  const own = useAgentState(id);
  const agent = store.agents.get(id);
  const tasks = useMemo(() => store.taskList().filter((t) => t.agentId === id), [version, id]);
  const usage = useMemo(() => {
    if (agent === undefined) return undefined;
    const offers = [...store.offers.values()].filter((o) => o.agentId === id);
    return summarize({ agents: [{ ...agent, status: 'active' }], frameworks: [...store.frameworks.values()], tasks, completedTasks: [], offers }, amounts).resources;
  }, [version, id]);
  if (agent === undefined || usage === undefined) return <p class="note">No agent {id} (it may have been removed). <a href={href(['agents'])}>All agents</a></p>;
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
              ['isolator', <span data-testid="agent-isolator">{own.state?.isolation['isolator'] ?? '…'}</span>],
              ['drain', own.state?.drain.state ?? '…'],
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
      {own.error !== undefined && <p class="note">The agent's own state is not available: {own.error}</p>}
      <table class="grid" data-testid="agent-executors">
        <thead>
          <tr>
            <th>executor</th>
            <th>kind</th>
            <th>phase</th>
            <th>framework</th>
            <th>tasks</th>
            <th>cpu time</th>
            <th>cpus limit</th>
            <th>memory</th>
            <th>memory limit</th>
            <th>sandbox</th>
          </tr>
        </thead>
        <tbody>
          {(own.state?.executors ?? []).slice(0, 500).map((e) => (
            <tr key={e.executorId} data-testid="executor-row">
              <td>{e.executorId}</td>
              <td>{e.kind}</td>
              <td>{e.limitation === undefined ? e.phase : `${e.phase} (${e.limitation.reason})`}</td>
              <td>
                <a href={href(['frameworks', e.frameworkId])}>{e.frameworkId}</a>
              </td>
              <td>{e.taskIds.length}</td>
              <td>{e.usage === undefined ? '—' : `${(e.usage.cpuUserSeconds + e.usage.cpuSystemSeconds).toFixed(2)} s`}</td>
              <td>{e.usage?.cpusLimit ?? '—'}</td>
              <td>{mib(e.usage?.memBytes)}</td>
              <td>{mib(e.usage?.memLimitBytes)}</td>
              <td>
                <a href={href(['sandbox', id, e.frameworkId, e.executorId], e.taskIds[0] === undefined ? {} : { task: e.taskIds[0] })}>stdout / stderr</a>
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
