// `nesos chaos --attach`, the pure parts: which command lines are a cluster's masters and
// agents (cluster name and NATS servers, flags or NESOS_* variables), which of them a
// `nesos up` restarts, and which fault kinds an attached run uses, leaves out or refuses
// (kills only of what is restarted).
import { describe, expect, it } from 'vitest';
import { ATTACH_FAULT_KINDS, attachKinds, type LocalFacts } from '../../bin/chaos/attach-faults.js';
import { belongsTo, isRestartedBy, natsEndpoint, natsEndpoints, parseNesosCommand, parseUpCommand } from '../../bin/chaos/attach-procs.js';
import { FaultNotApplicableError } from '../../bin/chaos/errors.js';
import { UsageError } from '../../bin/errors.js';

const NODE = '/usr/bin/node';
const BIN = '/repo/dist/bin/nesos.js';

describe('parseNesosCommand', () => {
  it('reads role, id, cluster, NATS servers and an agent\'s work dir from the flags', () => {
    const argv = [NODE, BIN, 'agent', '--id', 'agent-1', '--work-dir', 'work/a1', '--nats', 'nats://localhost:4300,nats://10.0.0.2:4222', '--cluster', 'prod'];
    expect(parseNesosCommand(argv, {}, '/srv')).toEqual({ role: 'agent', id: 'agent-1', cluster: 'prod', endpoints: ['loopback:4300', '10.0.0.2:4222'], workDir: '/srv/work/a1' });
    expect(parseNesosCommand([NODE, BIN, 'master', '--id=m1', '--cluster=c'], {}, '/')).toMatchObject({ role: 'master', id: 'm1', cluster: 'c' });
  });

  it('falls back to NESOS_CLUSTER and NESOS_NATS, then to local on nats://127.0.0.1:4222', () => {
    expect(parseNesosCommand([NODE, BIN, 'master'], { NESOS_CLUSTER: 'e', NESOS_NATS: 'nats://h:5000' }, '/')).toMatchObject({ cluster: 'e', endpoints: ['h:5000'] });
    expect(parseNesosCommand([NODE, BIN, 'agent'], {}, '/home/u')).toEqual({ role: 'agent', cluster: 'local', endpoints: ['loopback:4222'], workDir: '/home/u/.nesos/agent' });
  });

  it('is not fooled by other commands, other scripts, or npx\'s own process', () => {
    expect(parseNesosCommand([NODE, BIN, 'up', '--cluster', 'c'], {}, '/')).toBeUndefined();
    expect(parseNesosCommand([NODE, BIN, 'chaos', '--attach', '--cluster', 'c'], {}, '/')).toBeUndefined();
    expect(parseNesosCommand([NODE, '/x/actors/executor/main.js', 'master'], {}, '/')).toBeUndefined();
    expect(parseNesosCommand([NODE, '/usr/lib/node_modules/npm/bin/npm-cli.js', 'exec', 'nesos', 'master'], {}, '/')).toBeUndefined();
    expect(parseNesosCommand([NODE, '/p/node_modules/.bin/nesos', 'master', '--id', 'x'], {}, '/')).toMatchObject({ role: 'master', id: 'x' });
  });
});

describe('natsEndpoint and belongsTo', () => {
  it('treats every loopback name as one host and 4222 as the default port', () => {
    expect(natsEndpoint('nats://127.0.0.1:4222')).toBe('loopback:4222');
    expect(natsEndpoint('nats://localhost')).toBe('loopback:4222');
    expect(natsEndpoint('tls://user:pw@Example.org:7422')).toBe('example.org:7422');
    expect(natsEndpoint('http://x:1')).toBeUndefined();
    expect(natsEndpoints('nats://a:1, nats://b:2')).toEqual(['a:1', 'b:2']);
  });

  it('needs the same cluster name and one NATS server in common', () => {
    const c = parseNesosCommand([NODE, BIN, 'master', '--cluster', 'local', '--nats', 'nats://127.0.0.1:4223'], {}, '/')!;
    expect(belongsTo(c, 'local', ['loopback:4223'])).toBe(true);
    expect(belongsTo(c, 'local', ['loopback:4222'])).toBe(false); // another `nesos up --port`, same default name
    expect(belongsTo(c, 'other', ['loopback:4223'])).toBe(false);
  });
});

