/** The public face of the protocol: everything actors and frameworks share. */
export * from './errors.js';
export * from './subjects.js';
export * from './codec.js';
export * from './union.js';
export * from './schema.js';
export * from './replies.js';
export * from './scheduler.js';
export * from './agent.js';
export * from './executor.js';
export * from './files.js';
export * from './task-state.js';
export * from './task-lifecycle.js';
export * from './resources.js';
export * from './resource-errors.js';
export * from './operator.js';
export * from './leader.js';
export * from './buckets.js';
