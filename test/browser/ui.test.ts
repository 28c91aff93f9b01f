// The web UI in a real browser (Debian's Chromium through playwright-core), served by the
// HTTP module with a fake master behind it that pushes events: the overview shows the
// cluster, a task appears and reaches FINISHED without a reload, its stdout is readable,
// a leader change is shown, and 10,000 tasks stay responsive.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperatorHttp, type OperatorHttpServer } from '../../actors/http/index.js';
import { FakeOperatorSource } from '../helpers/fake-operator-source.js';
import { NO_CHROMIUM, TestBrowser, UI_DIR, chromiumPath } from './browser.js';

const hasChromium = chromiumPath() !== undefined;
if (!hasChromium) process.stderr.write(`${NO_CHROMIUM}\n`);

const servers: OperatorHttpServer[] = [];
let browser: TestBrowser;

async function serve(source: FakeOperatorSource, port = 0): Promise<OperatorHttpServer> {
  const server = await startOperatorHttp({ source, port, uiDir: UI_DIR, processMetrics: false, heartbeatIntervalSeconds: 1 });
  servers.push(server);
  return server;
}

/** A leading master with two agents, a framework, a running task and an offer. */
function cluster(masterId = 'master-1'): FakeOperatorSource {
  const src = new FakeOperatorSource({ masterId, epoch: 3, cluster: 'demo' });
  src.addAgent('agent-1', 'cpus:4;mem:4096;disk:8192;ports:[31000-31099]');
  src.addAgent('agent-2', 'cpus:2;mem:2048;disk:8192;ports:[31000-31099]');
  src.addFramework('fw-1', 'nesos-run');
  src.launchTask('web-1', 'fw-1', 'agent-1', 'cpus:1;mem:256');
  src.updateTask('web-1', 'TASK_RUNNING');
  src.addOffer('offer-1', 'fw-1', 'agent-2', 'cpus:1;mem:512');
  return src;
}

async function live(page: Page): Promise<void> {
  await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 10_000 });
}

