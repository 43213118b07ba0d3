// The member directory: what quorum, routing, voter-configuration sync and status read of the
// SWIM member table, kept per member as member events arrive. An event touches one entry (one
// meta decode when the bytes changed) and bumps the version of each projection it changed; a
// projection's array is materialised on read, at most once per version of that projection. So a
// member event costs O(1) however large the cluster, and a reader pays O(N) only when what it
// reads changed since it last read it (at 1,000 simulated nodes, rebuilding these per event was
// most of the run).
import type { MemberEvent, MemberInfo, MemberState } from '../../gossip/swim.js';
import { parseAddress } from '../transport/address.js';
import type { QuorumMember } from '../quorum/quorum-gate.js';
import type { ConfigPeer } from '../quorum/reconfiguration.js';
import type { SchedulerMember } from '../tasks/index.js';
import { decodeMetaShared, type NodeMeta, type Role } from './meta.js';
import { memberLifecycle, type LifecycleState } from './lifecycle.js';

/** A member as `tri nodes --json` shows it (DESIGN.md "Command line"). */
export interface MemberView {
  name: string;
  address: string;
  port: number;
  rpcPort: number;
  role: Role;
  state: LifecycleState;
  swimState: MemberInfo['state'];
  incarnation: number;
  rttMs: number | null;
  slots: number;
  freeSlots: number;
  /** HTTP port of the member's /status and dashboard (0 when off); beyond the CLI contract's fields. */
  httpPort: number;
}

/** What the directory reads of the node itself and of the parts that count configuration words. */
export interface DirectorySource {
  self: string;
  /** The member's live record in the SWIM table (RTT and incarnation move without an event). */
  peek: (name: string) => Readonly<MemberInfo> | undefined;
  /** Our own published metadata, lifecycle and voter-configuration word. */
  ownMeta: () => NodeMeta;
  ownLifecycle: () => LifecycleState;
  ownWord: () => number;
  /** The word a member counts with in quorums (gossiped, or newer as it showed us directly). */
  countedWord: (name: string, gossiped: number) => number;
  /** Measured throughput to a member, and our own free slots now (routing reads both live). */
  throughput: (name: string) => number | null;
  ownFreeSlots: () => number;
  /** Each change of a member's quorum row (`gone`: it left the table), as quorumMembers() will show it. */
  quorumRowChanged?: (row: QuorumMember, gone: boolean) => void;
}

interface Entry {
  name: string;
  /** The fields of the record this entry was built from (the event's copy). */
  state: MemberState;
  address: string;
  metaBytes: Uint8Array;
  changedAt: number;
  meta: NodeMeta | undefined;
  gossipedWord: number;
  quorum: QuorumMember;
  peer: ConfigPeer;
  /** Lifecycle as views and routing show it (a member's reported state defaults to ACTIVE there). */
  viewState: LifecycleState;
  routing: RoutingMember;
}

