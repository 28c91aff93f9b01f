import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { IllegalTransitionError } from '../../protocol/errors.js';
import { TASK_TRANSITIONS, canTransition, nextTaskState, taskLifecycleMachine } from '../../protocol/task-lifecycle.js';
import { ALL_TASK_STATES, TaskState, isTerminal } from '../../protocol/task-state.js';

const S = TaskState;

describe('task states', () => {
  it('marks exactly Mesos terminal states as terminal', () => {
    const terminal = ALL_TASK_STATES.filter(isTerminal).sort();
    expect(terminal).toEqual(
      [S.FINISHED, S.FAILED, S.KILLED, S.ERROR, S.LOST, S.DROPPED, S.GONE, S.GONE_BY_OPERATOR].sort(),
    );
    expect(isTerminal(S.UNREACHABLE)).toBe(false);
    expect(isTerminal(S.KILLING)).toBe(false);
  });
});

describe('task lifecycle', () => {
  it('allows the normal launch path', () => {
    let s: TaskState = S.STAGING;
    for (const next of [S.STARTING, S.RUNNING, S.RUNNING, S.KILLING, S.KILLED]) s = nextTaskState(s, next);
    expect(s).toBe(S.KILLED);
  });

  it('refuses to leave a terminal state', () => {
    for (const from of ALL_TASK_STATES.filter(isTerminal)) {
      for (const to of ALL_TASK_STATES) expect(canTransition(from, to)).toBe(false);
    }
    expect(() => nextTaskState(S.FINISHED, S.RUNNING)).toThrow(IllegalTransitionError);
  });

  it('refuses going back to STAGING or STARTING from RUNNING', () => {
    expect(canTransition(S.RUNNING, S.STAGING)).toBe(false);
    expect(canTransition(S.RUNNING, S.STARTING)).toBe(false);
    expect(canTransition(S.KILLING, S.RUNNING)).toBe(false);
  });

  it('allows ERROR only before launch and UNREACHABLE tasks to come back', () => {
    expect(canTransition(S.STAGING, S.ERROR)).toBe(true);
    expect(canTransition(S.RUNNING, S.ERROR)).toBe(false);
    expect(canTransition(S.UNREACHABLE, S.RUNNING)).toBe(true);
    // a repeat: a new leader cannot know an earlier one said so already
    expect(canTransition(S.UNREACHABLE, S.UNREACHABLE)).toBe(true);
    expect(canTransition(S.UNREACHABLE, S.STAGING)).toBe(false);
  });

  it('never enters UNKNOWN', () => {
    for (const from of ALL_TASK_STATES) expect(canTransition(from, S.UNKNOWN)).toBe(false);
  });

  it('agrees with its transition table for every pair of states', () => {
    for (const from of ALL_TASK_STATES) {
      for (const to of ALL_TASK_STATES) {
        expect(canTransition(from, to), `${from} → ${to}`).toBe(TASK_TRANSITIONS[from].includes(to));
      }
    }
  });

  it('runs as an xstate actor that ignores illegal events', () => {
    const actor = createActor(taskLifecycleMachine).start();
    actor.send({ type: S.RUNNING });
    actor.send({ type: S.STAGING });
    expect(actor.getSnapshot().value).toBe(S.RUNNING);
    actor.send({ type: S.FINISHED });
    expect(actor.getSnapshot().status).toBe('done');
    actor.stop();
  });
});
