import fc from 'fast-check';
import { mkdir, mkdtemp, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatAttributes, parseAttributes } from '../../actors/agent/attributes.js';
import { AgentConfigError, AttributesParseError, SandboxError } from '../../actors/agent/errors.js';
import { serveFilesCall } from '../../actors/agent/files.js';
import { DETECTED_KINDS, detectedResources, mergeResources } from '../../actors/agent/resources-detect.js';
import { LATEST, checkRelativePath, createRunSandbox, executorDir, latestLink, resolveInSandbox, runDir } from '../../actors/agent/sandbox.js';
import { Rejection } from '../../actors/runtime/actor.js';
import { Resources } from '../../protocol/resources.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('agent attributes', () => {
  it('parses Mesos --attributes text, trimming blanks and splitting each entry at its first colon', () => {
    expect(parseAttributes('rack:r1;zone:a')).toEqual({ rack: 'r1', zone: 'a' });
    expect(parseAttributes('  rack : r1 ; ; url:http://x:80/y;')).toEqual({ rack: 'r1', url: 'http://x:80/y' });
    expect(parseAttributes('')).toEqual({});
    expect(parseAttributes('os/version:12.1;gpu_kind.v-2:a100')).toEqual({ 'os/version': '12.1', 'gpu_kind.v-2': 'a100' });
  });

  it('names the bad entry and the flag for malformed text', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['rack', 'rack', /expected name:value/],
      [':r1', ':r1', /name is empty/],
      ['rack:', 'rack:', /value is empty/],
      ['ra ck:r1', 'ra ck:r1', /may hold only/],
      ['a:1;a:2', 'a:2', /given twice/],
      [`${'n'.repeat(129)}:v`, `${'n'.repeat(129)}:v`, /longer than 128/],
      [`n:${'v'.repeat(1025)}`, `n:${'v'.repeat(1025)}`, /longer than 1024/],
    ];
    for (const [text, entry, problem] of cases) {
      let error: unknown;
      try {
        parseAttributes(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(AttributesParseError);
      expect(error).toBeInstanceOf(AgentConfigError);
      expect((error as AttributesParseError).entry).toBe(entry);
      expect((error as AttributesParseError).flag).toBe('--attributes');
      expect((error as Error).message).toMatch(problem);
    }
  });

  it('keeps a name like __proto__ as a plain attribute', () => {
    const parsed = parseAttributes('__proto__:x;constructor:y');
    expect(Object.keys(parsed).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed['__proto__']).toBe('x');
  });

  it('formats with names sorted, and parse(format(a)) = a (property)', () => {
    expect(formatAttributes({ zone: 'a', rack: 'r1' })).toBe('rack:r1;zone:a');
    const name = fc.stringMatching(/^[A-Za-z0-9_.\-/]{1,20}$/);
    const value = fc.stringMatching(/^[^;\s](?:[^;]{0,18}[^;\s])?$/);
    fc.assert(
      fc.property(fc.dictionary(name, value, { maxKeys: 8 }), (attributes) => {
        expect(parseAttributes(formatAttributes(attributes))).toEqual(attributes);
      }),
    );
  });
});

describe('agent resources: detection and --resources', () => {
  it('detects as Mesos does: all CPUs, memory minus min(1 GiB, half), disk minus min(5 GiB, half), ports 31000-32000', () => {
    // mem: 8192 - 1024 = 7168 MB; disk: 102400 - 5120 = 97280 MB
    const big = detectedResources({ cpus: 4, totalMemoryBytes: 8 * GiB, freeDiskBytes: 100 * GiB });
    expect(big.toString()).toBe('cpus:4;disk:97280;mem:7168;ports:[31000-32000]');
    // mem: 1536 - 768 = 768 MB; disk: 4096 - 2048 = 2048 MB (half is less than the fixed reserve)
    const small = detectedResources({ cpus: 1, totalMemoryBytes: 1536 * MiB, freeDiskBytes: 4 * GiB });
    expect(small.toString()).toBe('cpus:1;disk:2048;mem:768;ports:[31000-32000]');
    // partial megabytes are dropped: 2047.99 MB of memory counts as 2047, minus 1023
    expect(detectedResources({ cpus: 2, totalMemoryBytes: 2048 * MiB - 10, freeDiskBytes: 0 }).scalar('mem')).toBe(1024);
  });

  it('takes what --resources names and detects the rest of the standard kinds', () => {
    const detected = detectedResources({ cpus: 4, totalMemoryBytes: 8 * GiB, freeDiskBytes: 100 * GiB });
    expect(DETECTED_KINDS).toEqual(['cpus', 'mem', 'disk', 'ports']);
    expect(mergeResources(undefined, detected)).toBe(detected);
    expect(mergeResources('  ', detected)).toBe(detected);
    expect(mergeResources('cpus:2;gpus:1', detected).toString()).toBe('cpus:2;disk:97280;gpus:1;mem:7168;ports:[31000-32000]');
    // a kind given only as a reservation is not topped up with detected unreserved amounts
    expect(mergeResources('cpus(r1):2', detected).toString()).toBe('cpus(r1):2;disk:97280;mem:7168;ports:[31000-32000]');
    expect(mergeResources('ports:[5000-5001]', detected).toString()).toBe('cpus:4;disk:97280;mem:7168;ports:[5000-5001]');
  });

  it('refuses invalid --resources with an AgentConfigError naming the flag', () => {
    const detected = Resources.parse('cpus:1');
    expect(() => mergeResources('cpus:x', detected)).toThrow(
      expect.objectContaining({ name: 'AgentConfigError', flag: '--resources', message: expect.stringContaining('invalid --resources "cpus:x"') }),
    );
  });
});