/** An RTT estimate as views show it (2 decimals), null when never measured. */
function roundRtt(rttMs: number | undefined): number | null {
  return rttMs === undefined ? null : Math.round(rttMs * 100) / 100;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A member as task routing sees it. Its state and slots change only with a member event (which
 * makes a new routing list); RTT, measured throughput, the gossiped free slots and, for this node,
 * the free slots now (gossiped up to a publish period late, which would send work away from slots
 * that just freed) are read when they are read. The scheduler reads them synchronously.
 */
class RoutingMember implements SchedulerMember {
  constructor(
    private readonly e: Entry,
    private readonly dir: MemberDirectory,
    private readonly src: DirectorySource,
  ) {}

  get name(): string {
    return this.e.name;
  }

  get state(): LifecycleState {
    return this.e.name === this.src.self ? this.src.ownLifecycle() : this.e.viewState;
  }

  get slots(): number {
    return this.dir.meta(this.e.name)?.slots ?? 0;
  }

  get freeSlots(): number {
    return this.e.name === this.src.self ? this.src.ownFreeSlots() : (this.e.meta?.freeSlots ?? 0);
  }

  get rttMs(): number | null {
    return roundRtt(this.dir.record(this.e.name)?.rttMs);
  }

  get throughputBytesPerSec(): number | null {
    return this.src.throughput(this.e.name);
  }
}

export class MemberDirectory {
  /** By name, in the order members entered the SWIM table (ourselves first), as the table iterates. */
  private readonly entries = new Map<string, Entry>();
  /** Member names by gossip address, ourselves aside (packets arrive with the address only). */
  private readonly byAddress = new Map<string, string>();
  /** Members SWIM holds dead (the reconnect loop picks among them). */
  private readonly deadNames = new Set<string>();
  private quorumV = 0;
  private peersV = 0;
  private routingV = 0;
  private setV = 0;
  private quorumOut: { v: number; rows: QuorumMember[] } | undefined;
  private peersOut: { v: number; rows: ConfigPeer[] } | undefined;
  private routingOut: { v: number; rows: SchedulerMember[] } | undefined;
  private sortedOut: { v: number; rows: Entry[] } | undefined;
  /** Grows with every change of any projection: readers outside key their caches on it. */
  version = 0;

  constructor(private readonly src: DirectorySource) {
    const me = src.peek(src.self);
    if (me) this.apply({ kind: 'join', member: me as MemberInfo });
  }

  /** Members in the SWIM table, ourselves included (join adds, reap removes). */
  get size(): number {
    return this.entries.size;
  }

  /** The live SWIM record of a member the directory holds (not to be kept or modified). */
  record(name: string): Readonly<MemberInfo> | undefined {
    return this.entries.has(name) ? this.src.peek(name) : undefined;
  }

  nameAt(address: string): string | undefined {
    return this.byAddress.get(address);
  }

  /**
   * The member at the other end of a stream connection. We dial members at their gossip address,
   * so an outgoing connection names its member; an accepted one comes from an ephemeral port and
   * names its member only by host, when a single member lives there (O(N), on a broken connection).
   */
  nameByConnection(remote: string, outgoing: boolean): string | undefined {
    if (outgoing) return this.byAddress.get(remote);
    const host = parseAddress(remote).host;
    let name: string | undefined;
    for (const [address, member] of this.byAddress) {
      if (parseAddress(address).host !== host) continue;
      if (name !== undefined) return undefined; // two members on that host: we cannot tell which one
      name = member;
    }
    return name;
  }

  /** A member's decoded metadata (ours as we publish it); undefined when it does not decode. */
  meta(name: string): NodeMeta | undefined {
    if (name === this.src.self) return this.src.ownMeta();
    return this.entries.get(name)?.meta;
  }

  /** Addresses of the members SWIM holds dead, in member-table order (O(N) only while some are dead). */
  deadAddresses(): string[] {
    const out: string[] = [];
    if (this.deadNames.size === 0) return out;
    for (const e of this.entries.values()) if (e.state === 'dead' && e.name !== this.src.self) out.push(e.address);
    return out;
  }

  /** The last member in table order at gossip `address`, ourselves aside (a large RPC call's peer: rare). */
  nameAtAddress(address: string): string | undefined {
    let name: string | undefined;
    for (const e of this.entries.values()) if (e.address === address && e.name !== this.src.self) name = e.name;
    return name;
  }

  /** One member event: O(1) (one meta decode when its metadata bytes changed). */
  apply(ev: MemberEvent): void {
    const m = ev.member;
    const self = m.name === this.src.self;
    if (ev.kind === 'reap') {
      const e = this.entries.get(m.name);
      if (!e) return;
      this.entries.delete(m.name);
      this.deadNames.delete(m.name);
      this.src.quorumRowChanged?.(e.quorum, true);
      if (this.byAddress.get(e.address) === m.name) this.byAddress.delete(e.address);
      this.bumpAll();
      return;
    }
    let e = this.entries.get(m.name);
    if (e && e.address !== m.address && this.byAddress.get(e.address) === m.name) this.byAddress.delete(e.address);
    if (!self) this.byAddress.set(m.address, m.name);
    if (m.state === 'dead' && !self) this.deadNames.add(m.name);
    else if (this.deadNames.size > 0) this.deadNames.delete(m.name);
    if (!e) {
      e = this.createEntry(m);
      this.entries.set(m.name, e);
      this.bumpAll();
      return;
    }
    const slotsBefore = e.meta?.slots;
    const viewBefore = e.viewState;
    if (!sameBytes(e.metaBytes, m.meta)) {
      e.meta = decodeMetaShared(m.meta);
      e.gossipedWord = e.meta?.configWord ?? 0;
    }
    e.state = m.state;
    e.address = m.address;
    e.metaBytes = m.meta;
    e.changedAt = m.stateChangedAt;
    e.viewState = memberLifecycle(m.state, e.meta?.lifecycle ?? 'ACTIVE');
    if (this.setQuorum(e)) this.quorumV++;
    if (this.setPeer(e)) this.peersV++;
    if (viewBefore !== e.viewState || slotsBefore !== e.meta?.slots) this.routingV++;
    this.version++;
  }

  private createEntry(m: Readonly<MemberInfo>): Entry {
    const meta = decodeMetaShared(m.meta);
    const e: Entry = {
      name: m.name,
      state: m.state,
      address: m.address,
      metaBytes: m.meta,
      changedAt: m.stateChangedAt,
      meta,
      gossipedWord: meta?.configWord ?? 0,
      quorum: undefined!,
      peer: undefined!,
      viewState: memberLifecycle(m.state, meta?.lifecycle ?? 'ACTIVE'),
      routing: undefined!,
    };
    e.routing = new RoutingMember(e, this, this.src);
    this.setQuorum(e);
    this.setPeer(e);
    return e;
  }

  /** Our own lifecycle, role or configuration word changed. */
  refreshSelf(): void {
    const e = this.entries.get(this.src.self);
    if (!e) return;
    if (this.setQuorum(e)) this.quorumV++;
    if (this.setPeer(e)) this.peersV++;
    this.routingV++; // our own state as routing reads it
    this.version++;
  }

  /** `name` showed us its configuration directly: the word it counts with may have changed. */
  refreshWord(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    if (this.setQuorum(e)) this.quorumV++;
    if (this.setPeer(e)) this.peersV++;
    this.version++;
  }

  /** The members as the quorum gate counts them; the same array until a row changes. */
  quorumMembers(): QuorumMember[] {
    const out = this.quorumOut;
    if (out && out.v === this.quorumV) return out.rows;
    const rows: QuorumMember[] = [];
    for (const e of this.entries.values()) rows.push(e.quorum);
    this.quorumOut = { v: this.quorumV, rows };
    return rows;
  }

  /** The voter-configuration protocol's peers (members not LEFT); the same array until one changes. */
  configPeers(): ConfigPeer[] {
    const out = this.peersOut;
    if (out && out.v === this.peersV) return out.rows;
    const rows: ConfigPeer[] = [];
    for (const e of this.entries.values()) if (e.state !== 'left') rows.push(e.peer);
    this.peersOut = { v: this.peersV, rows };
    return rows;
  }

  /** Grows whenever routingMembers() would list other members, states or slots. */
  get routingVersion(): number {
    return this.routingV;
  }

  /** Members as task routing sees them, in name order; a new array whenever a member's state or slots change. */
  routingMembers(): SchedulerMember[] {
    const out = this.routingOut;
    if (out && out.v === this.routingV) return out.rows;
    const rows = this.sorted().map((e) => e.routing);
    this.routingOut = { v: this.routingV, rows };
    return rows;
  }

  /** Member views in name order, each a new object the caller owns (RTT and incarnation as of now). */
  views(): MemberView[] {
    return this.sorted().map((e) => this.view(e));
  }

  private sorted(): Entry[] {
    const out = this.sortedOut;
    if (out && out.v === this.setV) return out.rows;
    const rows = [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.sortedOut = { v: this.setV, rows };
    return rows;
  }

  private view(e: Entry): MemberView {
    const { host, port } = parseAddress(e.address);
    const rec = this.src.peek(e.name);
    const meta = this.meta(e.name); // undefined for a member from a newer or broken build: show what SWIM knows
    return {
      name: e.name,
      address: host,
      port,
      rpcPort: meta?.rpcPort ?? 0,
      role: meta?.role ?? 'hybrid',
      state: e.name === this.src.self ? this.src.ownLifecycle() : e.viewState,
      swimState: rec?.state ?? e.state,
      incarnation: rec?.incarnation ?? 0,
      rttMs: roundRtt(rec?.rttMs),
      slots: meta?.slots ?? 0,
      freeSlots: meta?.freeSlots ?? 0,
      httpPort: meta?.httpPort ?? 0,
    };
  }

  /** Rebuilds e.quorum when one of its fields moved; true when it changed. */
  private setQuorum(e: Entry): boolean {
    const src = this.src;
    const self = e.name === src.self;
    const role = self ? src.ownMeta().role : (e.meta?.role ?? 'hybrid');
    const state = self ? src.ownLifecycle() : memberLifecycle(e.state, e.meta?.lifecycle ?? 'JOINING');
    const reachable = self || e.state === 'alive';
    const suspect = !self && e.state === 'suspect';
    const configWord = self ? src.ownWord() : src.countedWord(e.name, e.gossipedWord);
    const nodeId = self ? src.ownMeta().nodeId : e.meta?.nodeId;
    const q = e.quorum;
    if (q && q.role === role && q.state === state && q.reachable === reachable && (q.suspect ?? false) === suspect && q.stateChangedAt === e.changedAt && q.configWord === configWord && q.nodeId === nodeId) return false;
    e.quorum = { name: e.name, role, state, reachable, stateChangedAt: e.changedAt, configWord, ...(nodeId ? { nodeId } : {}), ...(suspect ? { suspect } : {}) };
    src.quorumRowChanged?.(e.quorum, false);
    return true;
  }

  /** Rebuilds e.peer from the quorum row's (counted) word when it moved; true when it changed. */
  private setPeer(e: Entry): boolean {
    // The word is the quorum row's: gossip's, or newer if the member showed us its configuration
    // directly (reading the meta instead left a peer looking like a laggard, pushed every 2 s).
    const word = e.quorum.configWord ?? 0;
    const alive = e.state === 'alive';
    const p = e.peer;
    if (p && p.address === e.address && p.word === word && p.alive === alive) return false;
    e.peer = { name: e.name, address: e.address, word, alive };
    return true;
  }

  private bumpAll(): void {
    this.quorumV++;
    this.peersV++;
    this.routingV++;
    this.setV++;
    this.version++;
  }
}
