/**
 * `nesos roles`, `nesos quota` and `nesos weights`: the allocator's roles, their quota
 * (guarantee and limit) and weights, read and changed through the operator API (GET_ROLES,
 * GET/UPDATE_QUOTA, GET/UPDATE_WEIGHTS). A master that does not answer these yet is reported
 * as such (NotSupportedError), naming the call.
 */
import { Command } from 'commander';
import { Resources } from '../../protocol/resources.js';
import { RoleName } from '../../protocol/operator-api.js';
import { UsageError } from '../errors.js';
import { withOperator, withOperatorOptions, type OperatorFlags } from './operator-client.js';
import { printJson, table } from './table.js';

function checkRole(role: string): string {
  if (!RoleName.safeParse(role).success) throw new UsageError(`role "${role}" is not a role name: use "*" or a path like eng/web`);
  return role;
}

function checkResources(flag: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const parsed = Resources.tryParse(text);
  if (!parsed.ok) throw new UsageError(`${flag} "${text}" is not resources text: ${parsed.error.message} (e.g. ${flag} "cpus:4;mem:8192")`);
  return text;
}

/** The `roles` command. */
export function rolesCommand(): Command {
  return withOperatorOptions(new Command('roles'))
    .description('list roles: weight, quota, frameworks, allocated and offered resources, DRF share')
    .action(async (flags: OperatorFlags) => {
      await withOperator(flags, async (client, progress) => {
        const reply = await client.call({ type: 'GET_ROLES' });
        progress.stop();
        if (reply.type !== 'ROLES') return;
        if (flags.json === true) return printJson(reply.roles);
        process.stdout.write(
          table(
            ['ROLE', 'WEIGHT', 'GUARANTEE', 'LIMIT', 'FRAMEWORKS', 'ALLOCATED', 'OFFERED', 'SHARE'],
            reply.roles.map((r) => [
              r.name,
              r.weight,
              r.quota?.guarantee,
              r.quota?.limit,
              r.frameworks.length,
              r.allocated || '-',
              r.offered || '-',
              r.share === undefined ? '-' : `${(r.share * 100).toFixed(1)}%`,
            ]),
          ),
        );
      });
    });
}

interface QuotaSetFlags extends OperatorFlags {
  guarantee?: string;
  limit?: string;
}

/** The `quota` command (list; `set`; `remove`). */
export function quotaCommand(): Command {
  const cmd = withOperatorOptions(new Command('quota')).enablePositionalOptions() // options after `set` are set's
    .description("show roles' quota; `quota set <role>` and `quota remove <role>` change it")
    .action(async (flags: OperatorFlags) => {
      await withOperator(flags, async (client, progress) => {
        const reply = await client.call({ type: 'GET_QUOTA' });
        progress.stop();
        if (reply.type !== 'QUOTA') return;
        if (flags.json === true) return printJson(reply.quotas);
        if (reply.quotas.length === 0) return void process.stdout.write('No role has a quota. Set one with `nesos quota set <role> --guarantee cpus:2`.\n');
        process.stdout.write(table(['ROLE', 'GUARANTEE', 'LIMIT'], reply.quotas.map((q) => [q.role, q.guarantee, q.limit])));
      });
    });
  cmd.addCommand(
    withOperatorOptions(new Command('set'))
      .description("set a role's quota: resources it is guaranteed and never offered more than")
      .argument('<role>', 'the role')
      .option('--guarantee <resources>', 'resources the role is guaranteed, e.g. "cpus:2;mem:4096"')
      .option('--limit <resources>', 'resources the role is never given more than')
      .action(async (role: string, flags: QuotaSetFlags) => {
        checkRole(role);
        const guarantee = checkResources('--guarantee', flags.guarantee);
        const limit = checkResources('--limit', flags.limit);
        if (guarantee === undefined && limit === undefined) throw new UsageError('give --guarantee or --limit (or both); to remove a quota use `nesos quota remove <role>`');
        await withOperator(flags, async (client) => {
          await client.call({ type: 'UPDATE_QUOTA', quotas: [{ role, ...(guarantee !== undefined && { guarantee }), ...(limit !== undefined && { limit }) }] });
          if (flags.json === true) printJson({ role, guarantee, limit });
          else process.stdout.write(`quota of role ${role} set\n`);
        });
      }),
  );
  cmd.addCommand(
    withOperatorOptions(new Command('remove'))
      .description("remove a role's quota")
      .argument('<role>', 'the role')
      .action(async (role: string, flags: OperatorFlags) => {
        checkRole(role);
        await withOperator(flags, async (client) => {
          await client.call({ type: 'UPDATE_QUOTA', quotas: [{ role }] });
          if (flags.json === true) printJson({ role, removed: true });
          else process.stdout.write(`quota of role ${role} removed\n`);
        });
      }),
  );
  return cmd;
}

/** Parses `role=weight` arguments; throws UsageError naming the bad one. */
export function parseWeights(pairs: string[]): Array<{ role: string; weight: number }> {
  return pairs.map((pair) => {
    const i = pair.lastIndexOf('=');
    const weight = Number(pair.slice(i + 1));
    if (i <= 0 || !Number.isFinite(weight) || weight <= 0) throw new UsageError(`"${pair}" must look like ROLE=WEIGHT with a positive weight (e.g. eng=2)`);
    return { role: checkRole(pair.slice(0, i)), weight };
  });
}

/** The `weights` command (list; `set role=weight…`). */
export function weightsCommand(): Command {
  const cmd = withOperatorOptions(new Command('weights')).enablePositionalOptions() // options after `set` are set's
    .description("show roles' weights (a role with weight 2 gets twice the fair share of one with 1); `weights set` changes them")
    .action(async (flags: OperatorFlags) => {
      await withOperator(flags, async (client, progress) => {
        const reply = await client.call({ type: 'GET_WEIGHTS' });
        progress.stop();
        if (reply.type !== 'WEIGHTS') return;
        if (flags.json === true) return printJson(reply.weights);
        if (reply.weights.length === 0) return void process.stdout.write('Every role has the default weight 1.\n');
        process.stdout.write(table(['ROLE', 'WEIGHT'], reply.weights.map((w) => [w.role, w.weight])));
      });
    });
  cmd.addCommand(
    withOperatorOptions(new Command('set'))
      .description('set roles\' weights')
      .argument('<role=weight...>', 'e.g. eng=2 analytics=0.5')
      .action(async (pairs: string[], flags: OperatorFlags) => {
        const weights = parseWeights(pairs);
        await withOperator(flags, async (client) => {
          await client.call({ type: 'UPDATE_WEIGHTS', weights });
          if (flags.json === true) printJson(weights);
          else process.stdout.write(`weights set: ${weights.map((w) => `${w.role}=${w.weight}`).join(', ')}\n`);
        });
      }),
  );
  return cmd;
}
