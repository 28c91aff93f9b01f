import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OfferPool, offerFits, offerResources, toResources } from '../../actors/scheduler/offer-pool.js';
import { Resources } from '../../protocol/resources.js';
import type { Offer } from '../../protocol/schema.js';

/** An offer of `text` (Mesos syntax) on agent a1. */
function offer(text: string, id = 'o1'): Offer {
  return { id, frameworkId: 'fw-1', agentId: 'a1', hostname: 'h1', resources: Resources.parse(text).toWire(), attributes: {} };
}

describe('offerFits', () => {
  it('is true when the offer holds every need, and false when one is short', () => {
    const o = offer('cpus:2;mem:1024;ports:[31000-31009]');
    expect(offerFits(o, 'cpus:2;mem:1024')).toBe(true);
    expect(offerFits(o, 'cpus:0.5;mem:64;ports:[31005-31005]')).toBe(true);
    expect(offerFits(o, 'cpus:2.001')).toBe(false);
    expect(offerFits(o, 'ports:[30999-30999]')).toBe(false);
    expect(offerFits(o, 'gpus:1')).toBe(false);
  });

  it('takes Resources as well as text, and treats no needs as fitting', () => {
    const o = offer('cpus:1;mem:128');
    expect(offerFits(o, Resources.fromScalars({ cpus: 1, mem: 128 }))).toBe(true);
    expect(offerFits(o, '')).toBe(true);
  });

  it('does not meet an unreserved need with resources reserved to a role (Mesos semantics)', () => {
    const o = offer('cpus(analytics):4;mem:1024');
    expect(offerFits(o, 'cpus:1')).toBe(false);
    expect(offerFits(o, 'cpus(analytics):1')).toBe(true);
  });

  it('throws ResourceParseError on malformed needs', () => {
    expect(() => offerFits(offer('cpus:1'), 'cpus=1')).toThrow(/invalid resource/);
  });
});

describe('OfferPool', () => {
  it('packs tasks into one offer until the rest is too small', () => {
    const pool = new OfferPool(offer('cpus:2;mem:200'));
    const taken: string[] = [];
    for (let r = pool.take('cpus:0.5;mem:64'); r !== undefined; r = pool.take('cpus:0.5;mem:64')) taken.push(r.toString());
    // mem limits: 200 / 64 = 3 tasks; cpus left 2 - 1.5 = 0.5, mem left 200 - 192 = 8
    expect(taken).toEqual(['cpus:0.5;mem:64', 'cpus:0.5;mem:64', 'cpus:0.5;mem:64']);
    expect(pool.remaining().toString()).toBe('cpus:0.5;mem:8');
    expect(pool.taken().toString()).toBe('cpus:1.5;mem:192');
  });

  it('takes nothing when the needs do not fit', () => {
    const pool = new OfferPool(offer('cpus:1;mem:128'));
    expect(pool.fits('cpus:1;mem:256')).toBe(false);
    expect(pool.take('cpus:1;mem:256')).toBeUndefined();
    expect(pool.remaining().toString()).toBe('cpus:1;mem:128');
  });

  it('hands out the lowest free ports, never the same one twice', () => {
    const pool = new OfferPool(offer('cpus:1;ports:[31000-31002,32000-32001]'));
    expect(pool.takePorts(2)?.toString()).toBe('ports:[31000-31001]');
    expect(pool.takePorts(2)?.toString()).toBe('ports:[31002-31002,32000-32000]');
    expect(pool.takePorts(2)).toBeUndefined(); // only 32001 is left
    expect(pool.remaining().toString()).toBe('cpus:1;ports:[32001-32001]');
  });

  it('lets an explicit port be taken, and then not again', () => {
    const pool = new OfferPool(offer('ports:[8000-8010]'));
    expect(pool.take('ports:[8080-8080]')).toBeUndefined();
    expect(pool.take('ports:[8005-8005]')?.toString()).toBe('ports:[8005-8005]');
    expect(pool.fits('ports:[8005-8005]')).toBe(false);
    expect(pool.takePorts(6)?.toString()).toBe('ports:[8000-8004,8006-8006]');
  });

  it('keeps the offer it was built from unchanged', () => {
    const o = offer('cpus:1;mem:64');
    const pool = new OfferPool(o);
    pool.take('cpus:1');
    expect(offerResources(o).toString()).toBe('cpus:1;mem:64');
    expect(pool.offer).toBe(o);
  });

  it('never hands out more than the offer holds, and what is taken plus what is left is the offer', () => {
    const need = fc.record({ cpus: fc.integer({ min: 0, max: 3000 }), mem: fc.integer({ min: 0, max: 600 }) });
    fc.assert(
      fc.property(fc.array(need, { maxLength: 20 }), fc.integer({ min: 0, max: 12 }), (needs, ports) => {
        const o = offer('cpus:4;mem:1024;ports:[100-109]');
        const pool = new OfferPool(o);
        let sum = Resources.empty();
        for (const n of needs) {
          const got = pool.take(Resources.fromScalars({ cpus: n.cpus / 1000, mem: n.mem }));
          if (got !== undefined) sum = sum.add(got);
        }
        const gotPorts = pool.takePorts(ports);
        if (gotPorts !== undefined) sum = sum.add(gotPorts);
        expect(gotPorts === undefined).toBe(ports > 10);
        expect(offerResources(o).contains(sum)).toBe(true);
        expect(sum.add(pool.remaining()).equals(offerResources(o))).toBe(true);
      }),
    );
  });
});

describe('toResources', () => {
  it('parses text and passes Resources through', () => {
    const r = Resources.parse('cpus:1');
    expect(toResources(r)).toBe(r);
    expect(toResources('mem:64;cpus:0.5').toString()).toBe('cpus:0.5;mem:64');
  });
});