beforeAll(async () => {
  if (hasChromium) browser = await TestBrowser.launch();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe.skipIf(!hasChromium)('web UI', () => {
  it('shows the cluster on the overview: leader, resources, agents and tasks', async () => {
    const src = cluster();
    const server = await serve(src);
    const page = await browser.page();
    await page.goto(`${server.url}/`);
    await live(page);
    expect(await page.getByTestId('leader').textContent()).toBe('master-1');
    expect(await page.getByTestId('overview-epoch').textContent()).toBe('3');
    // cpus: 4 + 2 = 6 total, 1 allocated (web-1), 1 offered, 4 idle
    expect(await page.getByTestId('res-total-cpus').textContent()).toBe('6');
    expect(await page.getByTestId('res-allocated-cpus').textContent()).toBe('1');
    expect(await page.getByTestId('res-offered-cpus').textContent()).toBe('1');
    expect(await page.getByTestId('res-idle-cpus').textContent()).toBe('4');
    // mem: 4096 + 2048 = 6 GB total
    expect(await page.getByTestId('res-total-mem').textContent()).toBe('6 GB');
    expect(await page.getByTestId('agents-active').textContent()).toBe('2');
    expect(await page.getByTestId('task-count-TASK_RUNNING').getAttribute('data-count')).toBe('1');
    // an agent going unreachable shows at once
    src.setAgentStatus('agent-2', 'unreachable');
    await page.locator('[data-testid=agents-unreachable]', { hasText: '1' }).waitFor();
    expect(await page.getByTestId('res-total-cpus').textContent()).toBe('4');
    await browser.shot(page, 'overview');
    await page.close();
  });

  it('shows a new task live, through to TASK_FINISHED, without reloading the page', async () => {
    const src = cluster();
    const server = await serve(src);
    const page = await browser.page();
    await page.goto(`${server.url}/#/tasks`);
    await live(page);
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    src.launchTask('hello-1', 'fw-1', 'agent-1', 'cpus:0.1;mem:32', 'hello');
    const row = page.locator('[data-testid=task-row][data-key="fw-1/hello-1"]');
    await row.waitFor();
    await row.locator('[data-testid=task-state][data-state=TASK_STAGING]').waitFor();
    src.updateTask('hello-1', 'TASK_STARTING');
    src.updateTask('hello-1', 'TASK_RUNNING');
    await row.locator('[data-testid=task-state][data-state=TASK_RUNNING]').waitFor();
    src.updateTask('hello-1', 'TASK_FINISHED', { exitCode: 0 });
    await row.locator('[data-testid=task-state][data-state=TASK_FINISHED]').waitFor();
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // filters: by state, then by framework and agent
    await page.getByTestId('filter-state').selectOption('TASK_FINISHED');
    await page.locator('[data-testid=task-total]', { hasText: '1 of 2' }).waitFor();
    expect(await page.locator('[data-testid=task-row]').count()).toBe(1);
    await page.getByTestId('filter-state').selectOption('');
    await page.getByTestId('filter-agent').selectOption('agent-2');
    await page.locator('[data-testid=task-total]', { hasText: '0 of 2' }).waitFor();
    // the detail shows the status history, in order
    await page.goto(`${server.url}/#/tasks/fw-1/hello-1`);
    const history = page.getByTestId('status-history');
    await history.locator('tbody tr').nth(2).waitFor();
    const states = await history.locator('tbody tr [data-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    await page.close();
  });

  it('shows a task\'s stdout in the sandbox view and follows what it writes', async () => {
    const src = cluster();
    src.appendFile('agent-1', 'fw-1', 'web-1', 'stdout', 'hello from web-1\n');
    src.appendFile('agent-1', 'fw-1', 'web-1', 'stderr', 'a warning\n');
    const server = await serve(src);
    const page = await browser.page();
    await page.goto(`${server.url}/#/tasks/fw-1/web-1`);
    await live(page);
    await page.getByTestId('open-stdout').click();
    const out = page.getByTestId('sandbox-output');
    await out.filter({ hasText: 'hello from web-1' }).waitFor();
    src.appendFile('agent-1', 'fw-1', 'web-1', 'stdout', 'tick 2\n');
    await out.filter({ hasText: 'tick 2' }).waitFor({ timeout: 5000 });
    await page.getByTestId('sandbox-stderr').click();
    await out.filter({ hasText: 'a warning' }).waitFor();
    expect(await out.textContent()).toBe('a warning\n');
    await browser.shot(page, 'sandbox');
    await page.close();
  });

  it('shows the new leader when the leader dies', async () => {
    // master-1 leads; master-2 is a standby that knows it. The page is opened on master-1.
    const standbySource = cluster('master-2');
    const standby = await serve(standbySource);
    const leaderSource = cluster('master-1');
    const leader = await serve(leaderSource);
    leaderSource.roleNow = { masterId: 'master-1', leading: true, leader: { masterId: 'master-1', epoch: 3, url: leader.url }, peers: [standby.url] };
    leaderSource.state.leader = { masterId: 'master-1', epoch: 3, url: leader.url };
    standbySource.roleNow = { masterId: 'master-2', leading: false, leader: { masterId: 'master-1', epoch: 3, url: leader.url }, peers: [leader.url] };
    const page = await browser.page();
    await page.goto(`${standby.url}/#/tasks`);
    // a standby sends the page to the leader
    await page.waitForURL(`${leader.url}/**`);
    await live(page);
    expect(await page.getByTestId('leader').textContent()).toBe('master-1');
    // the leader dies; master-2 takes over with epoch 4
    await leader.close();
    standbySource.state.epoch = 4;
    standbySource.setLeader({ masterId: 'master-2', epoch: 4, url: standby.url });
    await page.waitForURL(`${standby.url}/**`, { timeout: 15_000 });
    await live(page);
    await page.locator('[data-testid=leader]', { hasText: 'master-2' }).waitFor();
    expect(await page.getByTestId('leader-changed').textContent()).toContain('master-1 → master-2');
    expect(page.url()).toContain('#/tasks');
    await browser.shot(page, 'new-leader');
    await page.close();
  });

  it('renders every page without errors: agents, frameworks, roles, maintenance and their details', async () => {
    const src = cluster();
    src.state.weights = [{ role: '*', weight: 2 }];
    src.state.maintenance = {
      windows: [{ agentIds: ['agent-2'], start: Date.UTC(2030, 0, 1), durationMs: 3_600_000 }],
      agents: [{ agentId: 'agent-2', mode: 'DRAINING', statuses: [{ frameworkId: 'fw-1', status: 'DECLINE', updatedAt: Date.UTC(2029, 11, 31) }] }],
    };
    const server = await serve(src);
    const page = await browser.page();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#/agents`);
    await live(page);
    const pages: Array<[string, string]> = [
      ['#/agents', 'agent-2.example'],
      ['#/agents/agent-1', 'rack'],
      ['#/frameworks', 'nesos-run'],
      ['#/frameworks/fw-1', 'offer-1'],
      ['#/roles', 'derived from the frameworks'],
      ['#/maintenance', 'DRAINING'],
      ['#/nowhere', 'No page'],
    ];
    for (const [hash, text] of pages) {
      await page.evaluate((h) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = h;
      }, hash);
      await page.locator('main', { hasText: text }).waitFor({ timeout: 5000 });
    }
    // the maintenance page shows the frameworks' answers to inverse offers
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/maintenance';
    });
    const answer = page.locator('[data-testid=maintenance-agent][data-key=agent-2] [data-testid=inverse-offer-status][data-framework=fw-1][data-status=DECLINE]');
    await answer.waitFor({ timeout: 5000 });
    expect(await answer.textContent()).toBe('fw-1: declined');
    // clicking a row opens the detail
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/agents';
    });
    await page.locator('[data-testid=agent-row][data-key=agent-1]').click();
    await page.locator('[data-testid=agent-status][data-state=active]').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  // How fast is measured by `npm run bench:state`, not here (tests assert behaviour only).
  it('handles 10,000 tasks: the overview counts them, the list renders only the rows in view, filters and live updates work', async () => {
    const src = cluster();
    for (let i = 0; i < 10_000; i++) {
      src.state.tasks.push({ taskId: `bulk-${i}`, name: 'bulk', frameworkId: 'fw-1', agentId: i % 2 === 0 ? 'agent-1' : 'agent-2', state: i % 3 === 0 ? 'TASK_FINISHED' : 'TASK_RUNNING', resources: 'cpus:0.001;mem:1' });
    }
    const server = await serve(src);
    const page = await browser.page();
    await page.goto(`${server.url}/`);
    await page.locator('[data-testid=task-count-TASK_RUNNING][data-count="6667"]').waitFor();
    await page.goto(`${server.url}/#/tasks`);
    await page.locator('[data-testid=task-total]', { hasText: '10001 of 10001' }).waitFor();
    expect(await page.locator('[data-testid=task-row]').count()).toBeLessThan(80);
    await page.getByTestId('filter-state').selectOption('TASK_FINISHED');
    await page.locator('[data-testid=task-total]', { hasText: '3334 of 10001' }).waitFor();
    expect(await page.locator('[data-testid=task-row]').count()).toBeLessThan(80);
    // a live update among 10,000 rows still shows
    src.launchTask('late-1', 'fw-1', 'agent-1');
    src.updateTask('late-1', 'TASK_FINISHED');
    await page.locator('[data-testid=task-total]', { hasText: '3335 of 10002' }).waitFor();
    await page.close();
  });
});
