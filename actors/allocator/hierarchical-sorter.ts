// Hierarchical roles, as Mesos's sorters do them: clients are paths (`eng/frontend`) in a
// tree. Each inner node has a flat sorter over its children, and a child's allocation is the
// sum over its subtree, so siblings are compared by what their whole subtree holds. `sort()`
// walks the tree depth first, each level in its own sorter's order, and lists the active
// clients. A path that is both a client and a parent (`eng` with `eng/frontend`) appears in its
// own node's sorter under its own name, beside its children (Mesos's virtual "." leaf).
//
// With flat roles only (the usual case) there is one level and `sort()` is the root sorter's.
import { Resources } from '../../protocol/resources.js';
import { DuplicateIdError, InvalidWeightError, UnknownClientError } from './errors.js';
import type { Sorter, SorterFactory } from './sorter.js';

interface TreeNode {
  readonly path: string;
  readonly parent: TreeNode | undefined;
  /** Sorter over the children (and over `path` itself if a client); undefined for a leaf. */
  sorter: Sorter | undefined;
  readonly children: Map<string, TreeNode>;
  isClient: boolean;
  clientActive: boolean;
  /** Active clients in this subtree, this node included. */
  activeClients: number;
  /** What the client at this path holds itself, in thousandths. */
  readonly own: Map<string, number>;
}

/** A `Sorter` over role paths built from flat sorters, one per inner node of the role tree. */
export class HierarchicalSorter implements Sorter {
  private readonly root: TreeNode;
  private readonly nodes = new Map<string, TreeNode>();
  private readonly weights = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private inner = 0;
  private clientCount = 0;

  constructor(private readonly makeSorter: SorterFactory) {
    this.root = newNode('', undefined);
    this.root.sorter = makeSorter();
  }

  /** Adds an inactive client at `path`, creating the inner nodes above it. */
  add(path: string): void {
    const existing = this.nodes.get(path);
    if (existing?.isClient) throw new DuplicateIdError('client', path);
    const node = existing ?? this.ensureNode(path);
    node.isClient = true;
    node.clientActive = false;
    if (node.sorter !== undefined) node.sorter.add(path);
    this.clientCount += 1;
  }

  /** Removes a client; what it held leaves its ancestors, and empty inner nodes go. */
  remove(path: string): void {
    const node = this.client(path);
    this.deactivate(path);
    const held = quantitiesOf(node.own);
    if (!held.isEmpty()) this.unallocated(path, '', held);
    node.isClient = false;
    if (node.sorter !== undefined) node.sorter.remove(path);
    this.clientCount -= 1;
    this.prune(node);
  }

  /** Makes a client sortable (and every ancestor with it). */
  activate(path: string): void {
    const node = this.client(path);
    if (node.clientActive) return;
    node.clientActive = true;
    node.sorter?.activate(path);
    this.propagateActive(node, +1);
  }

  /** Hides a client from `sort()`; ancestors stay while another client below them is active. */
  deactivate(path: string): void {
    const node = this.client(path);
    if (!node.clientActive) return;
    node.clientActive = false;
    node.sorter?.deactivate(path);
    this.propagateActive(node, -1);
  }

  /** True when the client is active. */
  isActive(path: string): boolean {
    return this.client(path).clientActive;
  }

  /** Sets the weight of a node (client or inner path) among its siblings. */
  updateWeight(path: string, weight: number): void {
    if (!this.nodes.has(path)) throw new UnknownClientError(path);
    this.setPathWeight(path, weight);
  }

  /**
   * Sets the weight of `path` whether or not it is in the tree now: it applies at once if the
   * node exists, and when it is created otherwise. Throws `InvalidWeightError` unless > 0.
   */
  setPathWeight(path: string, weight: number): void {
    if (!Number.isFinite(weight) || weight <= 0) throw new InvalidWeightError(weight);
    const node = this.nodes.get(path);
    if (node !== undefined) (node.parent as TreeNode).sorter?.updateWeight(path, weight);
    this.weights.set(path, weight);
  }

