/**
 * A virtual network of hosts on one machine (Linux, root): one network namespace per host,
 * each with `lo` and an `eth0` whose other end is a port of a bridge in a switch namespace
 * of its own (so this machine's firewall never sees the traffic), and one more link from
 * the root namespace to the bridge so that this process reaches every host. `partition`
 * takes a host's switch port down (its eth0 loses carrier: nothing in or out), `heal`
 * brings it back. Each host gives up on a TCP connection whose data goes unacknowledged for
 * about 3 s (`net.ipv4.tcp_retries2`, set per namespace; see `HOST_TCP_RETRIES2`), so that
 * connections across a cut link end in seconds. `destroy` removes everything; so does the
 * next run, for namespaces whose owner pid is gone.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { NetnsCommandError, NetnsUnavailableError, NoFreeSubnetError } from './errors.js';
import { NETNS_PREFIX, netLayout, ownerPid, pickSubnet, prefixesIn, type NetLayout } from './layout.js';

const run = promisify(execFile);

/**
 * `net.ipv4.tcp_retries2` of every host: retransmissions before TCP drops a connection whose
 * data goes unacknowledged. 3 is ~3 s (200 ms doubling); Linux's 15 is ~15 minutes. A cut
 * route must end by itself: nats-server 2.9.10 does not ping a route it keeps sending to
 * (every message it forwards counts as activity), so without this a route across a cut link
 * lives until its send buffer fills (20–60 s), and after the heal the kernel's retransmission
 * backoff holds it stalled for as long again (docs/deployment.md#what-partitions-do).
 */
export const HOST_TCP_RETRIES2 = 3;

/** Runs `ip args`; throws NetnsCommandError with what it printed. */
async function ip(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { encoding: 'utf8' });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message?: string };
    throw new NetnsCommandError(`ip ${args.join(' ')}`, err.stderr ?? err.message ?? '', { cause: e });
  }
}

/** Sets sysctl `key` (`net.ipv4.…`) to `value` inside namespace `ns` (network sysctls are per namespace), through /proc/sys: no `sysctl` binary needed. */
async function sysctl(ns: string, key: string, value: string): Promise<void> {
  if (!/^[a-z0-9_.]+$/.test(key) || !/^[0-9]+$/.test(value)) throw new RangeError(`bad sysctl ${key}=${value}`);
  await ip(['netns', 'exec', ns, 'sh', '-c', `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`]);
}

/** Resolves when network namespaces and veth pairs can be made here; rejects with NetnsUnavailableError saying why. */
export async function checkNetns(): Promise<void> {
  if (process.platform !== 'linux') throw new NetnsUnavailableError(`this is ${process.platform}, not Linux`);
  if (process.getuid?.() !== 0) throw new NetnsUnavailableError('not running as root (ip netns and veth pairs need CAP_NET_ADMIN and CAP_SYS_ADMIN)');
  const probe = `${NETNS_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}-probe`;
  try {
    await ip(['netns', 'add', probe]);
    await ip(['-n', probe, 'link', 'add', 'name', 'a', 'type', 'veth', 'peer', 'name', 'b']);
  } catch (e) {
    throw new NetnsUnavailableError(e instanceof Error ? e.message : String(e), { cause: e });
  } finally {
    await ip(['netns', 'delete', probe]).catch(() => undefined);
  }
}

/** Deletes namespaces of earlier runs whose owner process is gone (a killed test or script). */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const line of (await ip(['netns', 'list'])).split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const pid = ownerPid(ns);
    if (pid === undefined || pidAlive(pid)) continue;
    await ip(['netns', 'delete', ns]).catch(() => undefined);
    removed.push(ns);
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One host of the network. */
export interface Host {
  /** `h1`, `h2`, … */
  name: string;
  /** Its network namespace. */
  ns: string;
  /** Its address on the network. */
  address: string;
}

/** A network of `hosts` namespaces joined by a bridge, reachable from this process. */
export class VirtualNetwork {
  private readonly partitioned = new Set<string>();
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();

  private constructor(readonly layout: NetLayout) {
    process.once('exit', this.onExit);
  }

  /** Builds the network; on failure removes what it made and rethrows. */
  static async create(hosts: number, random: () => number = Math.random): Promise<VirtualNetwork> {
    await removeStaleNamespaces();
    const taken = prefixesIn((await ip(['-4', 'route', 'show', 'table', 'all'])) + (await ip(['-4', '-o', 'addr'])));
    const subnet = pickSubnet(taken, random);
    if (subnet === undefined) throw new NoFreeSubnetError(64);
    const net = new VirtualNetwork(netLayout(randomBytes(3).toString('hex'), process.pid, subnet, hosts));
    try {
      await net.build();
      return net;
    } catch (e) {
      await net.destroy();
      throw e;
    }
  }

