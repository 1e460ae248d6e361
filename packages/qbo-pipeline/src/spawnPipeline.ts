import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { PARENT_PID_ENV, readLines, redact } from 'singer-kit';

export const PIPELINE_ROLES = ['tap', 'target'] as const;
export type PipelineRole = (typeof PIPELINE_ROLES)[number];

interface ProcessSpec {
  /** Executable, e.g. process.execPath. */
  readonly command: string;
  readonly args: readonly string[];
}

export interface PipelineSpec {
  readonly tap: ProcessSpec;
  readonly target: ProcessSpec;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Each line of the target's stdout, in order; the next line waits for this to settle. */
  readonly onTargetLine: (line: string) => Promise<void>;
  /** Each stderr line of either process. */
  readonly onLog: (role: PipelineRole, line: string) => void;
  /** Aborting asks both processes to stop (SIGTERM): the target commits and prints its last state. */
  readonly signal?: AbortSignal;
  /** Called once both processes exist (tests use it to kill them at chosen points). */
  readonly onSpawn?: (children: Readonly<Record<PipelineRole, ChildProcess>>) => void;
}

export interface ProcessOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The first `FATAL …` line the process printed (runCli's one-line error), if any. */
  readonly fatal: string | undefined;
  /** 1 for the process that exited first, 2 for the other: the first failure is usually the cause. */
  readonly exitOrder: number;
  /** We ended it (SIGTERM) because the target had already stopped. */
  readonly stoppedByRunner: boolean;
}

export type PipelineOutcome = Readonly<Record<PipelineRole, ProcessOutcome>>;

/**
 * Runs `tap | target` as two processes joined by an OS pipe, as a shell does: the tap's stdout
 * is the target's stdin and never passes through this process. Resolves when both have exited
 * and every line they printed has been handled.
 */
export async function spawnPipeline(spec: PipelineSpec): Promise<PipelineOutcome> {
  // Both stop once this process is gone (kill -9 leaves them no other word of it): never a second run beside the next one.
  const base = { env: { ...spec.env, [PARENT_PID_ENV]: String(process.pid) }, cwd: spec.cwd, windowsHide: true } as const;
  const tap = spawn(spec.tap.command, spec.tap.args, { ...base, stdio: ['ignore', 'pipe', 'pipe'] });
  let target: ChildProcess;
  try {
    target = spawn(spec.target.command, spec.target.args, { ...base, stdio: [tap.stdout, 'pipe', 'pipe'] });
  } catch (error) {
    tap.kill('SIGKILL');
    throw error;
  }
  // Our copy of the pipe's read end must go: while we hold it, a dead target would leave the
  // tap blocked on a full pipe instead of getting EPIPE.
  tap.stdout?.destroy();
  spec.onSpawn?.({ tap, target });
  // Stopping ends the tap only: the target then reads end of input, commits what it holds and
  // prints its state. Signalling the target too would be a second signal when Ctrl-C already
  // reached it through the process group, and a second signal means "exit without committing".
  const stop = () => {
    if (tap.exitCode === null && tap.signalCode === null) tap.kill('SIGTERM');
  };
  spec.signal?.addEventListener('abort', stop, { once: true });
  if (spec.signal?.aborted) stop(); // a stop that came before the children started

  const fatal: Partial<Record<PipelineRole, string>> = {};
  const drainStderr = async (role: PipelineRole, child: ChildProcess) => {
    if (!child.stderr) return;
    for await (const line of readLines(child.stderr)) {
      // A child's logger redacts what it knows; this also catches what it printed past its logger, and the secrets only the runner knows.
      const text = redact(line.text);
      if (fatal[role] === undefined && text.startsWith('FATAL ')) fatal[role] = text;
      spec.onLog(role, text);
    }
  };
  const drainStdout = async () => {
    if (!target.stdout) return;
    for await (const { text } of readLines(target.stdout)) await spec.onTargetLine(text);
  };
  let exits = 0;
  const exited = async (child: ChildProcess) => {
    const [code, signal] =
      child.exitCode !== null || child.signalCode !== null
        ? [child.exitCode, child.signalCode]
        : ((await once(child, 'exit')) as [number | null, NodeJS.Signals | null]);
    return [code, signal, ++exits] as const;
  };

  // A target that stops early leaves nobody to read; end the tap like Meltano does.
  const tapExit = exited(tap);
  let tapStopped = false;
  const targetExit = exited(target).then((result) => {
    if (tap.exitCode === null && tap.signalCode === null) tapStopped = tap.kill('SIGTERM');
    return result;
  });
  const [[tapCode, tapSignal, tapOrder], [targetCode, targetSignal, targetOrder]] = await Promise.all([
    tapExit,
    targetExit,
    drainStderr('tap', tap),
    drainStderr('target', target),
    drainStdout(),
  ]);
  spec.signal?.removeEventListener('abort', stop);
  return {
    tap: { code: tapCode, signal: tapSignal, fatal: fatal.tap, exitOrder: tapOrder, stoppedByRunner: tapStopped },
    target: { code: targetCode, signal: targetSignal, fatal: fatal.target, exitOrder: targetOrder, stoppedByRunner: false },
  };
}
