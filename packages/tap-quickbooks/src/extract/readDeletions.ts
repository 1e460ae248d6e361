import { utf8ByteString, type Logger } from 'singer-kit';
import { recordFrame, recordLine, reservedMembers } from '../emit/toRecordMessage.js';
import type { QboClient, RequestDescription, RequestStats } from '../http/QboClient.js';
import { isoZ, type Window } from '../plan/planWindows.js';
import { cdcStubs, type DeletionStub } from './cdcStubs.js';
import { reconcileAdvice } from '../reconcileAdvice.js';

/** QBO's CDC answers at most this many objects per call (across all entities asked for). */
const CDC_CAP = 1000;

/** One stream whose deletions are wanted from `fromMs` on (its resume point). */
export interface DeletionRange {
  readonly stream: string;
  /** The QBO entity, as CDC names it. */
  readonly entity: string;
  readonly fromMs: number;
  /** The run's window of this stream that holds an instant: a deletion's extract window. */
  readonly windowOf: (atMs: number) => Window;
  /**
   * The stream resumes from a bookmark, so its table may hold rows deleted unseen: a deletion
   * beyond CDC's cap is worth a warning. A stream read from its start gets current rows anyway
   * (as for the 30-day look-back, runTap's emitDeletions).
   */
  readonly resumed: boolean;
}

export interface DeletionsContext {
  readonly client: QboClient;
  readonly logger: Logger;
  readonly realmId: string;
  readonly runId: string;
}

export interface DeletionsRead {
  /** Per stream, its deletions as RECORD lines (UTF-8 byte strings), oldest first, each Id once. */
  readonly lines: ReadonlyMap<string, readonly string[]>;
  readonly requests: number;
  readonly retries: number;
}

interface Asked {
  readonly stubs: readonly DeletionStub[];
  readonly objects: number;
  readonly receivedAt: string;
  /** The CDC request, as the client sent it. */
  readonly request: RequestDescription;
}

async function ask(ctx: DeletionsContext, entities: readonly string[], since: string, stats: RequestStats): Promise<Asked> {
  // Read inside the client's retry loop: an answer cdcStubs cannot read is asked for again.
  return ctx.client.cdc(entities, since, stats, ({ bytes, receivedAt, request }) => {
    // One char per byte: a stub's text goes out as the bytes QBO sent (see utf8ByteString).
    const { stubs, objects } = cdcStubs(bytes.toString('latin1'));
    return { stubs, objects, receivedAt, request };
  });
}

/** A deletion as a RECORD line of its entity's stream: the stub as QBO sent it, `_sdc_deleted_at`, and the extraction fields of the run's window holding it. */
function deletionLine(ctx: DeletionsContext, range: DeletionRange, stub: DeletionStub, asked: Asked): string {
  const window = range.windowOf(stub.deletedAtMs);
  const reserved = reservedMembers({
    windowStart: window.start,
    windowEnd: window.end,
    pageNumber: null,
    pageSize: null,
    request: asked.request,
    extractedAt: asked.receivedAt,
    realmId: ctx.realmId,
    runId: ctx.runId,
  });
  const members = [...reserved, ['_sdc_deleted_at', JSON.stringify(isoZ(stub.deletedAtMs))] as const].map(([k, v]) => [k, utf8ByteString(v)] as const);
  // No catalog property selection: a stub is passed on whole.
  return recordLine(recordFrame(utf8ByteString(JSON.stringify(range.stream)), members, asked.receivedAt, undefined), stub.text);
}

/**
 * The deletions QBO's CDC reports since `sinceMs`, for each stream those in `[fromMs, endMs)`.
 * One CDC call for every entity; CDC answers at most 1000 objects, so a full answer is asked again
 * entity by entity, and an entity that alone fills it is warned about when its stream resumes
 * from a bookmark (its deletions beyond the cap can only be found by `qbo-pipeline reconcile`).
 */
export async function readDeletions(ctx: DeletionsContext, ranges: readonly DeletionRange[], sinceMs: number, endMs: number): Promise<DeletionsRead> {
  const stats: RequestStats = { attempts: 0, retries: 0 };
  const since = isoZ(sinceMs);
  const entities = ranges.map((r) => r.entity);
  let answers = [await ask(ctx, entities, since, stats)];
  if (answers[0]!.objects >= CDC_CAP && entities.length > 1) {
    answers = [];
    for (const entity of entities) answers.push(await ask(ctx, [entity], since, stats));
  }
  // Now one answer per range, in order; one warning for every stream whose answer was full.
  const capped = answers.flatMap((answer, i) => (answer.objects >= CDC_CAP && ranges[i]!.resumed ? [ranges[i]!.stream] : []));
  if (capped.length > 0) {
    ctx.logger.warn(
      `${capped.join(', ')}: CDC since ${since} answered QBO's cap of ${CDC_CAP} changed objects; deletions beyond it may be missing — run more often, or find them with ${reconcileAdvice(capped)}`,
    );
  }
  const byEntity = new Map(ranges.map((r) => [r.entity.toLowerCase(), r]));
  const perStream = new Map<string, Map<string, { at: number; line: string }>>(ranges.map((r) => [r.stream, new Map()]));
  for (const answer of answers) {
    for (const stub of answer.stubs) {
      const range = byEntity.get(stub.entity.toLowerCase());
      if (!range || stub.deletedAtMs < range.fromMs || stub.deletedAtMs >= endMs) continue;
      perStream.get(range.stream)!.set(stub.id, { at: stub.deletedAtMs, line: deletionLine(ctx, range, stub, answer) });
    }
  }
  const lines = new Map([...perStream].map(([stream, byId]) => [stream, [...byId.values()].sort((a, b) => a.at - b.at).map((d) => d.line)] as const));
  return { lines, requests: stats.attempts, retries: stats.retries };
}
