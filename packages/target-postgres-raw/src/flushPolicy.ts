export interface FlushLimits {
  readonly batchSizeRows: number;
  readonly batchSizeBytes: number;
}

export interface BufferLevel {
  readonly rows: number;
  readonly bytes: number;
}

/** True when a stream buffer is full and the buffers should be committed. */
export function bufferFull(level: BufferLevel, limits: FlushLimits): boolean {
  return level.rows >= limits.batchSizeRows || level.bytes >= limits.batchSizeBytes;
}

/** Milliseconds until the oldest buffered record reaches the maximum age (0 = due now). */
export function ageFlushDelay(oldestAt: number, now: number, maxAgeMs: number): number {
  return Math.max(0, oldestAt + maxAgeMs - now);
}
