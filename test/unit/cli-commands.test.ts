// The pure parts of the operator commands: flag parsing, finding things in the state,
// filtering tasks, tables and the `top` screen.
import { checkAdvertiseUrl } from '../../bin/commands/master.js';
import { describe, expect, it } from 'vitest';
import { UsageError, NotFoundError, AmbiguousError } from '../../bin/errors.js';
import { findAgent, findFramework, findTask } from '../../bin/commands/find.js';
import { parseDuration, parseTime } from '../../bin/commands/maintenance.js';
import { parseWeights } from '../../bin/commands/roles.js';
import { age, table } from '../../bin/commands/table.js';
import { filterTasks, parseStates } from '../../bin/commands/tasks.js';
import { renderTop } from '../../bin/commands/top.js';
import { usage } from '../../bin/commands/agents.js';
import { summarize } from '../../actors/http/summary.js';
import { FakeOperatorSource } from '../helpers/fake-operator-source.js';

function cluster() {
  const src = new FakeOperatorSource({ cluster: 'demo' });
  src.addAgent('agent-1', 'cpus:4;mem:4096', 'host-a');
  src.addAgent('agent-2', 'cpus:2;mem:2048', 'host-b');
  src.addFramework('fw-web', 'web');
  src.addFramework('fw-batch', 'batch');
  src.launchTask('t-1', 'fw-web', 'agent-1', 'cpus:1;mem:512', 'server');
  src.updateTask('t-1', 'TASK_RUNNING');
  src.launchTask('t-2', 'fw-batch', 'agent-2', 'cpus:0.5;mem:128', 'job');
  src.updateTask('t-2', 'TASK_FAILED', { exitCode: 3 });
  src.launchTask('t-3', 'fw-batch', 'agent-1', 'cpus:0.5;mem:128', 'job2');
  src.state.agents[0]!.available = 'cpus:2.5;mem:3456';
  return src.state;
}

describe('finding tasks, agents and frameworks', () => {
  const state = cluster();
  it('by id, name or hostname, or a unique prefix', () => {
    expect(findTask(state, 't-1').name).toBe('server');
    expect(findTask(state, 'job').taskId).toBe('t-2');
    expect(findAgent(state, 'host-b').id).toBe('agent-2');
    expect(findFramework(state, 'fw-w').id).toBe('fw-web');
  });

  it('says what to run when nothing or several match', () => {
    expect(() => findTask(state, 'nope')).toThrow(NotFoundError);
    expect(() => findTask(state, 'nope')).toThrow(/nesos tasks --all/);
    expect(() => findAgent(state, 'agent-')).toThrow(AmbiguousError);
    expect(() => findAgent(state, 'agent-')).toThrow(/give the full id/);
  });
});

describe('tasks filters', () => {
  const state = cluster();
  it('show running (non-terminal) tasks by default, everything with --all', () => {
    expect(filterTasks(state, {}).map((t) => t.taskId)).toEqual(['t-1', 't-3']);
    expect(filterTasks(state, { all: true }).map((t) => t.taskId)).toEqual(['t-1', 't-3', 't-2']);
  });

  it('take states as running or TASK_RUNNING, lists, and the groups active and completed', () => {
    expect(filterTasks(state, { state: 'failed' }).map((t) => t.taskId)).toEqual(['t-2']);
    expect(filterTasks(state, { state: 'TASK_RUNNING,staging' }).map((t) => t.taskId)).toEqual(['t-1', 't-3']);
    expect(filterTasks(state, { state: 'completed' }).map((t) => t.taskId)).toEqual(['t-2']);
    expect(() => parseStates('sleepy')).toThrow(UsageError);
  });

  it('resolve framework and agent names', () => {
    expect(filterTasks(state, { all: true, framework: 'batch', agent: 'host-a' }).map((t) => t.taskId)).toEqual(['t-3']);
  });
});

describe('flag parsers', () => {
  it('weights are ROLE=WEIGHT with a positive weight', () => {
    expect(parseWeights(['eng=2', 'a/b=0.5'])).toEqual([
      { role: 'eng', weight: 2 },
      { role: 'a/b', weight: 0.5 },
    ]);
    expect(() => parseWeights(['eng'])).toThrow(/ROLE=WEIGHT/);
    expect(() => parseWeights(['eng=0'])).toThrow(UsageError);
    expect(() => parseWeights(['bad role=1'])).toThrow(/not a role name/);
  });

  it('times are now, +duration or ISO; durations carry a unit', () => {
    const now = 1_000_000;
    expect(parseTime('--start', 'now', now)).toBe(now);
    expect(parseTime('--start', '+30m', now)).toBe(now + 30 * 60_000);
    expect(parseTime('--start', '2030-01-01T00:00:00Z', now)).toBe(Date.UTC(2030, 0, 1));
    expect(() => parseTime('--start', 'tomorrow', now)).toThrow(/--start "tomorrow"/);
    expect(parseDuration('--duration', '2h')).toBe(7_200_000);
    expect(() => parseDuration('--duration', '2')).toThrow(UsageError);
  });
});

describe('output', () => {
  it('tables pad columns and cut long cells', () => {
    expect(table(['ID', 'NAME'], [['a', 'x'.repeat(10)], ['bbb', undefined]], 6)).toBe('ID    NAME\na     xxxxx…\nbbb   -\n');
  });

  it('ages read as s, m, h, d', () => {
    expect(age(10_000, 40_000)).toBe('30s');
    expect(age(0, 40_000)).toBe('-');
    expect(age(0 + 1, 1 + 3 * 3_600_000)).toBe('3h');
  });

  it('agents show used/total per resource, used being everything not available', () => {
    const state = cluster();
    // agent-1: cpus 4 total, 2.5 available → 1.5 used
    expect(usage(state.agents[0]!, 'cpus')).toBe('1.5/4');
    expect(usage(state.agents[0]!, 'disk')).toBe('-');
  });

  it('top draws the leader, resources and recently changed tasks', () => {
    const state = cluster();
    const screen = renderTop(state, summarize(state), 5, Date.UTC(2030, 0, 1, 12, 0, 0));
    expect(screen).toContain('cluster demo, master master-1 (epoch 7), 12:00:00');
    expect(screen).toContain('tasks: staging 1, running 1, failed 1');
    expect(screen).toMatch(/^cpus\s+6\s+1.5\s+0\s+4.5\s+25%$/m);
    expect(screen).toMatch(/^TASK\s+STATE/m);
  });
});

describe('nesos master --advertise-url', () => {
  it('takes an http(s) URL (without a trailing slash) and names the flag and the fix otherwise', () => {
    expect(checkAdvertiseUrl('http://10.0.0.5:5050/')).toBe('http://10.0.0.5:5050');
    expect(checkAdvertiseUrl('https://nesos.example.com')).toBe('https://nesos.example.com');
    expect(() => checkAdvertiseUrl('10.0.0.5:5050')).toThrow(/--advertise-url "10.0.0.5:5050" (is not a URL|must start with http)/);
    expect(() => checkAdvertiseUrl('ftp://x')).toThrow(/--advertise-url "ftp:\/\/x" must start with http:\/\/ or https:\/\//);
  });
});
