#!/usr/bin/env node
/**
 * `npm run multihost -- [--hosts 3] [--keep] [--dir <dir>]`: builds hosts on this machine
 * with network namespaces (root only), runs a Nesos cluster across them (a nats-server, a
 * master and an agent per host, JetStream replicas 3), prints how to reach it, and reads
 * `partition <host>`, `heal <host>` and `quit` on stdin. Ctrl-C (or `quit`) stops every
 * process and removes the namespaces; `--keep` keeps the logs and stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MultiHostCluster } from './cluster.js';
import { VirtualNetwork, checkNetns } from './net.js';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false }, dir: { type: 'string' }, help: { type: 'boolean', default: false } },
});
if (values.help) {
  process.stdout.write('usage: npm run multihost -- [--hosts N (1-9, default 3)] [--keep] [--dir <dir>]\n');
  process.exit(0);
}
const hosts = Number(values.hosts);
if (!Number.isInteger(hosts) || hosts < 1 || hosts > 9) {
  process.stderr.write(`multihost: --hosts "${values.hosts}" must be a whole number from 1 to 9\n`);
  process.exit(2);
}

try {
  await checkNetns();
} catch (e) {
  process.stderr.write(`multihost: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

const dir = values.dir !== undefined ? resolve(values.dir) : mkdtempSync(join(tmpdir(), 'nesos-multihost-'));
const net = await VirtualNetwork.create(hosts);
const cluster = new MultiHostCluster(net, { dir });
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    process.stdout.write('stopping every process and removing the namespaces…\n');
    await cluster.stop();
    await net.destroy();
    if (!values.keep && values.dir === undefined) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

try {
  await cluster.start();
} catch (e) {
  process.stderr.write(`multihost: ${e instanceof Error ? e.message : String(e)}\n`);
  await stop(1);
}

const cli = `node dist/bin/nesos.js --nats ${cluster.natsUrls.join(',')} --cluster ${cluster.cluster}`;
process.stdout.write(
  [
    `Nesos cluster "${cluster.cluster}" on ${hosts} hosts (network namespaces), NESOS_JETSTREAM_REPLICAS=${cluster.env.NESOS_JETSTREAM_REPLICAS}`,
    `this shell reaches them from ${net.rootAddress}; logs in ${join(dir, 'logs')}`,
    ...cluster.hosts.map((h) => `  ${h.host.name}  ${h.host.address}  ns ${h.host.ns}  nats ${h.natsUrl}  ${h.masterId} ${h.httpUrl}  ${h.agentId}`),
    `try:   ${cli.replace(' --nats', ' agents --nats')}`,
    `       ${cli.replace(' --nats', ' run --nats')} -- 'sleep 60'`,
    `       ip netns exec ${cluster.hosts[0]?.host.ns ?? ''} curl -s ${cluster.hosts[0]?.httpUrl ?? ''}/health`,
    `type:  partition <host> | heal <host> | quit      (Ctrl-C stops everything)`,
    '',
  ].join('\n'),
);

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, name] = line.trim().split(/\s+/);
  void (async () => {
    try {
      if (cmd === 'quit' || cmd === 'exit') return await stop(0);
      if ((cmd === 'partition' || cmd === 'heal') && name !== undefined) {
        const host = net.host(name);
        await (cmd === 'partition' ? net.partition(host) : net.heal(host));
        process.stdout.write(`${cmd === 'partition' ? 'partitioned' : 'healed'} ${name} (${host.address})\n`);
      } else if (cmd !== undefined && cmd !== '') process.stdout.write('type: partition <host> | heal <host> | quit\n');
    } catch (e) {
      process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
    }
  })();
});
rl.on('close', () => undefined);
