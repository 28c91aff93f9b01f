import { describe, expect, it } from 'vitest';
import { InsufficientResourcesError, InvalidOperationError, UnknownFrameworkError } from '../../actors/allocator/errors.js';
import { AllocatorHarness, r } from '../harness/allocator-harness.js';

describe('reservations: static (the agent`s --resources)', () => {
  it('offers reserved resources only to their role and its descendants', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;cpus(analytics):2;mem:1024;mem(analytics):512').framework('any', '*');
    // only '*' wants it: it gets the unreserved part, the reservation stays free
    expect(h.runShown()).toEqual(['any@s1(*) cpus:4;mem:1024']);
    expect(h.free('s1')).toBe('cpus(analytics):2;mem(analytics):512');
    h.framework('batch', 'analytics/batch');
    // analytics/batch is a descendant of analytics: it may use analytics' reservation
    expect(h.runShown()).toEqual(['batch@s1(analytics/batch) cpus(analytics):2;mem(analytics):512']);
  });

  it('does not offer a child role`s reservation to its parent', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus(eng/web):2;mem(eng/web):256').framework('parent', 'eng');
    expect(h.run()).toEqual([]);
    expect(h.explain('parent').reasons).toEqual(['NO_AGENT_WITH_ENOUGH']);
    h.framework('web', 'eng/web');
    expect(h.runShown()).toEqual(['web@s1(eng/web) cpus(eng/web):2;mem(eng/web):256']);
  });

  it('gives a role its reservations plus its fair part of the rest', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:256;cpus(a):1').framework('fa', 'a').framework('fb', 'b');
    // roles a = b = 0 → a (name): it gets everything it may use, reservation included
    expect(h.runShown()).toEqual(['fa@s1(a) cpus:2;cpus(a):1;mem:256']);
    expect(h.role('a').reserved).toEqual({ cpus: 1 });
  });
});

describe('reservations: dynamic (RESERVE / UNRESERVE)', () => {
  it('lets an operator reserve free resources with labels, and unreserve them', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:1024');
    h.operate('s1', { type: 'RESERVE', resources: r('cpus(eng,dynamic,team=web):1;mem(eng,dynamic,team=web):256') });
    expect(h.core.totalOf('s1').toString()).toBe('cpus:3;cpus(eng,dynamic,team=web):1;mem:768;mem(eng,dynamic,team=web):256');
    expect(h.role('eng').reserved).toEqual({ cpus: 1, mem: 256 });
    h.framework('other', 'ops');
    // ops gets only the unreserved part
    expect(h.runShown()).toEqual(['other@s1(ops) cpus:3;mem:768']);
    // unreserving needs the same labels
    expect(() => h.operate('s1', { type: 'UNRESERVE', resources: r('cpus(eng,dynamic):1') })).toThrow(InsufficientResourcesError);
    h.operate('s1', { type: 'UNRESERVE', resources: r('cpus(eng,dynamic,team=web):1;mem(eng,dynamic,team=web):256') });
    expect(h.free('s1')).toBe('cpus:1;mem:256');
    expect(h.core.roles().map((v) => v.role)).toEqual(['ops']);
  });

  it('lets a framework reserve what it was offered: it keeps holding it, and gets it back after a decline', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;mem:1024').framework('f', 'eng').framework('g', 'ops');
    const [offer] = h.run();
    expect(offer?.frameworkId).toBe('f');
    h.operate('s1', { type: 'RESERVE', resources: r('cpus(eng,dynamic):2') }, 'f');
    expect(h.core.holdingsOn('s1', 'f').get('eng')?.toString()).toBe('cpus:2;cpus(eng,dynamic):2;mem:1024');
    // f returns all of it (it launched nothing): the reservation is free, for eng only
    h.core.recoverResources('f', 's1', r('cpus:2;cpus(eng,dynamic):2;mem:1024'), undefined, h.now);
    h.core.deactivateFramework('f');
    // g (ops) may have the unreserved part only
    expect(h.runShown()).toEqual(['g@s1(ops) cpus:2;mem:1024']);
    h.core.activateFramework('f');
    expect(h.runShown()).toEqual(['f@s1(eng) cpus(eng,dynamic):2']);
  });

  it('refuses bad reservations, and changes nothing then', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:4;cpus(a):1;mem:1024').framework('f', 'eng');
    // static reservations cannot be undone
    expect(() => h.operate('s1', { type: 'UNRESERVE', resources: r('cpus(a):1') })).toThrow(InvalidOperationError);
    // a RESERVE names dynamic reservations
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(a):1') })).toThrow(InvalidOperationError);
    // more than is free
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(a,dynamic):5') })).toThrow(InsufficientResourcesError);
    // a framework can only reserve what it holds, for a role it may hold it in
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(eng,dynamic):1') }, 'f')).toThrow(InsufficientResourcesError);
    h.run();
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(ops,dynamic):1') }, 'f')).toThrow(InsufficientResourcesError);
    expect(() => h.operate('s1', { type: 'RESERVE', resources: r('cpus(eng,dynamic):1') }, 'ghost')).toThrow(UnknownFrameworkError);
    expect(h.core.totalOf('s1').toString()).toBe('cpus:4;cpus(a):1;mem:1024');
  });
});

