/** The page frame: header (cluster, leader, connection), navigation, and the routed page. */
import { connection, previousLeader } from './live.js';
import { href, route } from './router.js';
import { store } from './store.js';
import { AgentDetail, Agents } from './pages/Agents.js';
import { FrameworkDetail, Frameworks } from './pages/Frameworks.js';
import { Maintenance } from './pages/Maintenance.js';
import { Overview } from './pages/Overview.js';
import { Roles } from './pages/Roles.js';
import { Sandbox } from './pages/Sandbox.js';
import { TaskDetail, Tasks } from './pages/Tasks.js';

const NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['agents', 'Agents'],
  ['frameworks', 'Frameworks'],
  ['tasks', 'Tasks'],
  ['roles', 'Roles'],
  ['maintenance', 'Maintenance'],
];

const CONNECTION_TEXT: Record<string, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  'no-leader': 'no leader reachable — retrying',
  moving: 'moving to the new leader…',
};

function Page() {
  const [page, a, b, c] = route.value.parts;
  switch (page) {
    case undefined:
      return <Overview />;
    case 'agents':
      return a === undefined ? <Agents /> : <AgentDetail id={a} />;
    case 'frameworks':
      return a === undefined ? <Frameworks /> : <FrameworkDetail id={a} />;
    case 'tasks':
      return a === undefined || b === undefined ? <Tasks /> : <TaskDetail frameworkId={a} taskId={b} />;
    case 'roles':
      return <Roles />;
    case 'maintenance':
      return <Maintenance />;
    case 'sandbox':
      return a !== undefined && b !== undefined && c !== undefined ? <Sandbox agentId={a} frameworkId={b} executorId={c} /> : <p>Which sandbox?</p>;
    default:
      return (
        <p class="note">
          No page “{page}”. <a href="#/">Overview</a>
        </p>
      );
  }
}

/** The whole page. */
export function App() {
  const meta = store.meta.value;
  const current = route.value.parts[0] ?? '';
  const leader = meta?.leader?.masterId ?? meta?.masterId;
  const from = previousLeader.value;
  return (
    <>
      <header>
        <a class="brand" href="#/">
          Nesos
        </a>
        <nav>
          {NAV.map(([path, label]) => (
            <a key={path} href={href(path === '' ? [] : [path])} class={current === path ? 'on' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="leader">
          {meta !== null && (
            <>
              cluster <b>{meta.cluster}</b> · leader <b data-testid="leader">{leader}</b> (epoch {meta.leader?.epoch ?? meta.epoch})
            </>
          )}
        </span>
        <span class={`conn ${connection.value}`} data-testid="connection" data-state={connection.value}>
          {CONNECTION_TEXT[connection.value]}
        </span>
      </header>
      {from !== null && leader !== undefined && from !== leader && (
        <div class="banner" data-testid="leader-changed">
          Leader changed: {from} → {leader}
          <button onClick={() => (previousLeader.value = null)}>dismiss</button>
        </div>
      )}
      <main>
        <Page />
      </main>
    </>
  );
}
