/**
 * The scheduler SDK, the library a framework author uses to run tasks on a Nesos cluster.
 *
 *     import { Scheduler, OfferPool, isTerminal } from 'nesos/scheduler';
 *
 *     const sched = await Scheduler.connect({ cluster: 'local', framework: { name: 'hello' } });
 *     sched.on('offers', async (offers) => {
 *       for (const offer of offers) {
 *         if (!offerFits(offer, 'cpus:0.1;mem:32')) { await sched.decline([offer.id]); continue; }
 *         await sched.launch(offer, [{ name: 'hello', command: 'echo hello', resources: 'cpus:0.1;mem:32' }]);
 *       }
 *     });
 *     sched.on('update', (status) => console.log(status.taskId, status.state));
 *
 * A task's updates come in order, one at a time: the next once the previous is
 * acknowledged. They are acknowledged for you once your `update` listeners resolve (a
 * listener that throws leaves the update unacknowledged, so it comes again); with
 * `acknowledge: 'manual'`, call `acknowledge(status)`. Every error says whether a retry can
 * help: `isRetryable(e)`.
 */
export { Scheduler, type SchedulerState, type WaitForOfferOptions } from './scheduler.js';
export { DEFAULTS, resolveOptions, newFrameworkId } from './options.js';
export type { AcknowledgeMode, FrameworkOptions, SchedulerOptions, ResolvedOptions } from './options.js';
export type { SchedulerEventMap, SubscribedEvent, ExecutorMessage, Failure } from './dispatch.js';
export type { Listener } from './events.js';
export { OfferPool, offerFits, offerResources, toResources, type Needs } from './offer-pool.js';
export { buildTaskInfo, buildLaunch, newTaskId, type TaskSpec, type ExecutorSpec } from './tasks.js';
export {
  SchedulerError,
  InvalidOptionsError,
  NatsUnreachableError,
  NoMasterError,
  SubscribeTimeoutError,
  SubscribeRejectedError,
  SchedulerClosedError,
  InvalidTaskError,
  TasksDoNotFitError,
  NoFittingOfferError,
  isSchedulerError,
  isNoMaster,
} from './errors.js';
/** Errors a call can throw besides the SDK's own: REJECTED answers, timeouts, no master listening, JetStream unavailable. */
export { CallRejectedError, RequestTimeoutError, NoRespondersError, BadReplyError, UpdateStreamError, isRetryable } from '../runtime/errors.js';
/** Protocol types and helpers a framework needs. */
export { Resources } from '../../protocol/resources.js';
export { TaskState, isTerminal } from '../../protocol/task-state.js';
export type { Offer, InverseOffer, Unavailability, TaskInfo, TaskStatus, CommandInfo, FrameworkInfo, ExecutorInfo } from '../../protocol/schema.js';
export type { Filters, OfferOperation, SchedulerEvent } from '../../protocol/scheduler.js';
