/**
 * How many copies JetStream keeps of a cluster's KV buckets and updates stream. One
 * nats-server holds one; a NATS cluster (`nesos chaos --nats-cluster`, or a deployment on
 * several hosts) wants 3. Every process that may create them (masters, agents,
 * frameworks) reads the same environment variable, so whoever comes first creates them
 * with the right count: `NESOS_JETSTREAM_REPLICAS` (default 1).
 */
import { InvalidReplicasError } from './errors.js';

/** The replica count from `NESOS_JETSTREAM_REPLICAS` (default 1); throws InvalidReplicasError for anything but 1–5. */
export function jetStreamReplicas(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.NESOS_JETSTREAM_REPLICAS;
  if (value === undefined || value.trim() === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new InvalidReplicasError(value);
  return n;
}