  /** A node's weight (1 unless set). */
  weight(path: string): number {
    if (!this.nodes.has(path)) throw new UnknownClientError(path);
    return this.weights.get(path) ?? 1;
  }

  /** Adds to what the client holds, and to its every ancestor's subtree total. */
  allocated(path: string, agentId: string, resources: Resources): void {
    const node = this.client(path);
    for (const [name, milli] of resources.scalarMilli()) node.own.set(name, (node.own.get(name) ?? 0) + milli);
    node.sorter?.allocated(path, agentId, resources);
    for (let n: TreeNode = node; n.parent !== undefined; n = n.parent) n.parent.sorter?.allocated(n.path, agentId, resources);
  }

  /** Takes from what the client holds and from its ancestors' subtree totals (clamped at 0). */
  unallocated(path: string, agentId: string, resources: Resources): void {
    const node = this.client(path);
    let clamped = false;
    const taken = new Map<string, number>();
    for (const [name, milli] of resources.scalarMilli()) {
      const own = node.own.get(name) ?? 0;
      if (milli >= own) node.own.delete(name);
      else node.own.set(name, own - milli);
      if (milli > own) clamped = true;
      taken.set(name, Math.min(own, milli));
    }
    // Ancestors lose only what this client really gave back, never a sibling's share.
    const back = clamped ? quantitiesOf(taken) : resources;
    node.sorter?.unallocated(path, agentId, back);
    for (let n: TreeNode = node; n.parent !== undefined; n = n.parent) n.parent.sorter?.unallocated(n.path, agentId, back);
  }

