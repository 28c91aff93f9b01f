/**
 * `nesos up`: a whole cluster on this machine — nats-server (from nats.conf), masters and
 * agents as separate processes, supervised: one that fails is restarted with the same
 * arguments (same id, same work dir) after a backoff, up to a limit (`DEFAULT_RESTART_POLICY`;
 * `--no-restart` turns it off); Ctrl-C stops everything, leaving no process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { connectNats, type NatsConnection } from '../../actors/runtime/nats.js';
import { request } from '../../actors/runtime/request.js';
import { OperatorApiReply } from '../../protocol/operator-api.js';
import { Subjects } from '../../protocol/subjects.js';
import { MissingProgramError, UsageError } from '../errors.js';
import { checkClusterOptions, intFlag, withClusterOptions, type ClusterOptions } from '../options.js';
import { NATS_CONF, NESOS_BIN } from '../paths.js';
import { waitForPort, waitForState } from '../readiness.js';
import { DEFAULT_RESTART_POLICY, type RestartDecision } from '../restart-policy.js';
import { Supervisor, type Child } from '../supervisor.js';

interface UpFlags extends ClusterOptions {
  port: number;
  dataDir?: string;
  agents: number;
  masters: number;
  agentResources?: string;
  httpPort: number;
  restart: boolean;
}

/** The `up` command. */
export function upCommand(): Command {
  return withClusterOptions(new Command('up'))
    .description('start a local cluster: nats-server, a master and agents as separate processes (Ctrl-C stops all)')
    .option('--port <port>', 'nats-server client port (the cluster is at nats://127.0.0.1:<port>)', intFlag('--port', 1, 65535), 4222)
    .option('--data-dir <dir>', 'where logs, the JetStream store and agent work dirs go (default .nesos/<cluster>)')
    .option('--agents <n>', 'number of agents', intFlag('--agents', 0, 64), 2)
    .option('--masters <n>', 'number of masters (one leads, the others stand by)', intFlag('--masters', 1, 9), 3)
    .option('--http-port <port>', 'HTTP port of the first master (the web UI); the others use the next ports (0: any free ports)', intFlag('--http-port', 0, 65535 - 9), 5050)
    .option('--agent-resources <resources>', 'resources of each agent in Mesos syntax, e.g. "cpus:2;mem:2048" (default: detected)')
    .option('--no-restart', 'do not restart a process that fails (default: restart it after 100 ms doubling to 10 s, at most 10 times in 5 minutes)')
    .action(async (flags: UpFlags) => {
      const o = checkClusterOptions(flags);
      await up(o, flags);
    });
}

function requireNatsServer(): void {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new MissingProgramError('nats-server', 'Run `npm run setup` (installs Debian\'s nats-server as root) or `sudo apt-get install -y nats-server`.');
  }
}

