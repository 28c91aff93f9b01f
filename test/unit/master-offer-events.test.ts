import { describe, expect, it } from 'vitest';
import { DEFAULT_MASTER_CONFIG } from '../../actors/master/context.js';
import { batchOffers, MAX_OFFERS_EVENT_BYTES, MAX_OFFERS_PER_EVENT } from '../../actors/master/offer-events.js';
import { DEFAULT_MAX_MESSAGE_BYTES, decode, encode } from '../../protocol/codec.js';
import { Resources } from '../../protocol/resources.js';
import { SchedulerEvent } from '../../protocol/scheduler.js';
import type { Offer } from '../../protocol/schema.js';
import { allocatorCalls, events, MasterHarness } from '../harness/master-harness.js';

const SIM = 'cpus:8;mem:32768;disk:65536;ports:[31000-32000]';

/** A harness with `n` agents like the simulator's, with `attributes` each, and framework(s) subscribed. */
function cluster(n: number, frameworks: string[], attributes: Record<string, string> = { sim: 'true' }): MasterHarness {
  const h = new MasterHarness();
  for (const f of frameworks) h.subscribe(f);
  for (let i = 0; i < n; i++) {
    h.agent({ type: 'REGISTER_AGENT', agent: { id: `sim-${i}`, hostname: `sim-${i}.sim`, resources: Resources.parse(SIM).toWire(), attributes }, tasks: [] });
  }
  return h;
}

/** Every agent's whole resources to `frameworkOf(i)`, in one allocation run. */
function allocateAll(h: MasterHarness, n: number, frameworkOf: (i: number) => string) {
  return h.core.onAllocations(Array.from({ length: n }, (_, i) => ({ frameworkId: frameworkOf(i), agentId: `sim-${i}`, resources: Resources.parse(SIM) })), h.now);
}

function offersOf(effects: ReturnType<typeof allocateAll>, frameworkId: string): Offer[][] {
  return events(effects, frameworkId).flatMap((e) => (e.type === 'OFFERS' ? [e.offers] : []));
}

describe('OFFERS events of bounded size', () => {
  it('sends the offers of 10,000 agents to one framework in events the SDK can decode', () => {
    const h = cluster(10_000, ['f1']);
    const effects = allocateAll(h, 10_000, () => 'f1');
    const batches = offersOf(effects, 'f1');
    // one event of all of them would be about 2 MB, over the SDK's 1 MiB limit
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(10_000 / MAX_OFFERS_PER_EVENT));
    for (const event of events(effects, 'f1')) {
      const bytes = encode(event);
      expect(bytes.byteLength).toBeLessThanOrEqual(MAX_OFFERS_EVENT_BYTES + 64);
      expect(decode(SchedulerEvent, bytes).ok).toBe(true);
    }
    for (const offers of batches) expect(offers.length).toBeLessThanOrEqual(MAX_OFFERS_PER_EVENT);
    // every offer exactly once, in the allocator's order, and each one outstanding
    const ids = batches.flat().map((o) => o.agentId);
    expect(ids).toEqual(Array.from({ length: 10_000 }, (_, i) => `sim-${i}`));
    expect(h.core.state.offers.size).toBe(10_000);
    expect(h.core.state.frameworks.get('f1')?.offers.size).toBe(10_000);
  });

  it('cuts by bytes when offers are large, and keeps each framework its own events', () => {
    // ~8 KB of attributes per agent: far fewer than MAX_OFFERS_PER_EVENT fit in the byte bound
    const attributes = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`a${i}`, 'x'.repeat(1000)]));
    const h = cluster(300, ['f1', 'f2'], attributes);
    const effects = allocateAll(h, 300, (i) => (i % 3 === 0 ? 'f2' : 'f1'));
    const f1 = offersOf(effects, 'f1');
    const f2 = offersOf(effects, 'f2');
    expect(f1.flat()).toHaveLength(200);
    expect(f2.flat()).toHaveLength(100);
    expect(f1.length).toBeGreaterThan(1);
    for (const event of events(effects, 'f1').concat(events(effects, 'f2'))) {
      expect(encode(event).byteLength).toBeLessThanOrEqual(MAX_OFFERS_EVENT_BYTES + 64);
    }
    expect(f1.flat().every((o) => o.frameworkId === 'f1')).toBe(true);
    expect(f2.flat().every((o) => o.frameworkId === 'f2')).toBe(true);
  });

  it('keeps a small allocation in one event', () => {
    const h = cluster(3, ['f1']);
    expect(offersOf(allocateAll(h, 3, () => 'f1'), 'f1').map((b) => b.length)).toEqual([3]);
  });

  it('withdraws an offer too large to send even alone, with a filter', () => {
    // the core does not check sizes (the codec does at the edge): an agent whose offer alone is over 1 MiB
    const attributes = Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`k${i}`, 'y'.repeat(1000)]));
    const h = cluster(2, ['f1']);
    h.agent({ type: 'REGISTER_AGENT', agent: { id: 'huge', hostname: 'huge.sim', resources: Resources.parse(SIM).toWire(), attributes }, tasks: [] });
    const effects = h.core.onAllocations(
      ['sim-0', 'huge', 'sim-1'].map((agentId) => ({ frameworkId: 'f1', agentId, resources: Resources.parse(SIM) })),
      h.now,
    );
    expect(offersOf(effects, 'f1').flat().map((o) => o.agentId)).toEqual(['sim-0', 'sim-1']);
    expect(h.core.state.agents.get('huge')?.offers.size).toBe(0);
    expect([...h.core.state.offers.values()].map((o) => o.agentId)).toEqual(['sim-0', 'sim-1']);
    expect(allocatorCalls(effects)).toContainEqual(expect.objectContaining({ op: 'recoverResources', agentId: 'huge', refuseSeconds: DEFAULT_MASTER_CONFIG.defaultRefuseSeconds }));
  });

  it('batchOffers bounds count and bytes, and puts an offer over the message limit aside', () => {
    const offer = (id: string, pad: number): Offer => ({ id, frameworkId: 'f', agentId: id, hostname: 'h', resources: [], attributes: { p: 'z'.repeat(pad) } });
    expect(batchOffers([offer('a', 10), offer('b', 10), offer('c', 10)], 2).batches.map((b) => b.map((o) => o.id))).toEqual([['a', 'b'], ['c']]);
    const bySize = batchOffers([offer('a', 600), offer('b', 600), offer('c', 600)], 100, 1400);
    expect(bySize.batches.map((b) => b.map((o) => o.id))).toEqual([['a', 'b'], ['c']]);
    // larger than the soft bound alone: sent alone; larger than the message limit: set aside
    const big: Offer = { ...offer('big', 0), attributes: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'q'.repeat(1000)])) };
    const huge: Offer = { ...offer('huge', 0), attributes: Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`k${i}`, 'q'.repeat(1000)])) };
    expect(encode(huge).byteLength).toBeGreaterThan(DEFAULT_MAX_MESSAGE_BYTES);
    const result = batchOffers([offer('a', 1), big, huge, offer('b', 1)], 100, 5000);
    expect(result.batches.map((b) => b.map((o) => o.id))).toEqual([['a'], ['big'], ['b']]);
    expect(result.tooLarge.map((o) => o.id)).toEqual(['huge']);
  });
});

