/**
 * What the tap advises when deletions cannot be read from QBO's change data capture (older than
 * its 30 days, or past its 1000-object cap): `qbo-pipeline reconcile --streams a,b`, in one
 * warning for every stream concerned. The one place of its text: qbo-pipeline, which runs the tap
 * and knows what the tap does not (the companies file and company, the job, the settings files),
 * finds it in the tap's warnings (`findReconcileAdvice`) and puts its exact command in its place.
 */
export function reconcileAdvice(streams: readonly string[]): string {
  return `\`qbo-pipeline reconcile --streams ${streams.join(',')}\``;
}

const ADVICE = /`qbo-pipeline reconcile --streams ([a-z_]+(?:,[a-z_]+)*)`/;

/** The advice in a log line: its text (backquotes included) and its streams; undefined when there is none. */
export function findReconcileAdvice(line: string): { readonly text: string; readonly streams: readonly string[] } | undefined {
  const found = ADVICE.exec(line);
  return found ? { text: found[0], streams: found[1]!.split(',') } : undefined;
}
