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

