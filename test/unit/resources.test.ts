import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Resources, type ResourceEntry, type ResourceWire } from '../../protocol/resources.js';
import { ResourceArithmeticError, ResourceParseError } from '../../protocol/resource-errors.js';

const r = (text: string): Resources => Resources.parse(text);

/** The error thrown by `fn`, asserted to be a ResourceParseError. */
function parseErrorOf(fn: () => unknown): ResourceParseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ResourceParseError);
    return error as ResourceParseError;
  }
  throw new Error('expected a ResourceParseError, nothing was thrown');
}

describe('Resources text syntax', () => {
  it('parses scalars, roles, ranges and sets and prints them in canonical order', () => {
    const res = r('mem:1024; ports:[31000-32000] ;cpus(analytics):2;cpus:4;zones:{b,a}');
    expect(res.toString()).toBe('cpus:4;cpus(analytics):2;mem:1024;ports:[31000-32000];zones:{a,b}');
    expect(res.scalar('cpus')).toBe(6);
    expect(res.scalar('cpus', 'analytics')).toBe(2);
    expect(res.scalar('cpus', '*')).toBe(4);
    expect(res.ranges('ports')).toEqual([[31000, 32000]]);
    expect(res.entries()).toEqual([
      { name: 'cpus', role: '*', kind: 'scalar', value: 4 },
      { name: 'cpus', role: 'analytics', kind: 'scalar', value: 2 },
      { name: 'mem', role: '*', kind: 'scalar', value: 1024 },
      { name: 'ports', role: '*', kind: 'ranges', value: [[31000, 32000]] },
      { name: 'zones', role: '*', kind: 'set', value: ['a', 'b'] },
    ]);
  });

  it.each([
    'cpus:4;mem:1024;ports:[31000-32000]',
    'cpus:0.5;cpus(analytics):2;disk(eng/web):100',
    'gpus:1;ports:[80-80,443-443,8000-9000]',
    'disks(ops):{sda1,sdb1};mem:0.125',
    'cpus:999999999999.999',
  ])('round-trips canonical text %s', (text) => {
    expect(r(text).toString()).toBe(text);
    expect(r(r(text).toString()).equals(r(text))).toBe(true);
  });

  it('normalizes: merges ranges, sorts and dedupes sets, adds duplicates, drops zeros', () => {
    expect(r('ports:[3-5,1-2,10,11-12,4-4]').toString()).toBe('ports:[1-5,10-12]');
    expect(r('ports:[80];ports:[81-90]').ranges('ports')).toEqual([[80, 90]]);
    expect(r('zones:{c,a,c};zones:{b}').toString()).toBe('zones:{a,b,c}');
    expect(r('cpus:1;cpus:2.5;cpus(a):1').toString()).toBe('cpus:3.5;cpus(a):1');
    expect(r('cpus:0;mem:1;ports:[];zones:{}').toString()).toBe('mem:1');
  });

  it('tolerates whitespace and blank entries; empty text is empty', () => {
    expect(r('  cpus ( analytics ) : 2 ;; mem : 64 ; ports : [ 1 - 3 , 5 ] ; z : { x , y } ;').toString()).toBe(
      'cpus(analytics):2;mem:64;ports:[1-3,5-5];z:{x,y}',
    );
    expect(r('').isEmpty()).toBe(true);
    expect(r('  ;  ').isEmpty()).toBe(true);
    expect(r('').toString()).toBe('');
  });

  it.each([
    ['cpus', '"cpus"', 'expected name:value'],
    ['cpus:abc', '"cpus:abc"', 'value must be a number, a [ranges] or a {set}'],
    ['cpus:', '"cpus:"', 'value must be a number'],
    ['cpus:-1', '"cpus:-1"', 'must not be negative'],
    ['cpus:1e400', '"cpus:1e400"', 'must be finite'],
    ['cpus:1000000000000.001', '"cpus:1000000000000.001"', 'scalar is too large'],
    ['c pus:1', '"c pus:1"', 'name "c pus"'],
    [':1', '":1"', 'name ""'],
    ['cpus():1', '"cpus():1"', 'role must not be empty'],
    ['cpus(a b):1', '"cpus(a b):1"', 'role "a b"'],
    ['cpus(a/../b):1', '"cpus(a/../b):1"', 'role "a/../b"'],
    ['cpus(a:1', '"cpus(a:1"', 'name(role)'],
    ['ports:[5-3]', '"ports:[5-3]"', 'begin > end'],
    ['ports:[1.5-3]', '"ports:[1.5-3]"', 'range "1.5-3"'],
    ['ports:[a-b]', '"ports:[a-b]"', 'range "a-b"'],
    ['ports:[1-2', '"ports:[1-2"', 'missing its closing "]"'],
    ['ports:[1-99999999999999999999]', '"ports:[1-99999999999999999999]"', 'range bounds'],
    ['zones:{a,,b}', '"zones:{a,,b}"', 'set item ""'],
    ['zones:{a', '"zones:{a"', 'missing its closing "}"'],
    ['cpus:1;cpus:[1-2]', '"cpus:[1-2]"', 'cpus is scalar, not ranges'],
  ])('rejects %s naming the entry', (text, named, reason) => {
    const error = parseErrorOf(() => r(`mem:1;${text}`));
    expect(error.name).toBe('ResourceParseError');
    expect(error.message).toContain(`invalid resource ${named}: `);
    expect(error.message).toContain(reason);
  });

  it('tryParse returns the error as a value', () => {
    const ok = Resources.tryParse('cpus:1');
    expect(ok.ok && ok.value.toString()).toBe('cpus:1');
    const bad = Resources.tryParse('cpus:abc');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toBe('invalid resource "cpus:abc": value must be a number, a [ranges] or a {set}');
  });
});

