/**
 * The sandbox view: a task's stdout or stderr, tailed through `GET /files/read`. It reads what
 * was appended once a second while the task runs, catches up in 64 KiB chunks, starts near
 * the end of a large file, keeps the last 2 MB on screen, and stops after the task ended and
 * the file was read to its end.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { StateBadge, Title } from '../components/Bits.js';
import { isTerminalState } from '../format.js';
import { href, route, setQuery } from '../router.js';
import { store, taskKey } from '../store.js';

const CHUNK = 64 * 1024;
const START_TAIL = 256 * 1024;
const KEEP = 2 * 1024 * 1024;

interface ReadAnswer {
  data: string;
  offset: number;
  length: number;
  size: number;
}

/** The sandbox page for one executor's file. */
export function Sandbox({ agentId, frameworkId, executorId }: { agentId: string; frameworkId: string; executorId: string }) {
  const q = route.value.query;
  const path = q.get('path') ?? 'stdout';
  const taskId = q.get('task') ?? executorId;
  void store.version.value;
  const task = store.tasks.get(taskKey(frameworkId, taskId));
  const ended = task !== undefined && isTerminalState(task.state);
  const endedRef = useRef(ended);
  endedRef.current = ended;
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [skipped, setSkipped] = useState(0);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stop = false;
    let offset = 0;
    let first = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setText('');
    setSkipped(0);
    setStatus('reading…');
    const base = `/files/read?agent=${encodeURIComponent(agentId)}&framework=${encodeURIComponent(frameworkId)}&executor=${encodeURIComponent(executorId)}&path=${encodeURIComponent(path)}`;
    const tick = async () => {
      if (stop) return;
      const endedBefore = endedRef.current;
      let caughtUp = false;
      try {
        for (let i = 0; i < 32 && !stop; i++) {
          const r = await fetch(`${base}&offset=${offset}&length=${CHUNK}`, { cache: 'no-store' });
          if (!r.ok) {
            const body = (await r.json().catch(() => ({}))) as { reason?: string };
            setStatus(r.status === 404 ? `no ${path} yet` : `cannot read ${path}: ${body.reason ?? r.status}`);
            caughtUp = r.status !== 404 && r.status !== 502;
            break;
          }
          const a = (await r.json()) as ReadAnswer;
          if (first && a.size - offset > START_TAIL * 4) {
            offset = a.size - START_TAIL;
            setSkipped(offset);
            first = false;
            continue;
          }
          first = false;
          if (a.length > 0) setText((t) => (t + a.data).slice(-KEEP));
          offset = a.offset + a.length;
          setStatus(`${offset} of ${a.size} bytes`);
          if (a.length === 0 || offset >= a.size) {
            caughtUp = true;
            break;
          }
        }
      } catch {
        setStatus('the master did not answer; retrying');
      }
      if (stop) return;
      if (endedBefore && caughtUp) {
        setStatus((s) => `${s} — task ended`);
        return;
      }
      timer = setTimeout(() => void tick(), caughtUp ? 1000 : 0);
    };
    void tick();
    return () => {
      stop = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [agentId, frameworkId, executorId, path]);

  useEffect(() => {
    const el = pre.current;
    if (follow && el !== null) el.scrollTop = el.scrollHeight;
  }, [text, follow]);

  return (
    <section>
      <Title note={`${agentId} / ${executorId}`}>Sandbox</Title>
      <div class="filters">
        {['stdout', 'stderr'].map((p) => (
          <button key={p} class={p === path ? 'on' : ''} onClick={() => setQuery({ path: p })} data-testid={`sandbox-${p}`}>
            {p}
          </button>
        ))}
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)} /> follow
        </label>
        {task !== undefined && (
          <span>
            task <a href={href(['tasks', frameworkId, task.taskId])}>{task.taskId}</a> <StateBadge state={task.state} />
          </span>
        )}
        <span class="note" data-testid="sandbox-status">
          {status}
        </span>
      </div>
      {skipped > 0 && <p class="note">{skipped} earlier bytes not shown.</p>}
      <pre class="log" ref={pre} data-testid="sandbox-output">
        {text}
      </pre>
    </section>
  );
}