describe('persistent volumes (CREATE / DESTROY)', () => {
  it('survive the task: created on reserved disk, recovered, offered back to the role with the volume', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:2;mem:512;disk(db):1000').framework('f', 'db').framework('x', 'other');
    const [offer] = h.run();
    expect(offer?.resources.toString()).toBe('cpus:2;disk(db):1000;mem:512');
    h.operate('s1', { type: 'CREATE', volumes: r('disk(db)[data:var/lib/db]:600') }, 'f');
    // the task uses cpus:1;mem:256 and the volume; the rest goes back
    h.core.recoverResources('f', 's1', r('cpus:1;mem:256;disk(db):400'), undefined, h.now);
    expect(h.core.holdingsOn('s1', 'f').get('db')?.toString()).toBe('cpus:1;disk(db)[data:var/lib/db]:600;mem:256');
    // the task ends: everything comes back; the volume still exists on the agent
    h.core.recoverResources('f', 's1', r('cpus:1;mem:256;disk(db)[data:var/lib/db]:600'), undefined, h.now);
    expect(h.core.totalOf('s1').volumes().toString()).toBe('disk(db)[data:var/lib/db]:600');
    h.core.deactivateFramework('f');
    // other roles never see it
    expect(h.runShown()).toEqual(['x@s1(other) cpus:2;mem:512']);
    h.declineAll(h.runs[1] ?? []);
    h.core.deactivateFramework('x');
    h.core.activateFramework('f');
    expect(h.runShown()).toEqual(['f@s1(db) cpus:2;disk(db):400;disk(db)[data:var/lib/db]:600;mem:512']);
  });

  it('destroys a volume back into reserved disk, and refuses duplicate or misplaced volumes', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:1;mem:64;disk(db):100;disk:50');
    h.operate('s1', { type: 'CREATE', volumes: r('disk(db)[v1]:60') });
    expect(() => h.operate('s1', { type: 'CREATE', volumes: r('disk(db)[v1]:10') })).toThrow(InvalidOperationError);
    expect(() => h.operate('s1', { type: 'CREATE', volumes: r('disk(db)[v2]:41') })).toThrow(InsufficientResourcesError);
    expect(() => h.operate('s1', { type: 'CREATE', volumes: r('disk(db):10') })).toThrow(InvalidOperationError);
    // reserved disk that holds a volume cannot be unreserved (it is not dynamic here anyway)
    expect(() => h.operate('s1', { type: 'UNRESERVE', resources: r('disk(db)[v1]:60') })).toThrow(InvalidOperationError);
    h.operate('s1', { type: 'DESTROY', volumes: r('disk(db)[v1]:60') });
    expect(h.core.totalOf('s1').toString()).toBe('cpus:1;disk:50;disk(db):100;mem:64');
  });

  it('creates volumes on dynamically reserved disk, keeping the reservation`s labels', () => {
    const h = new AllocatorHarness().agent('s1', 'cpus:1;mem:64;disk:100');
    h.operate('s1', { type: 'RESERVE', resources: r('disk(db,dynamic,owner=me):100') });
    h.operate('s1', { type: 'CREATE', volumes: r('disk(db,dynamic,owner=me)[v1:data]:30') });
    expect(h.core.totalOf('s1').toString()).toBe('cpus:1;disk(db,dynamic,owner=me):70;disk(db,dynamic,owner=me)[v1:data]:30;mem:64');
    // the volume must go before the reservation can
    expect(() => h.operate('s1', { type: 'UNRESERVE', resources: r('disk(db,dynamic,owner=me):100') })).toThrow(InsufficientResourcesError);
    h.operate('s1', { type: 'DESTROY', volumes: r('disk(db,dynamic,owner=me)[v1:data]:30') });
    h.operate('s1', { type: 'UNRESERVE', resources: r('disk(db,dynamic,owner=me):100') });
    expect(h.core.totalOf('s1').toString()).toBe('cpus:1;disk:100;mem:64');
  });
});
