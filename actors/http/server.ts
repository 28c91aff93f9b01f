/**
 * The master's HTTP server, on fastify: routes (routes.ts), the event stream
 * (event-streams.ts), sandbox files (files-route.ts), agents' own state and metrics
 * (agent-route.ts), metrics (metrics.ts) and the web UI's
 * static assets. Every error is answered as JSON `{type:"REJECTED", code, reason}` with the
 * status of its kind; bodies must be `application/json` (so that a browser cannot post them
 * from another site without CORS), at most `bodyLimitBytes`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { EventStreams } from './event-streams.js';
import { BadRequestError, HttpApiError, PayloadTooLargeError } from './errors.js';
import { registerAgentRoutes } from './agent-route.js';
import { registerFilesRoute } from './files-route.js';
import { MetricsExporter } from './metrics.js';
import { registerRoutes } from './routes.js';
import type { OperatorHttpOptions, OperatorHttpServer, OperatorSource } from './types.js';

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The package root: the nearest folder above this module holding package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

/** Where the built web UI is by default: dist/ui under the package root. */
export function defaultUiDir(): string {
  return join(packageRoot(), 'dist', 'ui');
}

function rejectedBody(code: string, reason: string) {
  return { type: 'REJECTED', code, reason };
}

function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    let e: HttpApiError;
    if (error instanceof HttpApiError) e = error;
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') e = new PayloadTooLargeError(bodyLimit, { cause: error });
    else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      e = new HttpApiError(415, 'MALFORMED', 'send the body as JSON with Content-Type: application/json', { cause: error });
    } else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') e = new BadRequestError('MALFORMED', 'the body is empty: send a JSON object such as {"type":"GET_STATE"}');
    else if (error.statusCode === 400) e = new BadRequestError('MALFORMED', `the body is not valid JSON: ${error.message}`, { cause: error });
    else if (error.statusCode !== undefined && error.statusCode < 500) e = new HttpApiError(error.statusCode, 'INVALID', error.message, { cause: error });
    else {
      req.log.error({ err: error, url: req.url }, 'request failed');
      e = new HttpApiError(500, 'INTERNAL', 'internal error: see the master log');
    }
    return reply.status(e.status).header('cache-control', 'no-store').send(rejectedBody(e.code, e.message));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(rejectedBody('NOT_FOUND', `no such endpoint: ${req.method} ${req.url.split('?')[0] ?? ''}`)),
  );
}

async function registerUi(app: FastifyInstance, source: OperatorSource, uiDir: string | null): Promise<void> {
  if (uiDir === null || !existsSync(join(uiDir, 'index.html'))) {
    const why = uiDir === null ? 'this master serves no web UI' : `the web UI is not built (no ${join(uiDir, 'index.html')}): run \`npm run build\``;
    app.get('/', async (_req, reply) => reply.status(503).type('text/plain; charset=utf-8').send(`${why}\n`));
    return;
  }
  // A standby sends people to the leader's UI; assets are served by every master.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' || (req.url !== '/' && !req.url.startsWith('/?') && req.url !== '/index.html')) return;
    const role = source.role();
    const url = role.leader?.url;
    if (!role.leading && url !== undefined && role.leader?.masterId !== role.masterId) {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      await reply.redirect(`${url.replace(/\/+$/, '')}/${query}`, 307);
    }
  });
  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: '/',
    index: 'index.html',
    wildcard: true,
    setHeaders: (reply, path) => {
      // Vite names assets by content hash: they never change; index.html always may.
      void reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

/** Starts the HTTP server and resolves once it listens. */
export async function startOperatorHttp(options: OperatorHttpOptions): Promise<OperatorHttpServer> {
  const log = options.logger ?? pino({ level: 'silent' });
  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  const streams = new EventStreams({
    source: options.source,
    log,
    heartbeatIntervalSeconds: options.heartbeatIntervalSeconds ?? 15,
    maxBufferBytes: options.maxStreamBufferBytes ?? 8 * 1024 * 1024,
  });
  const metrics = new MetricsExporter(options.source, () => streams.size, options.processMetrics ?? true);
  registerErrorHandling(app, bodyLimit);
  registerRoutes(app, { source: options.source, streams, metrics });
  registerFilesRoute(app, options.source);
  registerAgentRoutes(app, options.source);
  await registerUi(app, options.source, options.uiDir === undefined ? defaultUiDir() : options.uiDir);

  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 5050 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  log.info({ url: `http://${urlHost}:${port}` }, 'http server listening');
  return {
    url: `http://${urlHost}:${port}`,
    port,
    streamClients: () => streams.size,
    endStreams: (leader) => streams.endAll(leader),
    close: async () => {
      streams.endAll(options.source.role().leader);
      await app.close();
    },
  };
}