describe('sandbox paths', () => {
  const owner = { agentId: 'a1', frameworkId: 'f1', executorId: 'e1' };

  it('lays out runs as Mesos does', () => {
    expect(executorDir('/w', owner)).toBe('/w/agents/a1/frameworks/f1/executors/e1');
    expect(runDir('/w', owner, 'r-1')).toBe('/w/agents/a1/frameworks/f1/executors/e1/runs/r-1');
    expect(latestLink('/w', owner)).toBe(`/w/agents/a1/frameworks/f1/executors/e1/runs/${LATEST}`);
  });

  it('refuses ids that are not subject tokens, so no id can lead out of the work dir', () => {
    for (const bad of ['..', '.', '../x', 'a/b', '', 'a b', 'x\0']) {
      expect(() => executorDir('/w', { ...owner, executorId: bad }), bad).toThrow(SandboxError);
      expect(() => executorDir('/w', { ...owner, frameworkId: bad }), bad).toThrow(SandboxError);
      expect(() => executorDir('/w', { ...owner, agentId: bad }), bad).toThrow(SandboxError);
      expect(() => runDir('/w', owner, bad), bad).toThrow(SandboxError);
    }
    expect(() => runDir('/w', owner, LATEST)).toThrow(/invalid run id/);
  });

  it('accepts relative paths and refuses empty, NUL, absolute and ".." paths', () => {
    for (const good of ['stdout', 'dir/file', 'a..b', '..hidden', 'x/./y', '.']) expect(checkRelativePath(good), good).toEqual({ ok: true });
    for (const bad of ['', 'std\0out', '/etc/passwd', '..', '../x', 'a/../../x', 'a/..', 'a\\..\\b', '../../../../etc/shadow']) {
      expect(checkRelativePath(bad), bad).toMatchObject({ ok: false, code: 'INVALID' });
    }
  });
});

describe('sandbox files (on a scratch directory)', () => {
  let work: string;
  const owner = { agentId: 'a1', frameworkId: 'f1', executorId: 'e1' };

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'nesos-agent-helpers-'));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('creates a run directory and points runs/latest at it with a relative link, replacing the previous one', async () => {
    const first = await createRunSandbox(work, owner, 'r1');
    expect(first).toBe(runDir(work, owner, 'r1'));
    expect((await stat(first)).isDirectory()).toBe(true);
    expect(await readlink(latestLink(work, owner))).toBe('r1');
    const second = await createRunSandbox(work, owner, 'r2');
    expect(await readlink(latestLink(work, owner))).toBe('r2');
    expect((await stat(first)).isDirectory()).toBe(true); // the old run stays
    expect(second).toBe(runDir(work, owner, 'r2'));
  });

  it('resolves files inside the sandbox, through the runs/latest link', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'f'), 'x');
    await symlink('sub/f', join(dir, 'inner-link'));
    const root = latestLink(work, owner);
    expect(await resolveInSandbox(root, 'sub/f')).toEqual({ ok: true, path: join(dir, 'sub', 'f') });
    expect(await resolveInSandbox(root, 'inner-link')).toEqual({ ok: true, path: join(dir, 'sub', 'f') });
    expect(await resolveInSandbox(root, 'nope')).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await resolveInSandbox(join(work, 'no-sandbox'), 'stdout')).toMatchObject({ ok: false, code: 'NOT_FOUND', reason: 'no such sandbox' });
  });

  it('refuses every way out of the sandbox: "..", absolute paths, symlinks to outside or to a sibling with the same prefix', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    const sibling = `${dir}-evil`; // ".../runs/r1-evil": starts with the sandbox's path text
    await mkdir(sibling);
    await writeFile(join(sibling, 'secret'), 'no');
    await writeFile(join(work, 'secret'), 'no');
    await symlink(join(work, 'secret'), join(dir, 'out'));
    await symlink('../r1-evil/secret', join(dir, 'prefix'));
    await symlink('/', join(dir, 'root'));
    const root = latestLink(work, owner);
    for (const path of ['../r1-evil/secret', '../../../../../secret', `${work}/secret`, 'out', 'prefix', 'root/etc/passwd']) {
      expect(await resolveInSandbox(root, path), path).toMatchObject({ ok: false, code: 'INVALID' });
    }
  });

  it('serves chunks of a sandbox file, and the size to read on from', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    await writeFile(join(dir, 'stdout'), 'hello world');
    const read = (path: string, offset: number, length: number) =>
      serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId: 'e1', path, offset, length });
    const whole = await read('stdout', 0, 1024);
    expect(Buffer.from(whole.data).toString()).toBe('hello world');
    expect(whole).toMatchObject({ type: 'FILE_DATA', offset: 0, size: 11 });
    const middle = await read('stdout', 6, 3);
    expect(Buffer.from(middle.data).toString()).toBe('wor');
    const past = await read('stdout', 11, 10);
    expect(past).toMatchObject({ offset: 11, size: 11 });
    expect(past.data.byteLength).toBe(0);
  });

  it('answers escapes INVALID, directories INVALID and missing files NOT_FOUND', async () => {
    const dir = await createRunSandbox(work, owner, 'r1');
    await writeFile(join(work, 'secret'), 'top secret');
    await symlink(join(work, 'secret'), join(dir, 'leak'));
    await mkdir(join(dir, 'sub'));
    const read = (path: string, executorId = 'e1') => serveFilesCall(work, 'a1', { type: 'READ', frameworkId: 'f1', executorId, path, offset: 0, length: 100 });
    for (const path of ['../../../../../secret', '/etc/passwd', 'leak', 'sub']) {
      await expect(read(path), path).rejects.toMatchObject({ name: 'Rejection', code: 'INVALID' });
    }
    await expect(read('missing')).rejects.toBeInstanceOf(Rejection);
    await expect(read('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(read('stdout', 'other-executor')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
