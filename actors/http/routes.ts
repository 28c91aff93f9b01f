/**
 * The routes that read the master: `/health`, `/master/info`, `/redirect`, `/state`,
 * `/state-summary`, `/metrics` and the JSON operator API `POST /api/v1`. Leader-only routes
 * answer 307 to the leader on a standby (503 while no leader is known).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OperatorApiCall, type ClusterState, type OperatorApiReply } from '../../protocol/operator-api.js';
import { HttpApiError, NoLeaderError, NotImplementedError, statusOfRejection } from './errors.js';
import type { EventStreams } from './event-streams.js';
import type { MetricsExporter } from './metrics.js';
import { summarize, ResourceAmounts } from './summary.js';
import type { OperatorSource } from './types.js';
import { validateJson } from './validate.js';

/** What the routes need. */
export interface RouteContext {
  source: OperatorSource;
  streams: EventStreams;
  metrics: MetricsExporter;
}

/**
 * A preHandler for leader-only routes: passes on the leader; on a standby answers 307 to the
 * same path on the leader, or 503 while no leader is known.
 */
export function leaderOnly(source: OperatorSource) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const role = source.role();
    if (role.leading) return;
    const url = role.leader?.url;
    if (url === undefined || role.leader?.masterId === role.masterId) throw new NoLeaderError();
    await reply.redirect(`${url.replace(/\/+$/, '')}${req.url}`, 307);
  };
}

/** The state with the leader filled in from the role when the source left it out. */
async function stateOf(source: OperatorSource): Promise<ClusterState> {
  const state = await source.snapshot();
  if (state.leader !== undefined) return state;
  const leader = source.role().leader;
  return leader === undefined ? state : { ...state, leader };
}

/** Answers one validated operator call: reads from the snapshot itself, forwards the rest to the source. */
export async function answerCall(source: OperatorSource, call: OperatorApiCall): Promise<OperatorApiReply> {
  switch (call.type) {
    case 'GET_STATE': {
      const state = await stateOf(source);
      return { type: 'STATE', epoch: state.epoch, state };
    }
    case 'GET_AGENTS': {
      const state = await source.snapshot();
      return { type: 'AGENTS', epoch: state.epoch, agents: state.agents };
    }
    case 'GET_FRAMEWORKS': {
      const state = await source.snapshot();
      return { type: 'FRAMEWORKS', epoch: state.epoch, frameworks: state.frameworks };
    }
    case 'GET_TASKS': {
      const state = await source.snapshot();
      return { type: 'TASKS', epoch: state.epoch, tasks: state.tasks, completedTasks: state.completedTasks };
    }
    case 'GET_MASTER': {
      const state = await source.snapshot();
      const role = source.role();
      return { type: 'MASTER', epoch: state.epoch, masterId: role.masterId, leading: role.leading, ...(role.leader && { leader: role.leader }), startedAt: state.startedAt };
    }
    default: {
      const reply = await source.call(call);
      if (reply.type !== 'REJECTED') return reply;
      if (reply.code === 'UNKNOWN_TYPE') throw new NotImplementedError(call.type);
      throw new HttpApiError(statusOfRejection(reply.code), reply.code, reply.reason);
    }
  }
}

/** Registers the read and API routes. */
export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { source } = ctx;
  const leader = { preHandler: leaderOnly(source) };

  app.get('/health', async () => {
    const role = source.role();
    return { healthy: true, masterId: role.masterId, leading: role.leading };
  });

  app.get('/master/info', async (_req, reply) => {
    const role = source.role();
    // Read by the web UI of another master while it looks for a new leader: no state, so any origin may read it.
    void reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store');
    return { masterId: role.masterId, leading: role.leading, ...(role.leader && { leader: role.leader }), peers: role.peers ?? [] };
  });

  app.get('/redirect', async (_req, reply) => {
    const url = source.role().leader?.url;
    if (url === undefined) throw new NoLeaderError();
    return reply.redirect(url, 307);
  });

  app.get('/state', leader, async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    return stateOf(source);
  });

  const amounts = new ResourceAmounts();
  app.get('/state-summary', leader, async (_req, reply) => {
    const state = await stateOf(source);
    void reply.header('cache-control', 'no-store');
    return {
      masterId: state.masterId,
      epoch: state.epoch,
      cluster: state.cluster,
      startedAt: state.startedAt,
      ...(state.leader && { leader: state.leader }),
      summary: summarize(state, amounts),
      agents: state.agents,
      frameworks: state.frameworks,
    };
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await ctx.metrics.render();
    return reply.header('content-type', ctx.metrics.contentType).header('cache-control', 'no-store').send(text);
  });

  app.post('/api/v1', leader, async (req) => {
    const checked = validateJson(OperatorApiCall, req.body);
    if (!checked.ok) throw checked.error;
    return answerCall(source, checked.value);
  });

  app.get('/api/v1/events', leader, async (_req, reply) => {
    reply.hijack();
    await ctx.streams.open(reply.raw);
  });
}
