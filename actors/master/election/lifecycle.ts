/**
 * The master's lifecycle as an xstate v5 machine: standby → leading → stepping down →
 * standby, and stopped from anywhere. It holds the term's epoch and nothing else; it does
 * no I/O. The election core moves it with the pure `transition`, so an illegal move (say,
 * leading twice, or stepping down a standby) is refused in one place.
 */
import { assign, setup, transition, type SnapshotFrom } from 'xstate';

/** What can happen to a master's role. */
export type LifecycleEvent =
  /** This master won a term with `epoch`. */
  | { type: 'ELECTED'; epoch: number }
  /** This master must stop acting as leader (`reason` for the logs). */
  | { type: 'DEPOSED'; reason: string }
  /** The shell has stopped everything the leader ran. */
  | { type: 'STEPPED_DOWN' }
  /** The process is stopping. */
  | { type: 'STOP' };

/** The master lifecycle machine. */
export const masterLifecycle = setup({
  types: { context: {} as { epoch: number }, events: {} as LifecycleEvent },
  actions: {
    rememberEpoch: assign({ epoch: ({ event }) => (event.type === 'ELECTED' ? event.epoch : 0) }),
  },
}).createMachine({
  id: 'master',
  initial: 'standby',
  context: { epoch: 0 },
  states: {
    standby: {
      on: {
        ELECTED: { target: 'leading', actions: 'rememberEpoch' },
        STOP: 'stopped',
      },
    },
    leading: { on: { DEPOSED: 'steppingDown', STOP: 'stopped' } },
    steppingDown: { on: { STEPPED_DOWN: 'standby', STOP: 'stopped' } },
    stopped: { type: 'final' },
  },
});

/** A snapshot of the lifecycle. */
export type LifecycleSnapshot = SnapshotFrom<typeof masterLifecycle>;

/** The lifecycle's states. */
export type LifecycleState = 'standby' | 'leading' | 'steppingDown' | 'stopped';

/** The state a snapshot is in. */
export function lifecycleState(snapshot: LifecycleSnapshot): LifecycleState {
  return snapshot.value as LifecycleState;
}

/** The next snapshot after `event`, or undefined when the event is illegal in this state. */
export function nextLifecycle(snapshot: LifecycleSnapshot, event: LifecycleEvent): LifecycleSnapshot | undefined {
  if (!snapshot.can(event)) return undefined;
  return transition(masterLifecycle, snapshot, event)[0];
}
