/**
 * Offer matching, pure (no NATS): does an offer hold what a task needs, and how to pack
 * several tasks into one offer. Needs are `Resources` or Mesos text (`cpus:0.5;mem:128`);
 * a need in role '*' is met only by unreserved resources, as in Mesos.
 *
 *     const pool = new OfferPool(offer);
 *     while (pool.fits('cpus:0.5;mem:64')) specs.push({ name: 'w', command: 'work', resources: pool.take('cpus:0.5;mem:64')! });
 */
import { Resources } from '../../protocol/resources.js';
import type { Offer } from '../../protocol/schema.js';

/** What a task needs: a Resources value or its Mesos text form. */
export type Needs = Resources | string;

/** Turns needs into Resources; throws ResourceParseError on bad text. */
export function toResources(needs: Needs): Resources {
  return typeof needs === 'string' ? Resources.parse(needs) : needs;
}

/** The resources an offer holds. */
export function offerResources(offer: Offer): Resources {
  return Resources.fromWire(offer.resources);
}

/** True when `offer` holds at least `needs`. */
export function offerFits(offer: Offer, needs: Needs): boolean {
  return offerResources(offer).contains(toResources(needs));
}

/** What is left of one offer while tasks are packed into it. */
export class OfferPool {
  /** The offer being packed. */
  readonly offer: Offer;
  private left: Resources;

  constructor(offer: Offer) {
    this.offer = offer;
    this.left = offerResources(offer);
  }

  /** True when what is left holds `needs`. */
  fits(needs: Needs): boolean {
    return this.left.contains(toResources(needs));
  }

  /** Takes `needs` out of what is left and returns them, or undefined (taking nothing) when they do not fit. */
  take(needs: Needs): Resources | undefined {
    const wanted = toResources(needs);
    if (!this.left.contains(wanted)) return undefined;
    this.left = this.left.subtract(wanted);
    return wanted;
  }

  /** Takes the `count` lowest free ports, or undefined (taking nothing) when fewer are left. */
  takePorts(count: number): Resources | undefined {
    const ports = this.left.takeRange('ports', count);
    if (ports !== undefined) this.left = this.left.subtract(ports);
    return ports;
  }

  /** What is left. */
  remaining(): Resources {
    return this.left;
  }

  /** What has been taken so far. */
  taken(): Resources {
    return offerResources(this.offer).subtract(this.left);
  }
}
