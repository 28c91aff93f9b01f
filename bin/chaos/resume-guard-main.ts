/**
 * The resume guardian of `nesos chaos --attach`: a small process of its own that learns on
 * stdin which pids the run has paused (`+<pid>`) and resumed (`-<pid>`), and sends SIGCONT
 * to every pid still paused when its stdin closes, which happens when the run ends, however
 * it ends (SIGKILL included). It lives as long as the run's end of the pipe.
 */
import { createInterface } from 'node:readline';

const paused = new Set<number>();

function resumeAll(): void {
  for (const pid of paused) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  paused.clear();
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const m = /^([+-])(\d+)$/.exec(line.trim());
  if (m === null) return;
  const pid = Number(m[2]);
  if (m[1] === '+') paused.add(pid);
  else paused.delete(pid);
});
lines.on('close', () => {
  resumeAll();
  process.exit(0);
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, () => {
    resumeAll();
    process.exit(0);
  });
}