describe('parseUpCommand and isRestartedBy', () => {
  const agent = parseNesosCommand([NODE, BIN, 'agent', '--id', 'agent-1', '--nats', 'nats://127.0.0.1:4300', '--cluster', 'c'], {}, '/')!;
  const up = (...args: string[]) => parseUpCommand([NODE, BIN, 'up', ...args], {});

  it('reads the cluster, the nats-server port and --no-restart of `nesos up`', () => {
    expect(up('--port', '4300', '--cluster', 'c')).toEqual({ cluster: 'c', endpoint: 'loopback:4300', restarts: true });
    expect(up('--no-restart')).toEqual({ cluster: 'local', endpoint: 'loopback:4222', restarts: false });
    expect(parseUpCommand([NODE, BIN, 'up'], { NESOS_CLUSTER: 'e' })?.cluster).toBe('e');
    expect(parseUpCommand([NODE, BIN, 'agent', '--cluster', 'c'], {})).toBeUndefined();
    expect(parseUpCommand(['/usr/bin/node', '/x/vitest.mjs', 'up'], {})).toBeUndefined();
  });

  it('needs NESOS_RESTART=on-failure and a restarting `nesos up` of the same cluster and NATS server as parent', () => {
    const env = { NESOS_RESTART: 'on-failure' };
    expect(isRestartedBy(agent, env, up('--port', '4300', '--cluster', 'c'))).toBe(true);
    expect(isRestartedBy(agent, env, up('--port', '4300', '--cluster', 'c', '--no-restart'))).toBe(false);
    expect(isRestartedBy(agent, { NESOS_RESTART: 'no' }, up('--port', '4300', '--cluster', 'c'))).toBe(false);
    expect(isRestartedBy(agent, {}, up('--port', '4300', '--cluster', 'c'))).toBe(false); // a `nesos up` that does not restart
    expect(isRestartedBy(agent, env, up('--port', '4301', '--cluster', 'c'))).toBe(false);
    expect(isRestartedBy(agent, env, up('--port', '4300', '--cluster', 'd'))).toBe(false);
    expect(isRestartedBy(agent, env, undefined)).toBe(false); // started by something else (a test, systemd, a shell)
  });
});

describe('attachKinds', () => {
  const full: LocalFacts = {
    masters: [
      { id: 'm1', pid: 1, leading: true, signalable: true, restarted: true },
      { id: 'm2', pid: 2, leading: false, signalable: true, restarted: true },
    ],
    agents: [{ id: 'a1', pid: 3, registered: true, signalable: true, restarted: true }],
  };
  const notRestarted: LocalFacts = { masters: full.masters.map((m) => ({ ...m, restarted: false })), agents: full.agents.map((a) => ({ ...a, restarted: false })) };

  it('uses every attachable kind when the processes are here and restarted by nesos up; never kill-nats', () => {
    expect(attachKinds(undefined, full)).toEqual({ kinds: [...ATTACH_FAULT_KINDS], dropped: [] });
    for (const k of ['kill-leader', 'kill-standby', 'kill-agent'] as const) expect(ATTACH_FAULT_KINDS).toContain(k);
    expect(ATTACH_FAULT_KINDS).not.toContain('kill-nats');
  });

  it('leaves the kills out, saying why, when nothing restarts the processes', () => {
    const r = attachKinds(undefined, notRestarted);
    expect(r.dropped.map((d) => d.kind)).toEqual(['kill-leader', 'kill-standby', 'kill-agent']);
    expect(r.kinds).toEqual(ATTACH_FAULT_KINDS.filter((k) => !k.startsWith('kill-') || k === 'kill-executor' || k === 'kill-framework'));
    expect(r.dropped[2]?.reason).toContain('nothing would restart the local agents after a SIGKILL (pid 3)');
    // One restarted standby is enough for kill-standby, not for kill-leader.
    const mixed = attachKinds(undefined, { ...notRestarted, masters: [notRestarted.masters[0]!, full.masters[1]!] });
    expect(mixed.dropped.map((d) => d.kind)).toEqual(['kill-leader', 'kill-agent']);
  });

  it('leaves out, with the reason, what this machine cannot give: no standby, no local agent, no PING answer', () => {
    const facts: LocalFacts = { masters: [{ id: 'm1', pid: 1, leading: true, signalable: true, restarted: true }, { id: undefined, pid: 9, leading: undefined, signalable: true, restarted: true }], agents: [] };
    const r = attachKinds(undefined, facts);
    expect(r.kinds).toEqual(['kill-leader', 'stop-leader', 'kill-framework', 'stop-framework']);
    expect(r.dropped.map((d) => d.kind)).toEqual(['kill-standby', 'stop-standby', 'kill-agent', 'stop-agent', 'kill-executor']);
    expect(r.dropped[0]?.reason).toContain('pid 9 without --id');
  });

  it('refuses a kind asked for with --faults that cannot be applied, naming it and the fix; a usage error', () => {
    expect(attachKinds(['stop-leader', 'kill-framework'], full).kinds).toEqual(['stop-leader', 'kill-framework']);
    const refuse = (asked: Parameters<typeof attachKinds>[0], facts: LocalFacts) => {
      try {
        attachKinds(asked, facts);
      } catch (e) {
        return e;
      }
      throw new Error('not refused');
    };
    expect(attachKinds(['kill-leader', 'kill-agent'], full).kinds).toEqual(['kill-leader', 'kill-agent']);
    const e = refuse(['kill-agent'], notRestarted);
    expect(e).toBeInstanceOf(FaultNotApplicableError);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as FaultNotApplicableError).kind).toBe('kill-agent');
    expect((e as Error).message).toMatch(/^--faults kill-agent cannot be applied: nothing would restart .*Use stop-agent .*run the cluster with `nesos up`/);
    expect((refuse(['kill-leader'], notRestarted) as Error).message).toContain('Use stop-leader');
    expect((refuse(['kill-nats'], full) as Error).message).toContain("nats-servers are left alone");
    const noPerm = refuse(['stop-agent'], { ...full, agents: [{ id: 'a1', pid: 3, registered: true, signalable: false, restarted: true }] });
    expect((noPerm as Error).message).toContain('may not signal');
    expect((refuse(['stop-standby'], { ...full, masters: [full.masters[0]!] }) as Error).message).toContain('no standby master');
  });
});
