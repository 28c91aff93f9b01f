// `npm test`: the whole suite in two lanes that run side by side.
//
// - The main lane: every test file but the multi-host one, one file at a time (vitest's
//   single worker on two cores; the files are CPU-bound, so more workers do not help).
// - The multi-host lane: test/integration/multi-host.test.ts with its partition scenarios
//   (NESOS_TEST_PARTITIONS=1): three hosts in network namespaces forming one cluster, an
//   agent's host cut and healed, the leader's host cut and healed (see the test's header). It
//   spends its time waiting on nats-server's Raft elections inside network namespaces, not on
//   the CPU, so it costs the main lane little.
//
// The multi-host lane's output is kept in a file and printed after the main lane's; the
// closing line (`tests: N passed, N failed, N skipped`) adds up both lanes. The exit code is non-zero if either lane
// failed. With arguments (`npm test -- test/unit`), this is plain `vitest run <args>`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MULTI_HOST = 'test/integration/multi-host.test.ts';
const VITEST = join('node_modules', 'vitest', 'vitest.mjs');

/**
 * Runs vitest with `args`. Its output goes to `out` (an fd), or through to ours while the
 * last part of it is kept (`tail`, for the closing counts). Resolves with the exit code.
 */
function vitest(args, env, out, tail) {
  const color = process.stdout.isTTY ? { FORCE_COLOR: '1' } : {};
  const stdio = out !== undefined ? ['ignore', out, out] : tail !== undefined ? ['ignore', 'pipe', 'inherit'] : 'inherit';
  const child = spawn(process.execPath, [VITEST, 'run', ...args], { stdio, env: { ...process.env, ...color, ...env } });
  children.push(child);
  child.stdout?.on('data', (chunk) => {
    process.stdout.write(chunk);
    tail.text = (tail.text + chunk.toString('utf8')).slice(-4096);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
    child.on('error', () => resolve(1));
  });
}

/** The counts in a lane's closing line (test/summary-reporter.ts), or undefined when it printed none. */
function counts(text) {
  const m = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(text);
  return m === null ? undefined : { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) };
}

const children = [];
// Ctrl-C reaches the vitest runs from the terminal (one process group): we keep waiting for
// them to stop their workers and run the tests' afterAll hooks (which stop clusters and
// remove network namespaces), and pass on only what a terminal does not send them all.
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  });
}

const extra = process.argv.slice(2);
if (extra.length > 0) {
  process.exitCode = await vitest(extra, {});
} else {
  const dir = mkdtempSync(join(tmpdir(), 'nesos-test-lanes-'));
  const logPath = join(dir, 'multi-host.log');
  const fd = openSync(logPath, 'w');
  const multiHost = vitest([MULTI_HOST], { NESOS_TEST_PARTITIONS: '1' }, fd);
  const mainTail = { text: '' };
  const mainCode = await vitest(['--exclude', MULTI_HOST], {}, undefined, mainTail);
  process.stdout.write(`\n--- multi-host lane (${MULTI_HOST}, ran alongside the main lane) ---\n`);
  const multiHostCode = await multiHost;
  closeSync(fd);
  const multiHostOut = readFileSync(logPath, 'utf8');
  process.stdout.write(multiHostOut);
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = mainCode !== 0 ? mainCode : multiHostCode;
  // Both lanes printed their own counts; the last line adds them up, in the same form.
  const lanes = [counts(mainTail.text), counts(multiHostOut)];
  if (lanes.some((c) => c === undefined)) {
    process.stdout.write(`\nall lanes: a lane printed no counts (exit codes: main ${mainCode}, multi-host ${multiHostCode}); see above\n`);
    if (process.exitCode === 0) process.exitCode = 1;
  } else {
    const sum = (k) => lanes.reduce((n, c) => n + c[k], 0);
    process.stdout.write(`\nboth lanes (exit codes: main ${mainCode}, multi-host ${multiHostCode})\ntests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped\n`);
  }
}
