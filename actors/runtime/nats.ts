/** Connecting to NATS, the same way in every process. */
import { connect, type NatsConnection } from '@nats-io/transport-node';

export type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';

/** Options for connecting an actor's process to NATS. */
export interface ConnectOptions {
  /** Server URL(s), e.g. "nats://127.0.0.1:4222". */
  servers: string | string[];
  /** Connection name shown by the server (e.g. "nesos-master-m1"). */
  name: string;
  /** Give up after this long without a server at start-up (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Capture the caller's stack for every request, so that a timeout names where the request
   * was made (default true). Each capture builds two Errors per request; a process making
   * thousands of requests a second (the simulator) turns it off.
   */
  asyncTraces?: boolean;
}

/** Connects, retrying during start-up, and reconnecting for ever afterwards. */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: options.servers,
    name: options.name,
    timeout: options.connectTimeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    noEcho: false,
    noAsyncTraces: options.asyncTraces === false,
  });
}
