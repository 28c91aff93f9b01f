/**
 * The names and addresses of a virtual network (pure): namespaces named after the run and
 * the pid that owns it (so that a later run can remove what a killed one left), and a
 * private 10.x.y.0/24 that overlaps none of this machine's routes.
 */

/** Prefix of every namespace a run creates: `nesos-<pid>-<run id>-…`. */
export const NETNS_PREFIX = 'nesos-';

/** Names and addresses of one run's network. */
export interface NetLayout {
  /** Random hex, unique per run. */
  runId: string;
  /** The switch namespace (holds the bridge `br0` and one port per host, `h1`…, and `up`). */
  switchNs: string;
  /** The root namespace's end of the link to the switch. */
  rootLink: string;
  /** The first three octets, e.g. `10.77.12`. */
  subnet: string;
  /** This (root) namespace's address on the network: `<subnet>.254`. */
  rootAddress: string;
  hosts: Array<{ name: string; ns: string; address: string; port: string }>;
}

/** The layout of `hosts` hosts for run `runId` owned by `pid`, on `subnet` (`10.x.y`). */
export function netLayout(runId: string, pid: number, subnet: string, hosts: number): NetLayout {
  const base = `${NETNS_PREFIX}${pid}-${runId}`;
  return {
    runId,
    switchNs: `${base}-sw`,
    rootLink: `nz${runId}`.slice(0, 15),
    subnet,
    rootAddress: `${subnet}.254`,
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `h${i + 1}`, ns: `${base}-h${i + 1}`, address: `${subnet}.${i + 1}`, port: `h${i + 1}` })),
  };
}

/** The owner pid of a namespace this module named, or undefined for any other name. */
export function ownerPid(ns: string): number | undefined {
  const m = /^nesos-(\d+)-[0-9a-f]+-/.exec(ns);
  return m === null ? undefined : Number(m[1]);
}

/** An IPv4 prefix, as `[address as a number, length]`. */
type Prefix = [number, number];

function toNumber(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** The prefixes (`a.b.c.d/n`, or a bare address as /32) found in `ip -4 route` and `ip -4 addr` output; `default` is left out. */
export function prefixesIn(text: string): Prefix[] {
  const out: Prefix[] = [];
  for (const m of text.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const n = toNumber(m[1]!);
    if (n !== undefined) out.push([n, m[2] === undefined ? 32 : Number(m[2])]);
  }
  return out;
}

/** True when `subnet`.0/24 overlaps one of `taken`. */
export function overlaps(subnet: string, taken: readonly Prefix[]): boolean {
  const ours = toNumber(`${subnet}.0`);
  if (ours === undefined) return true;
  return taken.some(([addr, len]) => {
    const shortest = Math.min(len, 24);
    const mask = shortest === 0 ? 0 : (0xffffffff << (32 - shortest)) >>> 0;
    return ((addr & mask) >>> 0) === ((ours & mask) >>> 0);
  });
}

/** A 10.x.y subnet (x in 64–191) from `random`, overlapping none of `taken`; undefined after `tries`. */
export function pickSubnet(taken: readonly Prefix[], random: () => number, tries = 64): string | undefined {
  for (let i = 0; i < tries; i++) {
    const subnet = `10.${64 + Math.floor(random() * 128)}.${Math.floor(random() * 256)}`;
    if (!overlaps(subnet, taken)) return subnet;
  }
  return undefined;
}
