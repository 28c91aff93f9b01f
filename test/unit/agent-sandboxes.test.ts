// Sandboxes on a temp work dir: the files API's LIST, READ of a given run and READ that
// follows a growing file; the garbage collector's policy (Mesos's formula) and a sweep that
// removes due runs, keeps those in use, and prunes what is left empty; duration flags.
import { appendFile, mkdir, mkdtemp, readlink, rm, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveFilesCall } from '../../actors/agent/files.js';
import { DEFAULT_GC_DELAY_MS, maxSandboxAgeMs, runsToRemove } from '../../actors/agent/gc.js';
import { sweepSandboxes } from '../../actors/agent/gc-sweeper.js';
import { createRunSandbox, executorDir, latestLink } from '../../actors/agent/sandbox.js';
import { durationFlag } from '../../bin/options.js';

let work: string;
const owner = { agentId: 'a1', frameworkId: 'f1', executorId: 'e1' };

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'nesos-sandboxes-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('files API: LIST and follow', () => {
  it('lists a sandbox directory, sorted, with kinds and sizes; a file is not a directory', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    await writeFile(join(dir, 'stdout'), 'hello');
    await mkdir(join(dir, 'tasks'));
    const listing = await serveFilesCall(work, 'a1', { type: 'LIST', frameworkId: 'f1', executorId: 'e1', path: '.' });
    expect(listing.type).toBe('FILE_LIST');
    expect(listing.entries.map((e) => [e.name, e.type, e.type === 'file' ? e.size : -1])).toEqual([
      ['stdout', 'file', 5],
      ['tasks', 'dir', -1],
    ]);
    await expect(serveFilesCall(work, 'a1', { type: 'LIST', frameworkId: 'f1', executorId: 'e1', path: 'stdout' })).rejects.toMatchObject({ code: 'INVALID' });
    await expect(serveFilesCall(work, 'a1', { type: 'LIST', frameworkId: 'f1', executorId: 'e1', path: '..' })).rejects.toMatchObject({ code: 'INVALID' });
  });

  it('reads a given run, not only the latest', async () => {
    const first = await createRunSandbox(work, owner, 'r1');
    await writeFile(join(first, 'stdout'), 'first run');
    await createRunSandbox(work, owner, 'r2');
    expect(await readlink(latestLink(work, owner))).toBe('r2');
    const old = await serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', runId: 'r1', path: 'stdout', offset: 0, length: 100 });
    expect(Buffer.from(old.data).toString()).toBe('first run');
    await expect(serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', path: 'stdout', offset: 0, length: 100 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('follows: a READ past the end waits until the file grows, or answers empty after waitMs', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    await writeFile(join(dir, 'stdout'), 'one\n');
    const started = Date.now();
    const pending = serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', path: 'stdout', offset: 4, length: 100, waitMs: 5000 });
    setTimeout(() => void appendFile(join(dir, 'stdout'), 'two\n'), 150);
    const grown = await pending;
    expect(Buffer.from(grown.data).toString()).toBe('two\n');
    expect(Date.now() - started).toBeLessThan(2000);
    const idle = await serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', path: 'stdout', offset: 8, length: 100, waitMs: 200 });
    expect(idle).toMatchObject({ offset: 8, size: 8 });
    expect(idle.data.byteLength).toBe(0);
    const aborted = new AbortController();
    aborted.abort();
    const quick = Date.now();
    await serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', path: 'stdout', offset: 8, length: 100, waitMs: 20_000 }, aborted.signal);
    expect(Date.now() - quick).toBeLessThan(1000);
  });
});

describe('sandbox garbage collection: the policy', () => {
  it('keeps sandboxes gc_delay × max(0, 1 − headroom − usage), as Mesos', () => {
    const day = 24 * 3600 * 1000;
    // one week, headroom 0.1: an empty disk keeps them 6.3 days, a half-full one 2.8 days
    expect(maxSandboxAgeMs(DEFAULT_GC_DELAY_MS, 0.1, 0) / day).toBeCloseTo(6.3, 6);
    expect(maxSandboxAgeMs(DEFAULT_GC_DELAY_MS, 0.1, 0.5) / day).toBeCloseTo(2.8, 6);
    // 90 % full or more: every finished sandbox goes at once
    expect(maxSandboxAgeMs(DEFAULT_GC_DELAY_MS, 0.1, 0.9)).toBe(0);
    expect(maxSandboxAgeMs(DEFAULT_GC_DELAY_MS, 0.1, 0.97)).toBe(0);
  });

  it('removes runs older than the age allowed, never those in use', () => {
    const runs = [
      { path: '/r/old', endedAt: 0 },
      { path: '/r/new', endedAt: 9000 },
      { path: '/r/busy', endedAt: 0 },
    ];
    expect(runsToRemove(runs, new Set(['/r/busy']), 10_000, 5000)).toEqual(['/r/old']);
    expect(runsToRemove(runs, new Set(), 10_000, 0)).toEqual(['/r/old', '/r/new', '/r/busy']);
  });
});

describe('sandbox garbage collection: a sweep', () => {
  it('removes due runs, drops a dangling latest link and empty directories, keeps runs in use and recent ones', async () => {
    const old = await createRunSandbox(work, owner, 'r1');
    const busy = await createRunSandbox(work, { ...owner, executorId: 'e2' }, 'r1');
    const recent = await createRunSandbox(work, { ...owner, executorId: 'e3' }, 'r1');
    const longAgo = new Date(Date.now() - 3600_000);
    await utimes(old, longAgo, longAgo);
    await utimes(busy, longAgo, longAgo);
    const result = await sweepSandboxes({ workDir: work, gcDelayMs: 60_000, gcDiskHeadroom: 0, inUse: new Set([busy]), now: Date.now() });
    expect(result.removed).toEqual([old]);
    expect(existsSync(executorDir(work, owner))).toBe(false); // run, dangling latest link, then the executor's dir
    expect(existsSync(busy)).toBe(true);
    expect(existsSync(recent)).toBe(true);
    expect(result.diskUsage).toBeGreaterThan(0);
    expect(result.diskUsage).toBeLessThan(1);
  });

  it('finds nothing to do in an empty work dir', async () => {
    expect((await sweepSandboxes({ workDir: work, gcDelayMs: 0, gcDiskHeadroom: 0, inUse: new Set(), now: Date.now() })).removed).toEqual([]);
  });
});

describe('duration flags', () => {
  it('reads Mesos durations into milliseconds and names the flag on a bad one', () => {
    const parse = durationFlag('--gc-delay');
    expect(parse('1weeks')).toBe(DEFAULT_GC_DELAY_MS);
    expect(parse('2days')).toBe(2 * 86_400_000);
    expect(parse('1.5secs')).toBe(1500);
    expect(parse('250ms')).toBe(250);
    expect(() => parse('soon')).toThrow(/--gc-delay "soon" is not a duration/);
    expect(() => parse('5')).toThrow(/--gc-delay/);
  });
});
