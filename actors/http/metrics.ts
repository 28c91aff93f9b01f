/**
 * `/metrics` in Prometheus text format, through prom-client (a maintained registry that gets
 * the exposition format, escaping and Node's process metrics right). Each scrape reads the
 * source: cluster figures come from one snapshot (leader only: a standby exports its own
 * process, role and counters), counters from `metrics()`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterState } from '../../protocol/operator-api.js';
import { ResourceAmounts, summarize, type QuantitiesByRole } from './summary.js';
import type { MasterMetrics, OperatorSource } from './types.js';

/** Every metric name this module exports, for docs and tests. */
export const METRIC_NAMES = [
  'nesos_master_leader',
  'nesos_master_epoch',
  'nesos_master_leader_changes_total',
  'nesos_tasks',
  'nesos_agents',
  'nesos_maintenance_agents',
  'nesos_frameworks',
  'nesos_offers',
  'nesos_resources_total',
  'nesos_resources_allocated',
  'nesos_resources_offered',
  'nesos_resources_idle',
  'nesos_messages_received_total',
  'nesos_messages_sent_total',
  'nesos_decode_errors_total',
  'nesos_calls_rejected_total',
  'nesos_allocation_runs_total',
  'nesos_allocation_seconds_total',
  'nesos_allocation_last_seconds',
  'nesos_event_stream_clients',
] as const;

type CounterKey = Exclude<keyof MasterMetrics, 'lastAllocationSeconds' | 'decodeErrors' | 'callsRejected' | 'decodeErrorCounts' | 'rejectionCounts'>;

/** The metrics registry of one HTTP server. */
export class MetricsExporter {
  /** The prom-client registry (its own: several servers may share a process in tests). */
  readonly registry = new Registry();
  private readonly amounts = new ResourceAmounts();
  private readonly gauges;
  private readonly counters: Record<CounterKey, Counter>;
  private readonly refusals: { decodeErrors: Counter; callsRejected: Counter };
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: OperatorSource,
    private readonly streamClients: () => number,
    processMetrics: boolean,
  ) {
    const r = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: r });
    const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name, help, labelNames, registers: r });
    this.gauges = {
      leader: gauge('nesos_master_leader', '1 while this master leads, else 0'),
      epoch: gauge('nesos_master_epoch', 'epoch (leader term) of the leader this master knows'),
      tasks: gauge('nesos_tasks', 'tasks by state (running and completed the master still holds)', ['state']),
      agents: gauge('nesos_agents', 'agents by status', ['status']),
      maintenance: gauge('nesos_maintenance_agents', 'agents in the maintenance schedule, by mode (DRAINING, DOWN)', ['mode']),
      frameworks: gauge('nesos_frameworks', 'frameworks, by whether they are connected', ['connected']),
      offers: gauge('nesos_offers', 'outstanding offers'),
      total: gauge('nesos_resources_total', 'resources of active agents, by kind and reservation role (* unreserved)', ['resource', 'role']),
      allocated: gauge('nesos_resources_allocated', 'resources held by non-terminal tasks, by kind and role', ['resource', 'role']),
      offered: gauge('nesos_resources_offered', 'resources in outstanding offers, by kind and role', ['resource', 'role']),
      idle: gauge('nesos_resources_idle', 'resources neither allocated nor offered, by kind', ['resource']),
      lastAllocation: gauge('nesos_allocation_last_seconds', 'duration of the latest allocation run'),
      streams: gauge('nesos_event_stream_clients', 'clients connected to the operator event stream'),
    };
    this.counters = {
      leaderChanges: counter('nesos_master_leader_changes_total', 'leader changes this master has seen'),
      messagesReceived: counter('nesos_messages_received_total', 'messages the master received'),
      messagesSent: counter('nesos_messages_sent_total', 'messages the master sent'),
      allocationRuns: counter('nesos_allocation_runs_total', 'allocation runs'),
      allocationSecondsTotal: counter('nesos_allocation_seconds_total', 'time spent in allocation runs'),
    };
    this.refusals = {
      decodeErrors: counter('nesos_decode_errors_total', 'messages that could not be decoded, by message union and protocol code', ['union', 'code']),
      callsRejected: counter('nesos_calls_rejected_total', 'requests answered REJECTED, by code', ['code']),
    };
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of the exposition. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the source and renders every metric (scrapes are serialised). */
  render(): Promise<string> {
    const next = this.chain.then(() => this.renderNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async renderNow(): Promise<string> {
    const role = this.source.role();
    const g = this.gauges;
    g.leader.set(role.leading ? 1 : 0);
    g.epoch.set(role.leader?.epoch ?? 0);
    g.streams.set(this.streamClients());
    for (const gauge of [g.tasks, g.agents, g.maintenance, g.frameworks, g.offers, g.total, g.allocated, g.offered, g.idle]) gauge.reset();
    if (role.leading) this.setClusterGauges(await this.source.snapshot());
    const m = this.source.metrics?.();
    if (m !== undefined) {
      for (const [key, counter] of Object.entries(this.counters) as Array<[CounterKey, Counter]>) {
        counter.reset();
        counter.inc(Math.max(0, m[key]));
      }
      g.lastAllocation.set(m.lastAllocationSeconds);
      this.refusals.decodeErrors.reset();
      for (const { union, code, count } of m.decodeErrorCounts) this.refusals.decodeErrors.inc({ union, code }, Math.max(0, count));
      this.refusals.callsRejected.reset();
      for (const { code, count } of m.rejectionCounts) this.refusals.callsRejected.inc({ code }, Math.max(0, count));
    }
    return this.registry.metrics();
  }

  private setClusterGauges(state: ClusterState): void {
    const g = this.gauges;
    const s = summarize(state, this.amounts);
    for (const [state, n] of Object.entries(s.tasksByState)) g.tasks.set({ state }, n);
    for (const [status, n] of Object.entries(s.agentsByStatus)) g.agents.set({ status }, n);
    if (state.maintenance !== undefined) {
      g.maintenance.set({ mode: 'DRAINING' }, 0);
      g.maintenance.set({ mode: 'DOWN' }, 0);
      for (const { mode } of state.maintenance.agents) g.maintenance.inc({ mode });
    }
    g.frameworks.set({ connected: 'true' }, s.frameworks.connected);
    g.frameworks.set({ connected: 'false' }, s.frameworks.total - s.frameworks.connected);
    g.offers.set(s.offers);
    const byRole = (gauge: Gauge, q: QuantitiesByRole) => {
      for (const [role, quantities] of Object.entries(q)) for (const [resource, v] of Object.entries(quantities)) gauge.set({ resource, role }, v);
    };
    byRole(g.total, s.roles.total);
    byRole(g.allocated, s.roles.allocated);
    byRole(g.offered, s.roles.offered);
    for (const [resource, v] of Object.entries(s.resources.idle)) g.idle.set({ resource }, v);
  }
}