describe('offers that could not be sent', () => {
  it('withdraws them and gives their resources back without a filter; unknown and foreign ids are skipped', () => {
    const h = cluster(2, ['f1', 'f2']);
    const effects = allocateAll(h, 2, (i) => (i === 0 ? 'f1' : 'f2'));
    const [mine] = offersOf(effects, 'f1').flat();
    const [theirs] = offersOf(effects, 'f2').flat();
    const undelivered = h.core.onOffersUndelivered('f1', [mine!.id, theirs!.id, 'offer-unknown'], h.now);
    expect(h.core.state.offers.has(mine!.id)).toBe(false);
    expect(h.core.state.offers.has(theirs!.id)).toBe(true);
    expect(h.core.state.frameworks.get('f1')?.offers.size).toBe(0);
    expect(allocatorCalls(undelivered)).toEqual([expect.objectContaining({ op: 'recoverResources', frameworkId: 'f1', agentId: 'sim-0', refuseSeconds: undefined })]);
    // no RESCIND: the framework never saw it
    expect(events(undelivered, 'f1')).toEqual([]);
    // a second report changes nothing
    expect(allocatorCalls(h.core.onOffersUndelivered('f1', [mine!.id], h.now))).toEqual([]);
  });
});

describe('the default offer timeout', () => {
  it('rescinds offers outstanding for the default timeout, oldest first, and only those', () => {
    const h = cluster(2, ['f1']);
    const first = h.offer('f1', 'sim-0', 'cpus:1;mem:64').offerId;
    h.now += 1000;
    const second = h.offer('f1', 'sim-1', 'cpus:1;mem:64').offerId;
    const alive = () => ['sim-0', 'sim-1'].forEach((agentId) => h.agent({ type: 'HEARTBEAT', agentId }));
    h.now += DEFAULT_MASTER_CONFIG.offerTimeoutMs - 1000;
    alive();
    const effects = h.core.onTick(h.now);
    expect(events(effects, 'f1').filter((e) => e.type === 'RESCIND')).toEqual([expect.objectContaining({ offerId: first })]);
    expect(h.core.state.offers.has(second)).toBe(true);
    h.now += 1000;
    alive();
    expect(events(h.core.onTick(h.now), 'f1')).toContainEqual(expect.objectContaining({ type: 'RESCIND', offerId: second }));
  });
});
