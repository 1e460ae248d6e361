import type { BackfillRequest } from '../BackfillRequest.js';

export const TRIGGER_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type TriggerStatus = (typeof TRIGGER_STATUSES)[number];

/** A one-time trigger: run this backfill once at `at` (UTC), then stay disabled with its result. */
export interface Trigger {
  readonly id: string;
  /** When to run, UTC (`…Z`). */
  readonly at: string;
  /** `--at` as the person typed it (an offset such as -05:00 is kept here only). */
  readonly atGiven: string;
  readonly createdAt: string;
  readonly backfill: BackfillRequest;
  readonly status: TriggerStatus;
  /** False once it has run (completed or failed): a one-time trigger never runs twice. */
  readonly enabled: boolean;
  readonly claimedBy?: { readonly pid: number; readonly host: string };
  readonly startedAt?: string;
  /** startedAt − at, in ms; `late` when over the scheduler's tolerance (it was down, or busy). */
  readonly lateByMs?: number;
  readonly late?: boolean;
  readonly finishedAt?: string;
  readonly result?: {
    readonly exitCode: number;
    readonly message: string;
    /** The run in the runs journal (`<state-dir>/runs/<runId>.json`). */
    readonly runId?: string;
    readonly runIds: readonly string[];
    /** Present when running again can work (exit 1). */
    readonly resumeCommand?: string;
    /** Present when the user must fix something first (exit 2). */
    readonly fix?: string;
  };
}
