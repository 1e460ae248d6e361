import { RunError } from 'singer-kit';

interface CatalogEntry {
  readonly tap_stream_id?: string;
  readonly stream?: string;
  readonly metadata?: ReadonlyArray<{ readonly breadcrumb: readonly string[]; readonly metadata: Record<string, unknown> }>;
  readonly [key: string]: unknown;
}

/** Streams the runner always keeps selected when the tap offers them: the evidence. */
export const ALWAYS_SELECTED = ['_volumetry'] as const;

/**
 * The discovered Singer catalog with exactly `streams` selected (plus the evidence stream), using
 * the standard `selected` metadata on the stream's empty breadcrumb. Every other metadata entry
 * is kept as the tap wrote it.
 */
export function selectCatalog(catalog: unknown, streams: readonly string[]): { streams: CatalogEntry[] } {
  const entries = (catalog as { streams?: unknown })?.streams;
  if (!Array.isArray(entries)) throw new RunError('the discovered catalog has no "streams" list');
  const wanted = new Set<string>([...streams, ...ALWAYS_SELECTED]);
  const offered = new Set<string>();
  const selected = (entries as CatalogEntry[]).map((entry) => {
    const id = entry.tap_stream_id ?? entry.stream ?? '';
    offered.add(id);
    const on = wanted.has(id);
    const metadata = entry.metadata ?? [];
    const hasRoot = metadata.some((m) => m.breadcrumb.length === 0);
    return {
      ...entry,
      metadata: [
        ...metadata.map((m) => (m.breadcrumb.length === 0 ? { ...m, metadata: { ...m.metadata, selected: on } } : m)),
        ...(hasRoot ? [] : [{ breadcrumb: [], metadata: { selected: on } }]),
      ],
    };
  });
  const missing = streams.filter((s) => !offered.has(s));
  if (missing.length > 0) throw new RunError(`the tap does not offer stream ${missing.join(', ')} (not in its discovered catalog)`);
  return { streams: selected };
}
