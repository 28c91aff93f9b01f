/**
 * The resources an agent offers: `--resources` text (Mesos syntax), with every standard
 * kind it leaves out detected from the machine, as Mesos does: cpus = logical CPUs;
 * mem = total MB minus min(1 GiB, half); disk = free MB of the work dir's file system
 * minus min(5 GiB, half); ports = [31000-32000].
 */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { Resources } from '../../protocol/resources.js';
import { AgentConfigError } from './errors.js';

/** The resource kinds filled in from detection when `--resources` does not name them. */
export const DETECTED_KINDS = ['cpus', 'mem', 'disk', 'ports'] as const;

/** Facts about the machine that detection uses (measured by `measureMachine`). */
export interface MachineFacts {
  cpus: number;
  totalMemoryBytes: number;
  freeDiskBytes: number;
}

const MB = 1024 * 1024;

/** Reads CPU count, memory and the free space of `workDir`'s file system. */
export async function measureMachine(workDir: string): Promise<MachineFacts> {
  const fs = await statfs(workDir);
  return { cpus: os.cpus().length || 1, totalMemoryBytes: os.totalmem(), freeDiskBytes: fs.bavail * fs.bsize };
}

/** The resources Mesos would detect on a machine with these facts. */
export function detectedResources(facts: MachineFacts): Resources {
  const memMb = Math.floor(facts.totalMemoryBytes / MB);
  const diskMb = Math.floor(facts.freeDiskBytes / MB);
  const mem = memMb - Math.min(1024, Math.floor(memMb / 2));
  const disk = diskMb - Math.min(5 * 1024, Math.floor(diskMb / 2));
  return Resources.parse(`cpus:${facts.cpus};mem:${mem};disk:${disk};ports:[31000-32000]`);
}

/** `--resources` text with the kinds it leaves out taken from `detected`. Throws AgentConfigError naming the flag. */
export function mergeResources(text: string | undefined, detected: Resources): Resources {
  if (text === undefined || text.trim() === '') return detected;
  const parsed = Resources.tryParse(text);
  if (!parsed.ok) throw new AgentConfigError('--resources', `invalid --resources "${text}": ${parsed.error.message}`, { cause: parsed.error });
  const given = new Set(parsed.value.entries().map((e) => e.name));
  return parsed.value.add(Resources.fromWire(detected.toWire().filter((w) => !given.has(w.name))));
}

/** The agent's resources: `--resources` merged over what the machine has. */
export async function resolveResources(text: string | undefined, workDir: string): Promise<Resources> {
  return mergeResources(text, detectedResources(await measureMachine(workDir)));
}
