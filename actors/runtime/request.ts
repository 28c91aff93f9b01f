/**
 * Request/reply with timeout and retry: the one place where Nesos waits for an answer.
 * Retries (timeout, no responders) back off exponentially with jitter.
 */
import { RequestError, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import { decode, encode } from '../../protocol/codec.js';
import type { MessageUnion } from '../../protocol/union.js';
import { BadReplyError, CallRejectedError, NoRespondersError, RequestTimeoutError, isRetryable } from './errors.js';

/** How long to wait and how often to try. */
export interface RequestOptions {
  /** Wait for each attempt (default 2000 ms). */
  timeoutMs?: number;
  /** Attempts in all, including the first (default 1). */
  attempts?: number;
  /** First pause between attempts (default 100 ms), doubled each time up to `maxBackoffMs`. */
  backoffMs?: number;
  /** Longest pause between attempts (default 2000 ms). */
  maxBackoffMs?: number;
  /** Random source for jitter, in [0,1) (default Math.random: shells only). */
  random?: () => number;
}

/** The pause before retry `attempt` (1-based): exponential, capped, with ±50 % jitter. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const exp = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(exp * (0.5 + random()));
}

/** Sends `message` to `subject` and decodes the answer as one of `replies`. Throws runtime errors. */
export async function request<U extends MessageUnion>(
  nc: NatsConnection,
  subject: string,
  message: object,
  replies: U,
  options: RequestOptions = {},
): Promise<z.infer<U['schema']>> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const attempts = Math.max(1, options.attempts ?? 1);
  const random = options.random ?? Math.random;
  const payload = encode(message);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const msg = await nc.request(subject, payload, { timeout: timeoutMs });
      const decoded = decode(replies, msg.data);
      if (!decoded.ok) throw new BadReplyError(subject, decoded.error.message, { cause: decoded.error });
      return decoded.value;
    } catch (e) {
      lastError = toRuntimeError(e, subject, timeoutMs);
      if (!isRetryable(lastError) || attempt === attempts) throw lastError;
      const pause = backoffDelay(attempt, options.backoffMs ?? 100, options.maxBackoffMs ?? 2000, random);
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  throw lastError;
}

/** Like `request`, but a REJECTED answer is thrown as CallRejectedError. */
export async function call<U extends MessageUnion>(
  nc: NatsConnection,
  subject: string,
  message: object,
  replies: U,
  options: RequestOptions = {},
): Promise<Exclude<z.infer<U['schema']>, { type: 'REJECTED' }>> {
  const reply = (await request(nc, subject, message, replies, options)) as { type: string; code?: string; reason?: string };
  if (reply.type === 'REJECTED') {
    throw new CallRejectedError(reply.code as CallRejectedError['code'], reply.reason ?? '');
  }
  return reply as Exclude<z.infer<U['schema']>, { type: 'REJECTED' }>;
}

function toRuntimeError(e: unknown, subject: string, timeoutMs: number): unknown {
  if (e instanceof RequestError && e.isNoResponders()) return new NoRespondersError(subject, { cause: e });
  if (e instanceof TimeoutError || (e instanceof RequestError && e.cause instanceof TimeoutError)) {
    return new RequestTimeoutError(subject, timeoutMs, { cause: e });
  }
  if (e instanceof Error && /timeout/i.test(e.name)) return new RequestTimeoutError(subject, timeoutMs, { cause: e });
  return e;
}