  /** What the client at `path` holds itself (not its descendants), in units. */
  allocation(path: string): Map<string, number> {
    const own = this.client(path).own;
    return new Map([...own].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, milli]) => [name, milli / 1000]));
  }

  /** What the subtree at `path` (a client or an inner node) holds, in units. */
  subtreeAllocation(path: string): Map<string, number> {
    const node = this.nodes.get(path);
    if (node === undefined) throw new UnknownClientError(path);
    return (node.parent as TreeNode).sorter?.allocation(path) ?? new Map();
  }

  /** Adds to the cluster total of every level. */
  addTotal(agentId: string, resources: Resources): void {
    for (const [name, milli] of resources.scalarMilli()) this.totals.set(name, (this.totals.get(name) ?? 0) + milli);
    this.root.sorter?.addTotal(agentId, resources);
    for (const node of this.nodes.values()) node.sorter?.addTotal(agentId, resources);
  }

  /** Takes from the cluster total of every level. */
  removeTotal(agentId: string, resources: Resources): void {
    for (const [name, milli] of resources.scalarMilli()) {
      const left = (this.totals.get(name) ?? 0) - milli;
      if (left > 0) this.totals.set(name, left);
      else this.totals.delete(name);
    }
    this.root.sorter?.removeTotal(agentId, resources);
    for (const node of this.nodes.values()) node.sorter?.removeTotal(agentId, resources);
  }

  /** Active clients, depth first, each level in its sorter's order. Valid until the next change. */
  sort(): readonly string[] {
    const rootSorter = this.root.sorter as Sorter;
    if (this.inner === 0) return rootSorter.sort();
    const out: string[] = [];
    this.walk((path) => {
      out.push(path);
      return true;
    });
    return out;
  }

  /** Visits the active clients in `sort()` order while `visit` returns true. */
  walk(visit: (path: string) => boolean): void {
    if (this.inner === 0) (this.root.sorter as Sorter).walk(visit);
    else this.walkNode(this.root, visit);
  }

  /** Walks one node's sorter, descending into inner children; false once `visit` stopped. */
  private walkNode(node: TreeNode, visit: (path: string) => boolean): boolean {
    let going = true;
    (node.sorter as Sorter).walk((path) => {
      const child = this.nodes.get(path) as TreeNode;
      going = child === node || child.sorter === undefined ? visit(path) : this.walkNode(child, visit);
      return going;
    });
    return going;
  }

  /** The weighted dominant share of the subtree at `path` among its siblings. */
  share(path: string): number {
    const node = this.nodes.get(path);
    if (node === undefined) throw new UnknownClientError(path);
    return (node.parent as TreeNode).sorter?.share(path) ?? 0;
  }

  /** True when `path` is in the tree (a client, or an inner node above one). */
  hasPath(path: string): boolean {
    return this.nodes.has(path);
  }

  /** True when `path` is a client. */
  contains(path: string): boolean {
    return this.nodes.get(path)?.isClient ?? false;
  }

  /** Number of clients. */
  count(): number {
    return this.clientCount;
  }

  private client(path: string): TreeNode {
    const node = this.nodes.get(path);
    if (node === undefined || !node.isClient) throw new UnknownClientError(path);
    return node;
  }

  /** Creates the nodes of `path` and its ancestors that do not exist yet. */
  private ensureNode(path: string): TreeNode {
    let parent = this.root;
    let prefix = '';
    for (const part of path.split('/')) {
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      let node = this.nodes.get(prefix);
      if (node === undefined) {
        this.makeInner(parent);
        node = newNode(prefix, parent);
        this.nodes.set(prefix, node);
        parent.children.set(prefix, node);
        const sorter = parent.sorter as Sorter;
        sorter.add(prefix);
        const weight = this.weights.get(prefix);
        if (weight !== undefined) sorter.updateWeight(prefix, weight);
      }
      parent = node;
    }
    return parent;
  }

  /** Gives a leaf a sorter of its own, holding its own client entry with what it holds. */
  private makeInner(node: TreeNode): void {
    if (node.sorter !== undefined) return;
    const sorter = this.makeSorter();
    if (this.totals.size > 0) sorter.addTotal('', quantitiesOf(this.totals));
    if (node.isClient) {
      sorter.add(node.path);
      const own = quantitiesOf(node.own);
      if (!own.isEmpty()) sorter.allocated(node.path, '', own);
      if (node.clientActive) sorter.activate(node.path);
    }
    node.sorter = sorter;
    this.inner += 1;
  }

  /** Removes nodes that hold no client and have no children, walking up. */
  private prune(start: TreeNode): void {
    let node = start;
    while (node.parent !== undefined) {
      if (node.isClient || node.children.size > 0) {
        if (node.children.size === 0 && node.sorter !== undefined) {
          node.sorter = undefined;
          this.inner -= 1;
        }
        return;
      }
      const parent: TreeNode = node.parent;
      parent.sorter?.remove(node.path);
      parent.children.delete(node.path);
      this.nodes.delete(node.path);
      if (node.sorter !== undefined) this.inner -= 1;
      node = parent;
    }
  }

  /** Adds `delta` to the active count of `node` and its ancestors, (de)activating their entries. */
  private propagateActive(start: TreeNode, delta: 1 | -1): void {
    for (let node: TreeNode = start; node.parent !== undefined; node = node.parent) {
      const before = node.activeClients;
      node.activeClients += delta;
      if (before === 0 && node.activeClients === 1) node.parent.sorter?.activate(node.path);
      else if (before === 1 && node.activeClients === 0) node.parent.sorter?.deactivate(node.path);
    }
  }
}

function newNode(path: string, parent: TreeNode | undefined): TreeNode {
  return { path, parent, sorter: undefined, children: new Map(), isClient: false, clientActive: false, activeClients: 0, own: new Map() };
}

/** Thousandths by name as unreserved scalar Resources (to seed a new sorter). */
function quantitiesOf(milli: ReadonlyMap<string, number>): Resources {
  return Resources.fromScalars(Object.fromEntries([...milli].map(([name, m]) => [name, m / 1000])));
}