describe('Resources fixed point scalars', () => {
  it('adds 0.1 and 0.2 cpus to exactly 0.3', () => {
    expect(0.1 + 0.2).not.toBe(0.3); // the float trap being avoided
    const sum = Resources.fromScalars({ cpus: 0.1 }).add(Resources.fromScalars({ cpus: 0.2 }));
    expect(sum.scalar('cpus')).toBe(0.3);
    expect(sum.toString()).toBe('cpus:0.3');
    expect(sum.equals(r('cpus:0.3'))).toBe(true);
    expect(sum.subtract(r('cpus:0.1')).toString()).toBe('cpus:0.2');
  });

  it('rounds to thousandths and sums many small amounts exactly', () => {
    expect(r('mem:0.0006').toString()).toBe('mem:0.001');
    expect(r('mem:0.0004').isEmpty()).toBe(true);
    let total = Resources.empty();
    for (let i = 0; i < 1000; i++) total = total.add(r('cpus:0.001'));
    expect(total.toString()).toBe('cpus:1');
  });
});

describe('Resources arithmetic', () => {
  it('subtracts per (name, role): scalars clamp at 0, ranges and sets lose members', () => {
    const agent = r('cpus:4;cpus(a):2;mem:100;ports:[1-10];zones:{x,y}');
    const used = r('cpus:5;mem:40;ports:[3-4,10];zones:{y,q};gpus:1');
    expect(agent.subtract(used).toString()).toBe('cpus(a):2;mem:60;ports:[1-2,5-9];zones:{x}');
  });

  it('adds ranges and sets as unions, so a + b - b loses the overlap', () => {
    const a = r('ports:[1-5]');
    const b = r('ports:[3-8]');
    expect(a.add(b).toString()).toBe('ports:[1-8]');
    expect(a.add(b).subtract(b).toString()).toBe('ports:[1-2]');
  });

  it('contains compares same name and role only, and kinds must match', () => {
    const agent = r('cpus:4;cpus(a):1;ports:[1-10];zones:{x,y}');
    expect(agent.contains(r('cpus:4;ports:[2-3,9-10];zones:{y}'))).toBe(true);
    expect(agent.contains(r('cpus:4.001'))).toBe(false);
    expect(agent.contains(r('cpus(a):2'))).toBe(false); // 1 reserved, '*' cpus do not count
    expect(agent.contains(r('cpus(b):1'))).toBe(false);
    expect(agent.contains(r('ports:[10-11]'))).toBe(false);
    expect(agent.contains(r('zones:{z}'))).toBe(false);
    expect(agent.contains(r('ports:3'))).toBe(false); // scalar ports vs ranges ports
    expect(agent.contains(Resources.empty())).toBe(true);
    expect(Resources.empty().contains(agent)).toBe(false);
  });

  it('throws ResourceArithmeticError when kinds clash', () => {
    expect(() => r('cpus:1').add(r('cpus:[1-2]'))).toThrow(ResourceArithmeticError);
    expect(() => r('cpus:1').add(r('cpus:{a}'))).toThrow('cannot add cpus: cpus is scalar, not set');
    expect(() => r('ports(a):[1-2]').subtract(r('ports(a):2'))).toThrow('cannot subtract ports(a): ports(a) is ranges, not scalar');
    expect(() => r('mem:999999999999').add(r('mem:1.5'))).toThrow('cannot add mem: scalar is too large');
    expect(r('cpus:1').add(r('cpus(a):[1-2]')).toString()).toBe('cpus:1;cpus(a):[1-2]'); // different keys
  });

  it('never changes its operands', () => {
    const a = r('cpus:1;ports:[1-2]');
    const b = r('cpus:2;ports:[3-4]');
    a.add(b);
    a.subtract(b);
    expect(a.toString()).toBe('cpus:1;ports:[1-2]');
    expect(b.toString()).toBe('cpus:2;ports:[3-4]');
  });
});

