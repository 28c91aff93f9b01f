/** Maintenance: the schedule's windows, each agent's mode and the frameworks' answers to its inverse offers, plus agents draining or deactivated. */
import { NotReported, StateBadge, Title } from '../components/Bits.js';
import { store } from '../store.js';
import { href } from '../router.js';

/** The maintenance page. */
export function Maintenance() {
  void store.version.value;
  const meta = store.meta.value;
  const m = meta?.maintenance;
  const flagged = [...store.agents.values()].filter((a) => a.draining === true || a.deactivated === true);
  return (
    <section>
      <Title>Maintenance</Title>
      {m === undefined ? (
        <NotReported what="a maintenance schedule" />
      ) : (
        <>
          <h2>Windows</h2>
          <table class="grid" data-testid="maintenance-windows">
            <thead>
              <tr>
                <th>start</th>
                <th>end</th>
                <th>agents</th>
              </tr>
            </thead>
            <tbody>
              {m.windows.map((w, i) => (
                <tr key={i}>
                  <td>{new Date(w.start).toISOString().replace('T', ' ').slice(0, 16)}</td>
                  <td>{new Date(w.start + w.durationMs).toISOString().replace('T', ' ').slice(0, 16)}</td>
                  <td>{w.agentIds.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Agents</h2>
          <table class="grid" data-testid="maintenance-agents">
            <thead>
              <tr>
                <th>agent</th>
                <th>mode</th>
                <th>inverse offers: frameworks' answers</th>
              </tr>
            </thead>
            <tbody>
              {m.agents.map((a) => (
                <tr key={a.agentId} data-testid="maintenance-agent" data-key={a.agentId}>
                  <td>
                    <a href={href(['agents', a.agentId])}>{a.agentId}</a>
                  </td>
                  <td>{a.mode}</td>
                  <td>
                    {(a.statuses ?? []).length === 0 ? (
                      <span class="note">{a.mode === 'DRAINING' ? 'no framework asked' : ''}</span>
                    ) : (
                      (a.statuses ?? []).map((s) => (
                        <div key={s.frameworkId} data-testid="inverse-offer-status" data-framework={s.frameworkId} data-status={s.status} title={`since ${new Date(s.updatedAt).toISOString()}`}>
                          <a href={href(['frameworks', s.frameworkId])}>{s.frameworkId}</a>: {s.status === 'UNKNOWN' ? 'no answer yet' : s.status === 'ACCEPT' ? 'accepted' : 'declined'}
                        </div>
                      ))
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Draining or deactivated agents</h2>
      {flagged.length === 0 ? (
        <p class="note">none</p>
      ) : (
        <table class="grid">
          <tbody>
            {flagged.map((a) => (
              <tr key={a.id}>
                <td>
                  <a href={href(['agents', a.id])}>{a.id}</a>
                </td>
                <td>
                  <StateBadge state={a.status} />
                </td>
                <td>{a.draining === true ? 'draining' : 'deactivated'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
