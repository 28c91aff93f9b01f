/**
 * The baseline of the scale benchmark, measured in the same run on the same nats-server:
 * a plain request/reply round trip (an echo responder in this process), one at a time and
 * 32 in flight. Latencies are compared with its round trip, rates with its request rate.
 */
import type { NatsConnection } from '../../actors/runtime/nats.js';
import { percentile } from './stats.js';

/** Round trip p50/p99 (ms) and request rate (32 in flight, per second). */
export interface NatsBaseline {
  rttP50Ms: number;
  rttP99Ms: number;
  requestsPerSecond: number;
}

/** Measures the baseline on `nc` with `samples` sequential requests and `burst` requests 32 in flight. */
export async function natsBaseline(nc: NatsConnection, samples = 300, burst = 3000): Promise<NatsBaseline> {
  const subject = `bench.echo.${Math.random().toString(16).slice(2)}`;
  const sub = nc.subscribe(subject, { callback: (_err, msg) => {
    msg.respond(msg.data);
  } });
  try {
    await nc.flush();
    const payload = new Uint8Array(256);
    const rtts: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await nc.request(subject, payload, { timeout: 2000 });
      rtts.push(performance.now() - t0);
    }
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < burst) {
          next += 1;
          await nc.request(subject, payload, { timeout: 5000 });
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { rttP50Ms: percentile(rtts, 50), rttP99Ms: percentile(rtts, 99), requestsPerSecond: Math.round(burst / seconds) };
  } finally {
    sub.unsubscribe();
  }
}
