// The allocator's public face: the actor (a mailbox facade for the master), its pure core,
// the sorters, and the types and reasons they show. Implementation modules stay internal.
export { AllocatorActor, DEFAULT_ALLOCATION_INTERVAL_MS, type AllocatorActorOptions } from './actor.js';
export {
  AllocatorCore,
  DEFAULT_MIN_ALLOCATABLE,
  DEFAULT_REFUSE_SECONDS,
  MAX_REFUSE_MS,
  type AllocatorCoreOptions,
  type ExpiredOffer,
  type FrameworkOptions,
  type OfferDecision,
} from './core.js';
export { DrfSorter } from './drf-sorter.js';
export { RandomSorter } from './random-sorter.js';
export { HierarchicalSorter } from './hierarchical-sorter.js';
export type { Sorter, SorterFactory } from './sorter.js';
export { AgentVerdict, NotOfferedReason, type Explanation } from './explain.js';
export type { ResourceOperation } from './operations.js';
export { quotaFromText, type Quota } from './quota.js';
export { parseMinAllocatable } from './quantities.js';
export { DEFAULT_ROLE } from './roles.js';
export { quantitiesText, type FrameworkView, type RoleView } from './views.js';
export * from './errors.js';