async function up(o: ClusterOptions, flags: UpFlags): Promise<void> {
  requireNatsServer();
  if (o.nats !== 'nats://127.0.0.1:4222' && process.env.NESOS_NATS === undefined) {
    throw new UsageError('--nats is not used by `nesos up`: it starts its own nats-server; choose its port with --port');
  }
  const dataDir = resolve(flags.dataDir ?? join('.nesos', o.cluster));
  const natsUrl = `nats://127.0.0.1:${flags.port}`;
  mkdirSync(join(dataDir, 'nats'), { recursive: true });
  mkdirSync(join(dataDir, 'logs'), { recursive: true });

  const supervisor = new Supervisor((child, how, decision) => process.stdout.write(exitLine(child, how, decision)), {
    restart: flags.restart ? DEFAULT_RESTART_POLICY : false,
    onRestart: (child) => process.stdout.write(`! ${child.name} restarted: pid ${child.process.pid ?? '?'} (restart ${child.restarts})\n`),
  });
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const stopped = new Promise<void>((resolve) => (finished = resolve));
  const stop = () => {
    stopping ??= (async () => {
      process.stdout.write('\nstopping the cluster…\n');
      await supervisor.stopAll();
      process.stdout.write('stopped.\n');
      finished();
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const common = ['--nats', natsUrl, '--cluster', o.cluster, '--log-level', o.logLevel];
  try {
    supervisor.start('nats-server', 'nats-server', ['-c', NATS_CONF, '-p', String(flags.port)], join(dataDir, 'logs', 'nats-server.log'), {
      NESOS_NATS_STORE_DIR: join(dataDir, 'nats'),
    });
    await waitForPort('127.0.0.1', flags.port, 10_000);
    const urls = flags.httpPort === 0 ? [] : Array.from({ length: flags.masters }, (_, i) => `http://127.0.0.1:${flags.httpPort + i}`);
    for (let i = 1; i <= flags.masters; i++) {
      const peers = urls.filter((_, j) => j !== i - 1);
      const port = flags.httpPort === 0 ? 0 : flags.httpPort + i - 1;
      const http = ['--http-port', String(port), ...(peers.length > 0 ? ['--peers', peers.join(',')] : [])];
      supervisor.start(`master-${i}`, process.execPath, [NESOS_BIN, 'master', '--id', `master-${i}`, ...http, ...common], join(dataDir, 'logs', `master-${i}.log`));
    }
    for (let i = 1; i <= flags.agents; i++) {
      const args = [NESOS_BIN, 'agent', '--id', `agent-${i}`, '--work-dir', join(dataDir, `agent-${i}`), ...common];
      if (flags.agentResources !== undefined) args.push('--resources', flags.agentResources);
      supervisor.start(`agent-${i}`, process.execPath, args, join(dataDir, 'logs', `agent-${i}.log`));
    }
    const nc = await connectNats({ servers: natsUrl, name: 'nesos-up' });
    try {
      const state = await waitForState(nc, o.cluster, (s) => s.agents.filter((a) => a.status === 'active').length >= flags.agents, 20_000);
      printSummary(o.cluster, natsUrl, dataDir, flags.restart, supervisor, state.agents.map((a) => `${a.id} (${a.resources})`), `${state.masterId} (epoch ${state.epoch})`, (await leaderUrl(nc, o.cluster)) ?? urls[0] ?? '');
    } finally {
      await nc.close();
    }
  } catch (e) {
    await stop();
    throw e;
  }
  await stopped;
}

/** The line `nesos up` prints when a child exited by itself: which, how, and what happens next. */
function exitLine(child: Child, how: string, decision: RestartDecision | undefined): string {
  const which = `! ${child.name} (pid ${child.process.pid ?? '?'}) exited (${how})`;
  switch (decision?.action) {
    case undefined:
      return `${which}; not restarted (--no-restart); its log is ${child.logFile}\n`;
    case 'leave':
      return `${which}; not restarted: ${decision.reason}; its log is ${child.logFile}\n`;
    case 'restart':
      return `${which}; restarting it in ${decision.delayMs} ms (restart ${decision.restart})\n`;
    case 'give-up':
      return `${which}; GIVING UP on ${child.name}: it was restarted ${decision.restarts} times within ${decision.windowMs / 1000} s, it stays down; its log is ${child.logFile}\n`;
  }
}

function printSummary(cluster: string, natsUrl: string, dataDir: string, restart: boolean, supervisor: Supervisor, agents: string[], leader: string, webUi: string): void {
  const p = DEFAULT_RESTART_POLICY;
  const lines = [
    `Nesos cluster "${cluster}" is up.`,
    `  NATS:     ${natsUrl}`,
    `  data:     ${dataDir}`,
    ...supervisor.list().map((c) => `  ${c.name.padEnd(12)} pid ${String(c.process.pid).padEnd(8)} log ${c.logFile}`),
    `  leader:   ${leader}`,
    `  restarts: ${restart ? `on: a process that fails is restarted after ${p.initialDelayMs} ms doubling to ${p.maxDelayMs / 1000} s, at most ${p.maxRestarts} times in ${p.windowMs / 60_000} minutes` : 'off (--no-restart)'}`,
    `  web UI:   ${webUi}  (every master serves it; standbys redirect to the leader)`,
    `  agents:   ${agents.join(', ')}`,
    '',
    'Try, in another shell:',
    `  npx nesos run --cluster ${cluster} --nats ${natsUrl} -- echo hello`,
    `  npx nesos state --cluster ${cluster} --nats ${natsUrl}`,
    '',
    'Press Ctrl-C to stop the cluster.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/** The leader's HTTP URL, from GET_MASTER (undefined when it serves no HTTP or does not answer). */
async function leaderUrl(nc: NatsConnection, cluster: string): Promise<string | undefined> {
  try {
    const reply = await request(nc, new Subjects(cluster).operatorCall('nesos-cli'), { type: 'GET_MASTER' }, OperatorApiReply, { timeoutMs: 2000 });
    return reply.type === 'MASTER' ? reply.leader?.url : undefined;
  } catch {
    return undefined;
  }
}
