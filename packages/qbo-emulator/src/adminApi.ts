import type { IncomingMessage } from 'node:http';
import type { EmulatedCompany, Emulator } from './Emulator.js';
import { validateFaultPlan } from './faults.js';

export interface AdminAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * The admin API, so an emulator started by the CLI can be driven from another process.
 * JSON in, JSON out, on loopback only; it is not part of QBO and is never logged or throttled.
 *
 *   GET  /__admin/stats | /__admin/log | /__admin/credentials | /__admin/truth?stream=invoices | /__admin/companies
 *   POST /__admin/faults {"rules":[…]}      POST /__admin/latency {"ms":200}
 *   POST /__admin/visibility-delay {"seconds":30}   (records show in queries that long after their LastUpdatedTime)
 *   POST /__admin/touch {"entity","id"}     POST /__admin/touch-after-page {"entity","afterPage","count"}
 *   POST /__admin/delete {"entity","id"}    POST /__admin/expire-access-tokens
 *   POST /__admin/create {"entity"} → {"id"}   POST /__admin/update {"entity","id","members":{"TotalAmt":"1.005"}}
 *   POST /__admin/void {"entity","id"}      GET|POST /__admin/now {"now":"2025-02-01T00:00:00Z"} (the clock, set)
 *   POST /__admin/access-token-max-uses {"uses":40}   ({"uses":null} turns the fault off)
 *   POST /__admin/revoke                    POST /__admin/reconnect
 * Company routes act on the first company unless `realm_id` is given (query string or body).
 */
export function handleAdmin(req: IncomingMessage, url: URL, posted: string, emulator: Emulator): AdminAnswer {
  const ok = (value: unknown = { ok: true }): AdminAnswer => ({ status: 200, text: JSON.stringify(value) });
  const route = `${req.method} ${url.pathname.slice('/__admin/'.length)}`;
  try {
    const input = (posted ? JSON.parse(posted) : {}) as Record<string, unknown>;
    const text = (key: string) => {
      const value = input[key];
      if (typeof value !== 'string' || value === '') throw new TypeError(`"${key}" must be a non-empty string`);
      return value;
    };
    const realmId = url.searchParams.get('realm_id') ?? (input.realm_id === undefined ? undefined : text('realm_id'));
    const company: EmulatedCompany = realmId === undefined ? emulator : emulator.company(realmId);
    const credentials = (c: EmulatedCompany) => ({
      realm_id: c.realmId,
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
      refresh_token: c.currentRefreshToken(),
    });
    switch (route) {
      case 'GET stats':
        return ok(emulator.stats());
      case 'GET log':
        return ok(emulator.requestLog());
      // The emulator's own test credentials, for a process that did not start it.
      case 'GET credentials':
        return ok(credentials(company));
      case 'GET companies':
        return ok(emulator.companies.map(credentials));
      case 'GET truth': {
        const rows = company.truth(url.searchParams.get('stream') ?? '');
        // Record texts are spliced in as they are, so amounts keep their digits.
        return {
          status: 200,
          text: `[${rows.map((r) => `{"id":${JSON.stringify(r.id)},"lastUpdated":${JSON.stringify(r.lastUpdated)},"record":${r.text}}`).join(',')}]`,
        };
      }
      case 'POST faults':
        emulator.setFaults(validateFaultPlan(input));
        return ok();
      case 'POST latency':
        emulator.setLatency(Number(input.ms ?? 0));
        return ok();
      case 'POST visibility-delay':
        emulator.setVisibilityDelay(Number(input.seconds ?? 0));
        return ok();
      case 'POST touch':
        company.touch(text('entity'), text('id'));
        return ok();
      case 'POST touch-after-page':
        company.touchAfterPage({ entity: text('entity'), afterPage: Number(input.afterPage), count: Number(input.count ?? 1) });
        return ok();
      case 'POST delete':
        company.deleteTransaction(text('entity'), text('id'));
        return ok();
      case 'POST create':
        return ok({ id: company.create(text('entity')) });
      case 'POST update': {
        const members = input.members as Record<string, unknown> | undefined;
        if (typeof members !== 'object' || members === null || Object.values(members).some((v) => typeof v !== 'string'))
          throw new TypeError('"members" must map member names to raw JSON texts, e.g. {"TotalAmt":"1234567.105"}');
        company.update(text('entity'), text('id'), members as Record<string, string>);
        return ok();
      }
      case 'POST void':
        company.voidTransaction(text('entity'), text('id'));
        return ok();
      case 'GET now':
        return ok({ now: emulator.now().toISOString() });
      case 'POST now': {
        const at = new Date(text('now'));
        if (Number.isNaN(at.getTime())) throw new TypeError('"now" must be an ISO 8601 instant');
        emulator.setNow(at);
        return ok({ now: emulator.now().toISOString() });
      }
      case 'POST expire-access-tokens':
        company.expireAccessTokens();
        return ok();
      case 'POST access-token-max-uses':
        company.setAccessTokenMaxUses(input.uses === null || input.uses === undefined ? undefined : Number(input.uses));
        return ok();
      case 'POST revoke':
        company.revokeTokens();
        return ok();
      case 'POST reconnect':
        return ok({ realm_id: company.realmId, refresh_token: company.reconnect() });
      default:
        return { status: 404, text: JSON.stringify({ error: `no admin route ${route}` }) };
    }
  } catch (error) {
    return { status: 400, text: JSON.stringify({ error: (error as Error).message }) };
  }
}
