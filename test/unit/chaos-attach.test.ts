// `nesos chaos --attach`, the pure parts: which command lines are a cluster's masters and
// agents (cluster name and NATS servers, flags or NESOS_* variables), and which fault
// kinds an attached run uses, leaves out or refuses.
import { describe, expect, it } from 'vitest';
import { ATTACH_FAULT_KINDS, attachKinds, type LocalFacts } from '../../bin/chaos/attach-faults.js';
import { belongsTo, natsEndpoint, natsEndpoints, parseNesosCommand } from '../../bin/chaos/attach-procs.js';
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

describe('attachKinds', () => {
  const full: LocalFacts = {
    masters: [
      { id: 'm1', pid: 1, leading: true, signalable: true },
      { id: 'm2', pid: 2, leading: false, signalable: true },
    ],
    agents: [{ id: 'a1', pid: 3, registered: true, signalable: true }],
  };

  it('uses every attachable kind when the processes are here, and never a kill of the cluster\'s own processes', () => {
    expect(attachKinds(undefined, full)).toEqual({ kinds: [...ATTACH_FAULT_KINDS], dropped: [] });
    for (const k of ['kill-leader', 'kill-standby', 'kill-agent', 'kill-nats'] as const) expect(ATTACH_FAULT_KINDS).not.toContain(k);
  });

  it('leaves out, with the reason, what this machine cannot give: no standby, no local agent, no PING answer', () => {
    const facts: LocalFacts = { masters: [{ id: 'm1', pid: 1, leading: true, signalable: true }, { id: undefined, pid: 9, leading: undefined, signalable: true }], agents: [] };
    const r = attachKinds(undefined, facts);
    expect(r.kinds).toEqual(['stop-leader', 'kill-framework', 'stop-framework']);
    expect(r.dropped.map((d) => d.kind)).toEqual(['stop-standby', 'stop-agent', 'kill-executor']);
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
    const e = refuse(['kill-agent'], full);
    expect(e).toBeInstanceOf(FaultNotApplicableError);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as FaultNotApplicableError).kind).toBe('kill-agent');
    expect((e as Error).message).toMatch(/^--faults kill-agent cannot be applied: .*Use stop-agent/);
    const noPerm = refuse(['stop-agent'], { ...full, agents: [{ id: 'a1', pid: 3, registered: true, signalable: false }] });
    expect((noPerm as Error).message).toContain('may not signal');
    expect((refuse(['stop-standby'], { ...full, masters: [full.masters[0]!] }) as Error).message).toContain('no standby master');
  });
});
