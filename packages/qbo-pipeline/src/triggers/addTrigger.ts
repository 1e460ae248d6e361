import { normaliseBackfill, resolveBackfill, type BackfillRequest } from '../BackfillRequest.js';
import { formatInstant, parseInstant } from 'singer-kit';
import type { Trigger } from './Trigger.js';
import { TriggerStore } from './TriggerStore.js';

/** Records a one-time trigger; `at` may carry any offset and is stored in UTC. The backfill is checked now, not at run time. */
export async function addTrigger(
  store: TriggerStore,
  at: string,
  backfill: BackfillRequest,
  options: { readonly now?: Date; readonly cwd?: string } = {},
): Promise<Trigger> {
  const when = parseInstant(at, '--at');
  const now = options.now ?? new Date();
  const trigger: Trigger = {
    id: TriggerStore.newId(when.toJSDate()),
    at: formatInstant(when),
    atGiven: at,
    createdAt: now.toISOString(),
    backfill: normaliseBackfill(resolveBackfill(backfill, options.cwd)),
    status: 'pending',
    enabled: true,
  };
  await store.save(trigger);
  return trigger;
}
