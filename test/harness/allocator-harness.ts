// A harness around the allocator's pure core: builds agents and frameworks from Mesos text,
// drives allocation runs on a manual clock with a seeded Rng, declines and accepts offers,
// and prints decisions as short strings (`f1@s1(*) cpus:4;mem:1024`) that read well in tests.
import { AllocatorCore, type AllocatorCoreOptions, type FrameworkOptions, type OfferDecision } from '../../actors/allocator/core.js';
import type { Explanation } from '../../actors/allocator/explain.js';
import type { ResourceOperation } from '../../actors/allocator/operations.js';
import type { RoleView } from '../../actors/allocator/views.js';
import { createRng } from '../../actors/runtime/rng.js';
import { Resources } from '../../protocol/resources.js';

/** Parses Mesos resource text. */
export const r = (text: string): Resources => Resources.parse(text);

/** A decision as `framework@agent(role) resources`. */
export function show(d: OfferDecision): string {
  return `${d.frameworkId}@${d.agentId}(${d.role}) ${d.resources.toString()}`;
}

/** Decisions as sorted strings (order-free comparison). */
export function shown(decisions: readonly OfferDecision[]): string[] {
  return decisions.map(show).sort();
}

/** Drives an `AllocatorCore` the way the master would, on a manual clock. */
export class AllocatorHarness {
  readonly core: AllocatorCore;
  /** The manual clock, in ms. */
  now = 0;
  /** Every decision made so far, by run. */
  readonly runs: OfferDecision[][] = [];
  private readonly seed: number;

  constructor(options: AllocatorCoreOptions & { seed?: number } = {}) {
    const { seed = 1, ...core } = options;
    this.core = new AllocatorCore(core);
    this.seed = seed;
  }

  /** Adds an agent from text; `used` maps framework ids to resource text already in use. */
  agent(id: string, total: string, used: Record<string, string> = {}): this {
    this.core.addAgent(id, r(total), new Map(Object.entries(used).map(([f, text]) => [f, r(text)])), this.now);
    return this;
  }

  /** Adds a framework in `roles` (a role or a list). */
  framework(id: string, roles: string | string[] = '*', options: Omit<FrameworkOptions, 'roles'> = {}): this {
    this.core.addFramework(id, { roles: Array.isArray(roles) ? roles : [roles], ...options }, new Map(), this.now);
    return this;
  }

  /** Advances the clock by `dtMs` and runs one allocation with the harness's next seeded Rng. */
  run(dtMs = 1000): OfferDecision[] {
    this.now += dtMs;
    const decisions = this.core.allocate(this.now, createRng(this.seed + this.runs.length));
    this.runs.push(decisions);
    return decisions;
  }

  /** `run()` as sorted strings. */
  runShown(dtMs = 1000): string[] {
    return shown(this.run(dtMs));
  }

  /** Declines a decision (all its resources), optionally refusing them for `refuseSeconds`. */
  decline(d: OfferDecision, refuseSeconds?: number): void {
    this.core.recoverResources(d.frameworkId, d.agentId, d.resources, refuseSeconds, this.now, d.role);
  }

  /** Declines every decision of a run. */
  declineAll(decisions: readonly OfferDecision[], refuseSeconds?: number): void {
    for (const d of decisions) this.decline(d, refuseSeconds);
  }

  /**
   * Accepts a decision, using `used` (text) for tasks; the rest goes back with `refuseSeconds`
   * (the master's ACCEPT: unused resources are returned with the call's filter).
   */
  accept(d: OfferDecision, used: string, refuseSeconds?: number): void {
    const take = used === '' ? Resources.empty() : r(used);
    this.core.offerAccepted(d.frameworkId, d.agentId, take, d.role);
    const rest = d.resources.subtract(take);
    if (!rest.isEmpty() || refuseSeconds !== undefined) this.core.recoverResources(d.frameworkId, d.agentId, rest, refuseSeconds, this.now, d.role);
  }

  /** Applies an operation (framework's when `frameworkId` is given, else the operator's). */
  operate(agentId: string, op: ResourceOperation, frameworkId?: string, role?: string): void {
    this.core.applyOperation(agentId, op, { ...(frameworkId !== undefined && { frameworkId }), ...(role !== undefined && { role }) });
  }

  /** The view of one role (throws if the allocator does not list it). */
  role(name: string): RoleView {
    const view = this.core.roles().find((v) => v.role === name);
    if (view === undefined) throw new Error(`role ${name} is not listed`);
    return view;
  }

  /** Explains one role of a framework at the current time. */
  explain(frameworkId: string, role?: string, request?: string): Explanation {
    const [first] = this.core.explain(frameworkId, this.now, {
      ...(role !== undefined && { role }),
      ...(request !== undefined && { request: r(request) }),
    });
    if (first === undefined) throw new Error(`no explanation for ${frameworkId}`);
    return first;
  }

  /** An agent's free resources as text. */
  free(agentId: string): string {
    return this.core.available(agentId).toString();
  }
}