describe('Resources queries', () => {
  const agent = r('cpus:4;cpus(analytics):2;cpus(eng):1;mem(eng/web):512;mem:1024;ports:[31000-31009,32000];ports(eng):[100-101];zones:{a}');

  it('reports scalars by name and role', () => {
    expect(agent.scalar('cpus')).toBe(7);
    expect(agent.scalar('cpus', 'eng')).toBe(1);
    expect(agent.scalar('gpus')).toBe(0);
    expect(agent.scalar('ports')).toBe(0);
    expect(agent.scalarNames()).toEqual(['cpus', 'mem']);
    expect([...agent.scalarTotals()]).toEqual([['cpus', 7], ['mem', 1536]]);
  });

  it('reports ranges and their counts', () => {
    expect(agent.ranges('ports', '*')).toEqual([[31000, 31009], [32000, 32000]]);
    expect(agent.ranges('ports', 'eng')).toEqual([[100, 101]]);
    expect(agent.ranges('ports')).toEqual([[100, 101], [31000, 31009], [32000, 32000]]);
    expect(agent.ranges('nothing')).toEqual([]);
    expect(agent.rangeCount('ports')).toBe(13); // 10 + 1 unreserved, 2 reserved
    expect(agent.rangeCount('cpus')).toBe(0);
  });

  it('filters by role', () => {
    expect(agent.roles()).toEqual(['*', 'analytics', 'eng', 'eng/web']);
    expect(agent.forRole('eng').toString()).toBe('cpus(eng):1;ports(eng):[100-101]');
    expect(agent.unreserved().toString()).toBe('cpus:4;mem:1024;ports:[31000-31009,32000-32000];zones:{a}');
    expect(agent.forRole('nobody').isEmpty()).toBe(true);
  });

  it('allocatableBy gives unreserved plus the role and its ancestors', () => {
    expect(agent.allocatableBy('analytics').toString()).toBe('cpus:4;cpus(analytics):2;mem:1024;ports:[31000-31009,32000-32000];zones:{a}');
    expect(agent.allocatableBy('eng/web').toString()).toBe(
      'cpus:4;cpus(eng):1;mem:1024;mem(eng/web):512;ports:[31000-31009,32000-32000];ports(eng):[100-101];zones:{a}',
    );
    expect(agent.allocatableBy('engineering').equals(agent.unreserved())).toBe(true);
  });

  it('takeRange takes the lowest integers, keeping roles', () => {
    const ports = r('ports:[31000-31002,31010-31020];ports(a):[200-201]');
    expect(ports.takeRange('ports', 1)?.toString()).toBe('ports(a):[200-200]');
    expect(ports.takeRange('ports', 5)?.toString()).toBe('ports:[31000-31002];ports(a):[200-201]');
    expect(ports.takeRange('ports', 7)?.toString()).toBe('ports:[31000-31002,31010-31011];ports(a):[200-201]');
    expect(ports.takeRange('ports', 16)?.rangeCount('ports')).toBe(16);
    expect(ports.takeRange('ports', 17)).toBeUndefined();
    expect(ports.takeRange('other', 1)).toBeUndefined();
    expect(ports.takeRange('ports', 0)?.isEmpty()).toBe(true);
    expect(() => ports.takeRange('ports', -1)).toThrow(ResourceArithmeticError);
    expect(() => ports.takeRange('ports', 1.5)).toThrow(ResourceArithmeticError);
  });
});

