/**
 * Replies to requests. Every request (a scheduler call, an agent's message to the master,
 * an executor's message to its agent, a files call) is answered with OK or REJECTED, or a
 * reply particular to that request, listed with it.
 */
import { z } from 'zod';
import { defineUnion, message } from './union.js';
import { Epoch, Text } from './schema.js';

/** Why a request was refused. Decode errors use the protocol codes; the rest are the receiver's. */
export const RejectionCode = z.enum([
  'MALFORMED',
  'TOO_LARGE',
  'UNKNOWN_TYPE',
  'INVALID',
  'WRONG_PRINCIPAL',
  'NOT_SUBSCRIBED',
  'UNKNOWN_AGENT',
  'UNKNOWN_TASK',
  'UNKNOWN_EXECUTOR',
  'NOT_FOUND',
  'STALE_EPOCH',
  'NOT_LEADER',
  'INTERNAL',
  'AGENT_GONE',
  /** The agent is DOWN for maintenance: it may not register until STOP_MAINTENANCE. */
  'AGENT_DOWN',
  /** The agent's maintenance mode does not allow the call (START needs DRAINING, STOP needs DOWN, a DOWN agent stays scheduled). */
  'WRONG_MODE',
  /** The inverse offer is unknown: never made, already answered, or rescinded. */
  'UNKNOWN_INVERSE_OFFER',
  /** The inverse offer (or other object named) belongs to another framework. */
  'WRONG_FRAMEWORK',
]);
/** Why a request was refused. */
export type RejectionCode = z.infer<typeof RejectionCode>;

/** OK: the request was taken. `epoch` is set when a master answers. */
export const OkReply = message('OK', { epoch: Epoch.optional() });

/** REJECTED: the request was refused; `code` says why in a way callers branch on, `reason` for people. */
export const RejectedReply = message('REJECTED', { code: RejectionCode, reason: Text, epoch: Epoch.optional() });

/** The generic reply: OK or REJECTED. */
export const Reply = defineUnion('Reply', [OkReply, RejectedReply]);
/** The generic reply: OK or REJECTED. */
export type Reply = z.infer<typeof Reply.schema>;
/** A REJECTED reply. */
export type RejectedReply = z.infer<typeof RejectedReply>;
