import { pacificOffsetChanges } from './pacificTime.js';
import { Rng } from './rng.js';

/** Flags of one row in an entity's index. */
export const ACTIVE = 1;
/** The body is a loaded (fixture) text, not generated. */
export const LOADED = 2;

/** One entity's rows as parallel typed arrays, sorted by (LastUpdatedTime, Id). */
export interface IndexArrays {
  readonly ids: Uint32Array;
  readonly created: Uint32Array;
  readonly updated: Uint32Array;
  readonly syncTokens: Uint16Array;
  readonly flags: Uint8Array;
}

export interface GenerateIndexOptions {
  readonly seed: number;
  readonly entity: string;
  readonly count: number;
  /** Data lies in [fromSec, toSec). */
  readonly fromSec: number;
  readonly toSec: number;
  readonly firstId: number;
  /** Name-list entities get about 10 % inactive rows. */
  readonly nameList: boolean;
}

/**
 * Seconds where real extractors break: exact UTC midnights and the second before, both
 * sides of each DST switch, and a few random seconds. Many rows share each of these.
 */
function burstSeconds(rng: Rng, fromSec: number, toSec: number): number[] {
  const day = 86400;
  const firstMidnight = Math.floor(fromSec / day) * day + day;
  const out = [firstMidnight, firstMidnight - 1, firstMidnight + day * 7, firstMidnight + day * 7 - 1];
  for (const t of pacificOffsetChanges(fromSec, toSec)) out.push(t - 1, t);
  for (let i = 0; i < 6; i++) out.push(fromSec + Math.floor(rng.next() * (toSec - fromSec)));
  return out.filter((t) => t >= fromSec && t < toSec);
}

/**
 * Generates an entity's index without building records: ids increase with creation time;
 * most rows were last updated when created, some later, and about 10 % share a burst second.
 * Memory is 15 bytes a row, so a million invoices cost about 15 MB.
 */
export function generateIndex(options: GenerateIndexOptions): IndexArrays {
  const { seed, entity, count, fromSec, toSec, firstId, nameList } = options;
  const rng = Rng.of(seed, entity, 'index');
  const span = Math.max(1, toSec - fromSec);
  const bursts = burstSeconds(rng, fromSec, toSec);

  const created = new Uint32Array(count);
  for (let k = 0; k < count; k++) created[k] = fromSec + Math.floor(rng.next() * span);
  created.sort();

  const updated = new Uint32Array(count);
  const syncTokens = new Uint16Array(count);
  const flags = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    let c = created[k] as number;
    let u = c;
    const r = rng.next();
    if (r < 0.1 && bursts.length > 0) {
      u = bursts[Math.floor(rng.next() * bursts.length)] as number;
      if (u < c) c = u;
    } else if (r < 0.35) u = c + Math.floor(rng.next() * (toSec - c));
    created[k] = c;
    updated[k] = u;
    syncTokens[k] = u === c ? 0 : 1 + Math.floor(rng.next() * 4);
    flags[k] = !nameList || rng.next() < 0.9 ? ACTIVE : 0;
  }
  // Clamping `c` may break the id/creation order slightly; real companies backdate too.
  const order = sortedOrder(updated, fromSec, span);
  return {
    ids: order.map((k) => firstId + k),
    created: order.map((k) => created[k] as number),
    updated: order.map((k) => updated[k] as number),
    syncTokens: Uint16Array.from(order, (k) => syncTokens[k] as number),
    flags: Uint8Array.from(order, (k) => flags[k] as number),
  };
}

/** Positions sorted by (updated, position), via one numeric sort of packed keys when they fit in 53 bits. */
function sortedOrder(updated: Uint32Array, fromSec: number, span: number): Uint32Array {
  const n = updated.length;
  const timeBits = Math.ceil(Math.log2(span + 1));
  const posBits = 53 - timeBits;
  if (n < 2 ** posBits) {
    const scale = 2 ** posBits;
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) keys[k] = ((updated[k] as number) - fromSec) * scale + k;
    keys.sort();
    const order = new Uint32Array(n);
    for (let k = 0; k < n; k++) order[k] = (keys[k] as number) % scale;
    return order;
  }
  const order = Uint32Array.from({ length: n }, (_, k) => k);
  return order.sort((a, b) => (updated[a] as number) - (updated[b] as number) || a - b);
}