describe('Resources wire form', () => {
  it('prints a deterministic list, omitting the unreserved role', () => {
    expect(r('zones:{b,a};ports:[2-3];cpus(a):1.5;cpus:2').toWire()).toEqual([
      { name: 'cpus', scalar: 2 },
      { name: 'cpus', role: 'a', scalar: 1.5 },
      { name: 'ports', ranges: [[2, 3]] },
      { name: 'zones', set: ['a', 'b'] },
    ]);
  });

  it('reads a list, adding entries of the same key', () => {
    const res = Resources.fromWire([
      { name: 'cpus', scalar: 1 },
      { name: 'cpus', role: '*', scalar: 0.5 },
      { name: 'ports', role: 'a', ranges: [[5, 6], [1, 2]] },
    ]);
    expect(res.toString()).toBe('cpus:1.5;ports(a):[1-2,5-6]');
  });

  it.each<[string, unknown, string]>([
    ['no value', { name: 'cpus' }, 'exactly one of scalar, ranges or set must be given, got 0'],
    ['two values', { name: 'cpus', scalar: 1, set: ['a'] }, 'got 2'],
    ['begin > end', { name: 'ports', ranges: [[5, 3]] }, 'range 5-3 has begin > end'],
    ['fractional bound', { name: 'ports', ranges: [[1, 2.5]] }, 'range bounds must be integers'],
    ['malformed range', { name: 'ports', ranges: [[1]] }, 'ranges must be an array of [begin, end]'],
    ['negative scalar', { name: 'cpus', scalar: -1 }, 'scalar must not be negative'],
    ['NaN scalar', { name: 'cpus', scalar: Number.NaN }, 'scalar must be finite'],
    ['bad name', { name: 'c(pus', scalar: 1 }, 'name "c(pus"'],
    ['bad role', { name: 'cpus', role: '', scalar: 1 }, 'role must not be empty'],
    ['non-string set', { name: 'zones', set: ['a', 1] }, 'set must be an array of strings'],
  ])('rejects %s', (_label, wire, reason) => {
    const error = parseErrorOf(() => Resources.fromWire([{ name: 'mem', scalar: 1 }, wire as ResourceWire]));
    expect(error.message).toContain(reason);
  });

  it('names the entry and rejects kind clashes', () => {
    const clash = () => Resources.fromWire([{ name: 'cpus', role: 'a', scalar: 1 }, { name: 'cpus', role: 'a', set: ['x'] }]);
    expect(parseErrorOf(clash).message).toBe('invalid resource "cpus(a)": cpus(a) is scalar, not set');
  });

  it('fromScalars builds one role and validates', () => {
    expect(Resources.fromScalars({ mem: 128, cpus: 1, gpus: 0 }).toString()).toBe('cpus:1;mem:128');
    expect(Resources.fromScalars({ cpus: 2 }, 'analytics').toString()).toBe('cpus(analytics):2');
    expect(parseErrorOf(() => Resources.fromScalars({ cpus: -0.5 })).message).toBe('invalid resource "cpus": scalar must not be negative');
  });
});

