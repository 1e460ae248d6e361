import { normaliseBackfill, type BackfillRequest } from '../BackfillRequest.js';
import { checkBackfill } from '../checkBackfill.js';
import { formatInstant, parseInstant } from 'singer-kit';
import type { Company } from '../companies/parseCompanies.js';
import type { Trigger } from './Trigger.js';
import { TriggerStore } from './TriggerStore.js';

/**
 * Records a one-time trigger; `at` may carry any offset and is stored in UTC. The backfill is
 * checked now, not when it fires: its arguments, every setting as the tap and target will read
 * them (with this environment), the token store and the job's state file.
 */
export async function addTrigger(
  store: TriggerStore,
  at: string,
  backfill: BackfillRequest,
  /** `company`: the request's company, as its companies file says now. */
  options: { readonly now?: Date; readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly company?: Company } = {},
): Promise<Trigger> {
  const when = parseInstant(at, '--at');
  const now = options.now ?? new Date();
  const checked = await checkBackfill(backfill, { ...options, at: new Date(Math.max(now.getTime(), when.toMillis())) });
  const trigger: Trigger = {
    id: TriggerStore.newId(when.toJSDate()),
    at: formatInstant(when),
    atGiven: at,
    createdAt: now.toISOString(),
    backfill: normaliseBackfill(checked.job),
    status: 'pending',
    enabled: true,
  };
  await store.save(trigger);
  return trigger;
}
