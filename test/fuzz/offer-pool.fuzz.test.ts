// Property-based fuzzing of the scheduler SDK's offer pool (actors/scheduler/offer-pool.ts):
// random offers (from the zod schema's resource arbitrary) packed with random needs (text
// and port counts). It never hands out more than the offer holds, never the same resource
// twice, and what is taken plus what is left is the offer. Fixed seed (test/fuzz/config.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OfferPool, offerResources } from '../../actors/scheduler/offer-pool.js';
import { Resources } from '../../protocol/resources.js';
import type { Offer } from '../../protocol/schema.js';
import { runs } from './config.js';

const offerText = fc.constantFrom('cpus:4;mem:1024;ports:[31000-31010]', 'cpus:0.5;mem:64', 'cpus(eng):2;cpus:1;mem:512;disk:100;ports:[1-3,10-12]', '');
const need = fc.oneof(
  fc.constantFrom('cpus:1', 'cpus:0.25;mem:32', 'mem:2048', 'cpus(eng):1', 'ports:[31000-31000]', 'ports:[31005-31020]', 'disk:1', 'gpus:1', ''),
  fc.integer({ min: 0, max: 5 }),
);

describe('offer pool fuzz', () => {
  it('hands out only what the offer holds, each resource once, and keeps taken + left = offer', () => {
    fc.assert(
      fc.property(offerText, fc.array(need, { maxLength: 12 }), (text, needs) => {
        const offer: Offer = { id: 'o', frameworkId: 'f', agentId: 'a', hostname: 'h', resources: Resources.parse(text).toWire(), attributes: {} };
        const pool = new OfferPool(offer);
        const whole = offerResources(offer);
        let handed = Resources.empty();
        for (const n of needs) {
          const got = typeof n === 'number' ? pool.takePorts(n) : pool.take(n);
          if (got === undefined) continue;
          // what it hands out does not overlap what it handed out before
          expect(handed.add(got).rangeCount('ports')).toBe(handed.rangeCount('ports') + got.rangeCount('ports'));
          handed = handed.add(got);
          expect(whole.contains(handed), `${handed} within ${whole}`).toBe(true);
        }
        expect(pool.taken().add(pool.remaining()).toString()).toBe(whole.toString());
        expect(pool.taken().toString()).toBe(handed.toString());
      }),
      runs(1000),
    );
  });
});