describe('Resources reservations and volumes', () => {
  it('parses static and dynamic reservations with labels, and prints them canonically', () => {
    const res = r('cpus(eng):1;cpus(eng,dynamic):2;cpus(eng, dynamic, team=web, env=prod):3;cpus:4');
    // four keys: unreserved, static eng, dynamic eng, dynamic eng labelled {env, team}
    expect(res.toString()).toBe('cpus:4;cpus(eng):1;cpus(eng,dynamic):2;cpus(eng,dynamic,env=prod,team=web):3');
    expect(res.scalar('cpus', 'eng')).toBe(6);
    expect(res.dynamicallyReserved().toString()).toBe('cpus(eng,dynamic):2;cpus(eng,dynamic,env=prod,team=web):3');
    expect(res.reserved().scalar('cpus')).toBe(6);
    expect(res.entries()[3]).toEqual({ name: 'cpus', role: 'eng', kind: 'scalar', value: 3, labels: { env: 'prod', team: 'web' } });
  });

  it('keeps reservations with different labels apart in arithmetic', () => {
    const a = r('cpus(eng,dynamic,team=a):2');
    const b = r('cpus(eng,dynamic,team=b):2');
    // 2 + 2 under two keys, not 4 under one
    expect(a.add(b).toString()).toBe('cpus(eng,dynamic,team=a):2;cpus(eng,dynamic,team=b):2');
    expect(a.add(b).subtract(a).equals(b)).toBe(true);
    expect(a.contains(b)).toBe(false);
    expect(r('cpus(eng):2').contains(a)).toBe(false); // static is not dynamic
  });

  it('parses persistent volumes on reserved disk', () => {
    const res = r('disk(eng,dynamic)[data1:var/data]:512;disk(eng,dynamic):100;disk(ops)[logs]:10');
    expect(res.toString()).toBe('disk(eng,dynamic):100;disk(eng,dynamic)[data1:var/data]:512;disk(ops)[logs]:10');
    expect(res.volumes().toString()).toBe('disk(eng,dynamic)[data1:var/data]:512;disk(ops)[logs]:10');
    expect(res.withoutVolumes().toString()).toBe('disk(eng,dynamic):612;disk(ops):10');
    expect(res.entries()[1]).toMatchObject({ volume: { id: 'data1', path: 'var/data' }, labels: {} });
  });

  it('converts between reserved, unreserved and volume forms', () => {
    const plain = r('cpus:2;disk:100');
    const dyn = plain.reservedFor({ role: 'eng', labels: { team: 'web' } });
    expect(dyn.toString()).toBe('cpus(eng,dynamic,team=web):2;disk(eng,dynamic,team=web):100');
    expect(plain.reservedFor({ role: 'eng' }).toString()).toBe('cpus(eng):2;disk(eng):100');
    expect(dyn.toUnreserved().equals(plain)).toBe(true);
    const vol = dyn.forRole('eng').scalars().subtract(r('cpus(eng,dynamic,team=web):2')).asVolume({ id: 'v1' });
    expect(vol.toString()).toBe('disk(eng,dynamic,team=web)[v1]:100');
    expect(vol.withoutVolumes().toString()).toBe('disk(eng,dynamic,team=web):100');
    expect(() => plain.asVolume({ id: 'v1' })).toThrow(ResourceArithmeticError);
    expect(() => plain.reservedFor({ role: '*' })).toThrow(ResourceArithmeticError);
  });

  it('carries reservations and volumes on the wire', () => {
    const res = r('cpus(eng,dynamic,team=web):2;disk(eng,dynamic)[v1:data]:10;mem(ops):5');
    expect(res.toWire()).toEqual([
      { name: 'cpus', role: 'eng', dynamic: true, labels: { team: 'web' }, scalar: 2 },
      { name: 'disk', role: 'eng', dynamic: true, volume: { id: 'v1', path: 'data' }, scalar: 10 },
      { name: 'mem', role: 'ops', scalar: 5 },
    ]);
    expect(Resources.fromWire(res.toWire()).equals(res)).toBe(true);
  });

  it.each([
    ['cpus(*,dynamic):1', 'cannot carry a dynamic reservation'],
    ['cpus(eng,static):1', 'expected "dynamic" after the role'],
    ['cpus(eng,dynamic,team):1', 'label "team" must be key=value'],
    ['cpus(eng,dynamic,a=1,a=2):1', 'label "a" is given twice'],
    ['cpus(eng,dynamic,a=x y):1', 'label value "x y"'],
    ['disk[v1]:1', 'a persistent volume needs reserved disk'],
    ['cpus(eng)[v1]:1', 'a persistent volume must be a disk scalar'],
    ['disk(eng)[bad id]:1', 'volume id "bad id"'],
  ])('rejects %s', (text, reason) => {
    expect(parseErrorOf(() => r(text)).message).toContain(reason);
  });

  it.each<[string, unknown, string]>([
    ['labels without dynamic', { name: 'cpus', role: 'eng', labels: { a: 'b' }, scalar: 1 }, 'need dynamic: true'],
    ['dynamic unreserved', { name: 'cpus', dynamic: true, scalar: 1 }, 'cannot carry a dynamic reservation'],
    ['volume on cpus', { name: 'cpus', role: 'eng', volume: { id: 'v' }, scalar: 1 }, 'must be a disk scalar'],
    ['bad volume', { name: 'disk', role: 'eng', volume: { id: 7 }, scalar: 1 }, 'volume id "7"'],
    ['non-boolean dynamic', { name: 'cpus', role: 'eng', dynamic: 'yes', scalar: 1 }, 'dynamic must be a boolean'],
  ])('rejects on the wire: %s', (_label, wire, reason) => {
    expect(parseErrorOf(() => Resources.fromWire([wire as ResourceWire])).message).toContain(reason);
  });
});