  /** The hosts, in order. */
  get hosts(): Host[] {
    return this.layout.hosts.map((h) => ({ name: h.name, ns: h.ns, address: h.address }));
  }

  /** This process's address on the network. */
  get rootAddress(): string {
    return this.layout.rootAddress;
  }

  private async build(): Promise<void> {
    const { switchNs, rootLink } = this.layout;
    await ip(['netns', 'add', switchNs]);
    await ip(['-n', switchNs, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    await ip(['-n', switchNs, 'link', 'set', 'dev', 'br0', 'up']);
    await ip(['-n', switchNs, 'link', 'set', 'dev', 'lo', 'up']);
    for (const h of this.layout.hosts) {
      await ip(['netns', 'add', h.ns]);
      await ip(['-n', switchNs, 'link', 'add', 'name', h.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
      await ip(['-n', switchNs, 'link', 'set', 'dev', h.port, 'master', 'br0']);
      await ip(['-n', switchNs, 'link', 'set', 'dev', h.port, 'up']);
      await ip(['-n', h.ns, 'link', 'set', 'dev', 'lo', 'up']);
      await ip(['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      await ip(['-n', h.ns, 'link', 'set', 'dev', 'eth0', 'up']);
      await sysctl(h.ns, 'net.ipv4.tcp_retries2', String(HOST_TCP_RETRIES2));
    }
    await ip(['link', 'add', 'name', rootLink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', switchNs]);
    await ip(['-n', switchNs, 'link', 'set', 'dev', 'uplink', 'master', 'br0']);
    await ip(['-n', switchNs, 'link', 'set', 'dev', 'uplink', 'up']);
    await ip(['addr', 'add', `${this.layout.rootAddress}/24`, 'dev', rootLink]);
    await ip(['link', 'set', 'dev', rootLink, 'up']);
  }

  /** The host called `name` (`h1`…); throws for an unknown name. */
  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new RangeError(`no host ${name} in this network (${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** The host whose address is `address`, if any. */
  hostAt(address: string): Host | undefined {
    return this.hosts.find((h) => h.address === address);
  }

  /** The command line that runs `command args` inside `host`'s namespace. */
  command(host: Host, command: string, args: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', host.ns, command, ...args]];
  }

  /** Runs `command args` inside `host` and resolves with its stdout (rejects on a non-zero exit or after `timeoutMs`). */
  async exec(host: Host, command: string, args: string[], timeoutMs = 10_000): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', host.ns, command, ...args], { encoding: 'utf8', timeout: timeoutMs });
    return stdout;
  }

  /** Cuts `host` off: its switch port goes down, so nothing reaches it or leaves it. */
  async partition(host: Host): Promise<void> {
    await ip(['-n', this.layout.switchNs, 'link', 'set', 'dev', this.port(host), 'down']);
    this.partitioned.add(host.name);
  }

  /** Joins `host` again. */
  async heal(host: Host): Promise<void> {
    await ip(['-n', this.layout.switchNs, 'link', 'set', 'dev', this.port(host), 'up']);
    this.partitioned.delete(host.name);
  }

  /** True while `host` is partitioned. */
  isPartitioned(host: Host): boolean {
    return this.partitioned.has(host.name);
  }

  private port(host: Host): string {
    const h = this.layout.hosts.find((x) => x.name === host.name);
    if (h === undefined) throw new RangeError(`no host ${host.name} in this network`);
    return h.port;
  }

  /** Removes every namespace and link of the network (stop the processes inside first). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.off('exit', this.onExit);
    await ip(['link', 'delete', 'dev', this.layout.rootLink]).catch(() => undefined);
    for (const ns of [...this.layout.hosts.map((h) => h.ns), this.layout.switchNs]) await ip(['netns', 'delete', ns]).catch(() => undefined);
  }

  /** `destroy`, synchronously: for process exit handlers. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const quiet = (args: string[]): void => {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // already gone
      }
    };
    quiet(['link', 'delete', 'dev', this.layout.rootLink]);
    for (const ns of [...this.layout.hosts.map((h) => h.ns), this.layout.switchNs]) quiet(['netns', 'delete', ns]);
  }
}
