/**
 * OFFERS events of bounded size. One allocation run may offer a framework the resources of
 * thousands of agents (as Mesos's allocator does); the master sends them as several OFFERS
 * events, each of at most `MAX_OFFERS_PER_EVENT` offers and `MAX_OFFERS_EVENT_BYTES` bytes
 * of msgpack, so that no event is ever refused for its size (the SDK decodes at most 1 MiB,
 * nats-server's `max_payload` is 4 MB). Offers that the framework cannot have received (an
 * offer too large to send even alone, or a publish that failed) are withdrawn and their
 * resources go back to the allocator.
 */
import { DEFAULT_MAX_MESSAGE_BYTES, encode } from '../../protocol/codec.js';
import type { Offer } from '../../protocol/schema.js';
import type { Step } from './context.js';
import type { MasterEffect } from './effects.js';
import { removeOffer } from './offers.js';

/** Most offers in one OFFERS event. */
export const MAX_OFFERS_PER_EVENT = 500;

/** Most bytes of offers (msgpack) in one OFFERS event: a quarter of the SDK's 1 MiB decode limit. */
export const MAX_OFFERS_EVENT_BYTES = 256 * 1024;

/** Room left for the event's envelope (`type`, `epoch`, the array header) under a message limit. */
const ENVELOPE_BYTES = 64;

/** Offers cut into batches of bounded count and size, and those too large to send even alone. */
export interface OfferBatches {
  batches: Offer[][];
  tooLarge: Offer[];
}

/**
 * Cuts offers, in order, into batches of at most `maxCount` offers whose msgpack sizes add
 * up to at most `maxBytes`. An offer larger than `maxBytes` goes alone into a batch if it
 * fits under the message limit (`DEFAULT_MAX_MESSAGE_BYTES`), else into `tooLarge`.
 */
export function batchOffers(offers: readonly Offer[], maxCount = MAX_OFFERS_PER_EVENT, maxBytes = MAX_OFFERS_EVENT_BYTES): OfferBatches {
  const batches: Offer[][] = [];
  const tooLarge: Offer[] = [];
  let current: Offer[] = [];
  let bytes = 0;
  for (const offer of offers) {
    const size = encode(offer).byteLength;
    if (size + ENVELOPE_BYTES > DEFAULT_MAX_MESSAGE_BYTES) {
      tooLarge.push(offer);
      continue;
    }
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(offer);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

/**
 * Replaces every OFFERS effect of the step by as many bounded ones as it takes (in place,
 * in order). Offers too large to send are withdrawn: their resources go back to the
 * allocator with the default refusal filter, so that they are not offered again at once.
 */
export function boundOfferEvents(step: Step): void {
  const effects = step.effects;
  for (let i = 0; i < effects.length; i++) {
    const effect = effects[i]!;
    if (effect.kind !== 'to-framework' || effect.message.type !== 'OFFERS') continue;
    const { batches, tooLarge } = batchOffers(effect.message.offers);
    const message = effect.message;
    const split: MasterEffect[] = batches.map((offers) => ({ kind: 'to-framework', frameworkId: effect.frameworkId, message: { ...message, offers } }));
    effects.splice(i, 1, ...split);
    i += split.length - 1;
    for (const offer of tooLarge) {
      const record = step.state.offers.get(offer.id);
      if (record !== undefined) removeOffer(step, record, true, step.config.defaultRefuseSeconds);
      step.log('warn', `withdrew offer ${offer.id} of agent ${offer.agentId}: too large to send`, { frameworkId: offer.frameworkId });
    }
  }
}

/**
 * The shell could not publish an OFFERS event (too large for the server, connection
 * closed): the framework never saw these offers, so they are withdrawn and their resources
 * go back to the allocator (no filter). Offers already gone are skipped.
 */
export function withdrawUndelivered(step: Step, frameworkId: string, offerIds: readonly string[]): void {
  let withdrawn = 0;
  for (const id of offerIds) {
    const offer = step.state.offers.get(id);
    if (offer === undefined || offer.frameworkId !== frameworkId) continue;
    removeOffer(step, offer, true);
    withdrawn += 1;
  }
  if (withdrawn > 0) step.log('warn', `withdrew ${withdrawn} offers that could not be sent`, { frameworkId });
}