describe('resource errors', () => {
  it('carry their name and cause', () => {
    const cause = new Error('root');
    const parse = new ResourceParseError('bad', { cause });
    const arithmetic = new ResourceArithmeticError('clash');
    expect(parse.name).toBe('ResourceParseError');
    expect(parse.cause).toBe(cause);
    expect(parse).toBeInstanceOf(Error);
    expect(arithmetic.name).toBe('ResourceArithmeticError');
    expect(arithmetic.cause).toBeUndefined();
  });
});

// ---- properties --------------------------------------------------------------------------------

// Names are tied to one kind so that generated values never clash; roles include a nested one.
const ROLES = ['*', 'analytics', 'eng', 'eng/web'] as const;
const role = fc.constantFrom(...ROLES);
const plainScalarWire = fc.record({
  name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus'),
  role,
  scalar: fc.integer({ min: 0, max: 10_000_000 }).map((milli) => milli / 1000),
});
// Dynamic reservations (labelled or not) and persistent volumes on reserved disk.
const reservedScalarWire = fc
  .record({
    name: fc.constantFrom('cpus', 'disk'),
    role: fc.constantFrom('analytics', 'eng/web'),
    scalar: fc.integer({ min: 0, max: 10_000_000 }).map((milli) => milli / 1000),
    labels: fc.constantFrom<Record<string, string> | undefined>(undefined, {}, { team: 'a' }, { team: 'b', env: 'x' }),
    volume: fc.constantFrom(undefined, { id: 'v1' }, { id: 'v2', path: 'data' }),
  })
  .map(({ name, role, scalar, labels, volume }): ResourceWire => ({
    name,
    role,
    scalar,
    ...(labels !== undefined && { dynamic: true, labels }),
    ...(volume !== undefined && name === 'disk' && { volume }),
  }));
const scalarWire = fc.oneof(plainScalarWire, reservedScalarWire);
const rangesWire = fc.record({
  name: fc.constantFrom('ports', 'ephemeral_ports'),
  role,
  ranges: fc.array(
    fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 50 })).map(([begin, length]): [number, number] => [begin, begin + length]),
    { maxLength: 4 },
  ),
});
const setWire = fc.record({ name: fc.constantFrom('zones', 'disks'), role, set: fc.subarray(['a', 'b', 'c', 'd', 'e']) });
const resources = fc.array(fc.oneof(scalarWire, rangesWire, setWire), { maxLength: 8 }).map((list) => Resources.fromWire(list));

const RUNS = { numRuns: 300 };

/** Asserts equality with a readable diff on failure. */
function expectSame(actual: Resources, expected: Resources): void {
  expect(actual.toString()).toBe(expected.toString());
  expect(actual.equals(expected)).toBe(true);
}

/** The scalar of `res` under the same key as `like` (name, role, labels, volume), 0 if absent. */
function scalarOfKey(res: Resources, like: ResourceEntry): number {
  const id = (e: ResourceEntry): string => JSON.stringify([e.name, e.role, e.labels, e.volume]);
  const found = res.entries().find((e) => id(e) === id(like));
  return found?.kind === 'scalar' ? found.value : 0;
}

/** The non-scalar part of `r`: what add unites rather than sums. */
function nonScalars(res: Resources): Resources {
  return Resources.fromWire(res.toWire().filter((w) => w.scalar === undefined));
}

