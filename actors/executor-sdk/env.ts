/**
 * Where a custom executor finds its agent: the NESOS_* variables the agent sets when it
 * starts the executor's command, each of which an option may override. Pure.
 */
import { isValidToken } from '../../protocol/subjects.js';
import { ExecutorEnvironmentError } from './errors.js';

/** Who the executor is and how it reaches its agent. */
export interface ExecutorIdentity {
  /** NATS URL(s), comma-separated (NESOS_NATS_URL). */
  servers: string;
  /** The cluster name (NESOS_CLUSTER). */
  cluster: string;
  /** NESOS_AGENT_ID. */
  agentId: string;
  /** NESOS_FRAMEWORK_ID. */
  frameworkId: string;
  /** NESOS_EXECUTOR_ID (the ExecutorInfo's id). */
  executorId: string;
  /** The run's sandbox, absolute (NESOS_SANDBOX); the executor's working directory. */
  sandbox: string;
}

const VARIABLES: Record<keyof ExecutorIdentity, string> = {
  servers: 'NESOS_NATS_URL',
  cluster: 'NESOS_CLUSTER',
  agentId: 'NESOS_AGENT_ID',
  frameworkId: 'NESOS_FRAMEWORK_ID',
  executorId: 'NESOS_EXECUTOR_ID',
  sandbox: 'NESOS_SANDBOX',
};

/** The identity from `given`, else from `env`; throws ExecutorEnvironmentError naming what is missing or invalid. */
export function resolveIdentity(given: Partial<ExecutorIdentity>, env: Readonly<Record<string, string | undefined>>): ExecutorIdentity {
  const out: Partial<ExecutorIdentity> = {};
  const missing: string[] = [];
  for (const [key, variable] of Object.entries(VARIABLES) as Array<[keyof ExecutorIdentity, string]>) {
    const value = given[key] ?? env[variable] ?? '';
    if (value === '') missing.push(variable);
    else out[key] = value;
  }
  if (missing.length > 0) {
    throw new ExecutorEnvironmentError(missing, `a custom executor is started by a Nesos agent (TaskInfo.executor); missing: ${missing.join(', ')}`);
  }
  const id = out as ExecutorIdentity;
  const bad = (['cluster', 'agentId', 'frameworkId', 'executorId'] as const).filter((k) => !isValidToken(id[k])).map((k) => VARIABLES[k]);
  if (!id.sandbox.startsWith('/')) bad.push(VARIABLES.sandbox);
  if (bad.length > 0) throw new ExecutorEnvironmentError(bad, `invalid ${bad.join(', ')}: ids must be subject tokens, the sandbox an absolute path`);
  return id;
}
