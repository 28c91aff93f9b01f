// The web UI in a real browser (Debian's Chromium through playwright-core) against a REAL
// cluster: nats-server, two masters (lease 2000 ms, each told the other's URL with --peers)
// and one agent, all processes from dist/. A page opened on the standby goes to the leader;
// the overview shows the cluster; a task started with `nesos run` appears and reaches
// TASK_FINISHED without a reload; its stdout is readable in the sandbox view; SIGKILL of the
// leading master moves the page to the new leader. Behaviour only: every wait is bounded,
// nothing asserts how long anything took.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NESOS_BIN, TestCluster } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { signalGroup, startProcess, stopProcess, type TestProcess } from '../helpers/processes.js';
import { NO_CHROMIUM, TestBrowser, chromiumPath } from './browser.js';

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium) process.stderr.write(`${NO_CHROMIUM}\n`);

/** Longest wait for anything the cluster or the page does. */
const WAIT_MS = 15_000;

let cluster: TestCluster | undefined;
let browser: TestBrowser | undefined;
/** Processes this file starts besides the cluster's own (the CLI). */
const extra: TestProcess[] = [];
/** Each master's HTTP base URL, by master id. */
const urls = new Map<string, string>();
/** One page for the whole story, as an operator would keep it open. */
let page: Page;
let leaderId = '';
let standbyId = '';
/** The task `nesos run` launched: `<framework>/<task>`. */
let taskKey = '';

/** The HTTP URL a master logged when it started listening (its log is written asynchronously: wait for it). */
async function urlOf(p: TestProcess): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const m = /"url":"([^"]+)","msg":"http server listening"/.exec(p.output());
    if (m?.[1] !== undefined) return m[1];
    if (Date.now() > deadline) throw new Error(`${p.name} logged no HTTP URL:\n${p.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the page's event stream is up. */
async function live(p: Page): Promise<void> {
  await p.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: WAIT_MS });
}

/** What went wrong, for a failed assertion: the processes' logs. */
function logs(): string {
  return [cluster?.logs() ?? '', ...extra.map((p) => `--- ${p.name}\n${p.output().slice(-2000)}`)].join('\n');
}

beforeAll(async () => {
  if (!hasChromium) return;
  cluster = await TestCluster.start({ startActors: false });
  // Fixed ports, so that each master can name the other in --peers: a page left on a dead
  // leader finds the new one there (with `--http-port 0` no master would know its peer).
  const ports = [await freePort(), await freePort()];
  const base = (port: number) => `http://127.0.0.1:${port}`;
  const election = ['--lease-ms', '2000', '--renew-interval-ms', '250'];
  cluster.startMaster(['--http-port', String(ports[0]), '--peers', base(ports[1]!), ...election], 'master-1');
  cluster.startMaster(['--http-port', String(ports[1]), '--peers', base(ports[0]!), ...election], 'master-2');
  cluster.startAgent('agent-1');
  await cluster.waitForAgents(1, WAIT_MS);
  for (const m of cluster.masters) urls.set(m.name, await urlOf(m));
  leaderId = (await cluster.leader()).name;
  standbyId = cluster.masters.find((m) => m.name !== leaderId)!.name;
  browser = await TestBrowser.launch();
  page = await browser.page();
});

afterAll(async () => {
  // Each step runs even when an earlier one fails.
  await browser?.close().catch(() => undefined);
  await Promise.all(extra.map((p) => stopProcess(p, 1000)));
  await cluster?.stop();
});

describe.skipIf(!hasChromium)('web UI on a real cluster', () => {
  it('a page opened on the standby goes to the leader, whose overview shows the cluster', async () => {
    expect(urls.get(leaderId), logs()).toBeDefined();
    await page.goto(`${urls.get(standbyId)}/`);
    await page.waitForURL(`${urls.get(leaderId)}/**`, { timeout: WAIT_MS });
    await live(page);
    expect(await page.getByTestId('leader').textContent()).toBe(leaderId);
    expect(await page.getByTestId('overview-leader').textContent()).toBe(leaderId);
    await page.locator('[data-testid=agents-active]', { hasText: '1' }).waitFor({ timeout: WAIT_MS });
    // agent-1's resources: cpus:2 (the TestCluster's default)
    expect(await page.getByTestId('res-total-cpus').textContent()).toBe('2');
  });

  it('a task started with `nesos run` appears and reaches TASK_FINISHED without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/tasks';
    });
    await page.locator('[data-testid=task-total]', { hasText: '0 of 0' }).waitFor({ timeout: WAIT_MS });
    // Marks this document: a reload would forget the mark.
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    const c = cluster!;
    const run = startProcess(
      'nesos-run',
      process.execPath,
      [NESOS_BIN, 'run', '--nats', c.natsUrl, '--cluster', c.name, '--name', 'hello-ui', '--', 'echo hello-ui; sleep 2'],
      `${c.dir}/nesos-run.log`,
    );
    extra.push(run);

    const row = page.locator('[data-testid=task-row]', { hasText: 'hello-ui' });
    await row.waitFor({ timeout: WAIT_MS });
    taskKey = (await row.getAttribute('data-key')) ?? '';
    await row.locator('[data-testid=task-state][data-state=TASK_FINISHED]').waitFor({ timeout: WAIT_MS });
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // The CLI saw the same: the task's output and exit code 0.
    const exit = await Promise.race([run.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), WAIT_MS))]);
    expect(exit?.code, run.output()).toBe(0);
    expect(run.output()).toContain('hello-ui');
    expect(run.output()).toContain(taskKey.split('/')[1]);
  });

  it("the task's stdout is readable in the sandbox view", async () => {
    expect(taskKey, 'the previous test found the task').toMatch(/.+\/.+/);
    await page.locator(`[data-testid=task-row][data-key="${taskKey}"]`).click();
    await page.locator('[data-testid=task-detail-state][data-state=TASK_FINISHED]').waitFor({ timeout: WAIT_MS });
    const states = await page.getByTestId('status-history').locator('tbody tr [data-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.at(-1)).toBe('TASK_FINISHED');
    expect(states).toContain('TASK_RUNNING');
    await page.getByTestId('open-stdout').click();
    await page.getByTestId('sandbox-output').filter({ hasText: 'hello-ui' }).waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId('sandbox-output').textContent()).toBe('hello-ui\n');
    await browser!.shot(page, 'real-sandbox');
  });

  it("an agent's page shows what the agent itself says: its isolator and drain state", async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/agents';
    });
    await page.locator('[data-testid=agent-row]').first().click();
    await page.getByTestId('agent-isolator').filter({ hasText: /^(cgroups-v1|cgroups-v2|posix)$/ }).waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId('agent-executors').isVisible()).toBe(true);
  });

  it('SIGKILL of the leading master: the page moves to the new leader and says so', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/';
    });
    await live(page);
    const leader = cluster!.masters.find((m) => m.name === leaderId)!;
    signalGroup(leader, 'SIGKILL');
    await page.waitForURL(`${urls.get(standbyId)}/**`, { timeout: WAIT_MS });
    await live(page);
    await page.locator('[data-testid=leader]', { hasText: standbyId }).waitFor({ timeout: WAIT_MS });
    expect(await page.getByTestId('overview-leader').textContent()).toBe(standbyId);
    await page.locator('[data-testid=leader-changed]', { hasText: `${leaderId} → ${standbyId}` }).waitFor({ timeout: WAIT_MS });
    // The agent registers with the new leader and the overview shows it again.
    await page.locator('[data-testid=agents-active]', { hasText: '1' }).waitFor({ timeout: WAIT_MS });
    await browser!.shot(page, 'real-new-leader');
  });
});