describe('Resources properties', () => {
  it('parse(toString(r)) equals r', () => {
    fc.assert(fc.property(resources, (a) => expectSame(Resources.parse(a.toString()), a)), RUNS);
  });

  it('every scalar up to the limit prints and parses back to the same thousandths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e15 }), (milli) => {
        const res = Resources.fromScalars({ mem: milli / 1000 });
        expect(Math.round(res.scalar('mem') * 1000)).toBe(milli);
        expectSame(Resources.parse(res.toString()), res);
        expect(res.toString()).toMatch(/^mem:\d+(\.\d{1,3})?$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('fromWire(toWire(r)) equals r', () => {
    fc.assert(fc.property(resources, (a) => expectSame(Resources.fromWire(a.toWire()), a)), RUNS);
  });

  it('add is commutative and associative, with empty as identity', () => {
    fc.assert(
      fc.property(resources, resources, resources, (a, b, c) => {
        expectSame(a.add(b), b.add(a));
        expectSame(a.add(b).add(c), a.add(b.add(c)));
        expectSame(a.add(Resources.empty()), a);
        expectSame(Resources.empty().add(a), a);
        expectSame(a.subtract(Resources.empty()), a);
        expect(Resources.empty().subtract(a).isEmpty()).toBe(true);
      }),
      RUNS,
    );
  });

  it('Resources.sum of a list equals adding them one by one (and of none is empty)', () => {
    fc.assert(
      fc.property(fc.array(resources, { maxLength: 6 }), (list) => {
        const chained = list.reduce((acc, r) => acc.add(r), Resources.empty());
        expectSame(Resources.sum(list), chained);
        // toString is cached: asking twice gives the same text.
        expect(Resources.sum(list).toString()).toBe(chained.toString());
      }),
      RUNS,
    );
    expect(Resources.sum([]).isEmpty()).toBe(true);
  });

  it('a.add(b).subtract(b) equals a when their ranges and sets are disjoint', () => {
    fc.assert(
      fc.property(resources, resources, (a, c) => {
        const b = c.subtract(nonScalars(a)); // keep b's scalars, drop ranges/sets a already has
        expectSame(a.add(b).subtract(b), a);
      }),
      RUNS,
    );
  });

  it('a sum contains its terms, a difference is contained in its minuend, contains is reflexive', () => {
    fc.assert(
      fc.property(resources, resources, (a, b) => {
        expect(a.add(b).contains(a)).toBe(true);
        expect(a.add(b).contains(b)).toBe(true);
        expect(a.contains(a.subtract(b))).toBe(true);
        expect(a.contains(a)).toBe(true);
        expect(a.contains(Resources.empty())).toBe(true);
        // contains both ways is equality
        expect(a.contains(b) && b.contains(a)).toBe(a.equals(b));
      }),
      RUNS,
    );
  });

  it('subtract never yields negative or zero scalar entries', () => {
    fc.assert(
      fc.property(resources, resources, (a, b) => {
        const diff = a.subtract(b);
        for (const entry of diff.entries()) {
          if (entry.kind === 'scalar') expect(entry.value).toBeGreaterThan(0);
          else expect(entry.value.length).toBeGreaterThan(0);
        }
        // per key (name, role, reservation, volume): max(0, a - b)
        for (const entry of a.entries()) {
          if (entry.kind !== 'scalar') continue;
          const expected = Math.max(0, Math.round((entry.value - scalarOfKey(b, entry)) * 1000)) / 1000;
          expect(scalarOfKey(diff, entry)).toBe(expected);
        }
      }),
      RUNS,
    );
  });

  it('takeRange returns exactly count integers, and the remainder plus the taken is the original', () => {
    fc.assert(
      fc.property(resources, fc.nat({ max: 300 }), (a, wanted) => {
        const available = a.rangeCount('ports');
        const taken = a.takeRange('ports', wanted);
        if (wanted > available) {
          expect(taken).toBeUndefined();
          return;
        }
        expect(taken).toBeDefined();
        if (taken === undefined) return;
        expect(taken.rangeCount('ports')).toBe(wanted);
        expect(a.contains(taken)).toBe(true);
        const rest = a.subtract(taken);
        expect(rest.rangeCount('ports')).toBe(available - wanted);
        expectSame(rest.add(taken), a);
        // the lowest integers of each role: all taken lie below all that is left
        for (const ro of ROLES) {
          const takenEnds = taken.ranges('ports', ro).map(([, end]) => end);
          const restBegins = rest.ranges('ports', ro).map(([begin]) => begin);
          expect(Math.max(-1, ...takenEnds)).toBeLessThan(Math.min(Infinity, ...restBegins));
        }
      }),
      RUNS,
    );
  });
});
