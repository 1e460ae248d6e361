import path from 'node:path';
import { envFileName, envName, UsageError } from 'singer-kit';
import { ENV_PREFIX as TAP_ENV_PREFIX } from 'tap-quickbooks';
import { TARGET_ENV_PREFIX } from 'target-postgres-raw';
import { ALWAYS_SELECTED } from '../selectCatalog.js';
import { KNOWN_STREAMS, SECRET_FILES, SECRET_FILE_KEYS } from './companiesSchema.js';
import { companyStateDir, companyTokenStore } from './companyRun.js';
import type { Companies, Company, SettingValue } from './parseCompanies.js';
import { KUBERNETES_DEFAULTS, type KubernetesOptions } from './kubernetesOptions.js';

/** The names a company's things have past one machine (Meltano plugins, job, schedule; Kubernetes objects). */
function exportNames(company: Pick<Company, 'name'>) {
  return {
    extractor: `tap-quickbooks--${company.name}`,
    loader: `target-postgres-raw--${company.name}`,
    job: `qbo-${company.name}`,
    schedule: `qbo-${company.name}-sync`,
    cronJob: `qbo-${company.name}`,
    secret: `qbo-${company.name}`,
  };
}

/** A path as the project (where meltano.yml is, the working directory of its plugins) reaches it. */
function fromProject(file: string, projectDir: string): string {
  const relative = path.relative(projectDir, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/** The variables that name a company's secret files for its plugins (`TAP_QUICKBOOKS_REFRESH_TOKEN_FILE`, …), project-relative. */
function secretEnv(company: Company, projectDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of SECRET_FILE_KEYS) {
    const file = company.secretFiles[key];
    if (file) env[envFileName(SECRET_FILES[key].prefix, SECRET_FILES[key].setting)] = fromProject(file.path, projectDir);
  }
  return env;
}

const asEnv = (value: SettingValue) => String(value);

/**
 * The Meltano side of a companies file, as a file meltano.yml includes (`include_paths`): per
 * company an extractor and a loader inheriting the project's `tap-quickbooks` and
 * `target-postgres-raw` (its realm, token store, start, settings and streams; its schema), a job
 * `qbo-<name>` and, when the company has a `schedule:`, a schedule running it. Secrets stay in
 * their files: each plugin's `env` names them. The company's realm, token store and schema are
 * also set in `env`, so a project-wide `.env` of one company can never reach another's run.
 */
export function meltanoCompanies(
  companies: Companies,
  projectDir: string,
): { readonly project: Record<string, unknown>; readonly warnings: readonly string[] } {
  const stateRoot = path.join(projectDir, 'state');
  const warnings: string[] = [];
  const extractors = companies.companies.map((c) => {
    const tokenStore = fromProject(companyTokenStore(companyStateDir(stateRoot, c.name), c), projectDir);
    const all = c.streams.length === KNOWN_STREAMS.length;
    return {
      name: exportNames(c).extractor,
      inherit_from: 'tap-quickbooks',
      config: { ...c.tap, realm_id: c.realmId, token_store: tokenStore, ...(c.start ? { start_date: c.start } : {}) },
      // A select names every stream the tap sends: the evidence stream too, as the runner's own catalog does.
      ...(all ? {} : { select: [...c.streams, ...ALWAYS_SELECTED].map((s) => `${s}.*`) }),
      env: {
        [envName(TAP_ENV_PREFIX, 'realm_id')]: c.realmId,
        [envName(TAP_ENV_PREFIX, 'token_store')]: tokenStore,
        ...Object.fromEntries(Object.entries(c.tap).map(([k, v]) => [envName(TAP_ENV_PREFIX, k), asEnv(v)])),
        ...Object.fromEntries(Object.entries(secretEnv(c, projectDir)).filter(([k]) => k.startsWith(`${TAP_ENV_PREFIX}_`))),
      },
    };
  });
  const loaders = companies.companies.map((c) => ({
    name: exportNames(c).loader,
    inherit_from: 'target-postgres-raw',
    config: { ...c.target, schema: c.schema },
    env: {
      [envName(TARGET_ENV_PREFIX, 'schema')]: c.schema,
      ...Object.fromEntries(Object.entries(c.target).map(([k, v]) => [envName(TARGET_ENV_PREFIX, k), asEnv(v)])),
      ...Object.fromEntries(Object.entries(secretEnv(c, projectDir)).filter(([k]) => k.startsWith(`${TARGET_ENV_PREFIX}_`))),
    },
  }));
  const jobs = companies.companies.map((c) => ({ name: exportNames(c).job, tasks: [`${exportNames(c).extractor} ${exportNames(c).loader}`] }));
  const schedules = companies.companies.flatMap((c) => {
    if (!c.schedule) return [];
    if (c.schedule.tz !== 'UTC')
      warnings.push(
        `company ${c.name}: its schedule "${c.schedule.cron}" is read in ${c.schedule.tz}; Meltano has no time zone for a schedule (its orchestrator decides, usually UTC): check the interval of ${exportNames(c).schedule}`,
      );
    return [{ name: exportNames(c).schedule, interval: c.schedule.cron, job: exportNames(c).job }];
  });
  return { project: { plugins: { extractors, loaders }, jobs, ...(schedules.length > 0 ? { schedules } : {}) }, warnings };
}

/** A Kubernetes Secret's key for a file: its name, in the characters keys allow. */
const keyOf = (file: string) => path.basename(file).replace(/[^-._a-zA-Z0-9]/g, '_');

/**
 * One CronJob per company (`qbo-<name>`, on its `schedule:` and time zone) running its Meltano job
 * in the project image: `concurrencyPolicy: Forbid` (a company's job never overlaps itself, so its
 * realm's budget is its own), the company's secret files mounted from Kubernetes Secrets at the
 * paths its plugins read (`qbo-<name>` for its own files, `qbo-shared` for files several companies
 * share), and `state/` (its token store) on a claim shared by all. Also returns the `kubectl`
 * commands that create those Secrets from the files, which the manifests never contain.
 */
export function kubernetesCronJobs(
  companies: Companies,
  projectDir: string,
  options: KubernetesOptions = KUBERNETES_DEFAULTS,
): { readonly manifests: ReadonlyArray<Record<string, unknown>>; readonly secretCommands: readonly string[] } {
  const unscheduled = companies.companies.filter((c) => !c.schedule);
  if (unscheduled.length > 0) {
    throw new UsageError(
      `a CronJob needs a schedule: companies ${unscheduled.map((c) => `${c.name} (${c.where})`).join(', ')} have no schedule: (cron) in the companies file, nor under defaults:`,
    );
  }
  // Which companies use each secret file: one company's own go in its Secret, shared ones in qbo-shared.
  const users = new Map<string, Set<string>>();
  for (const c of companies.companies)
    for (const key of SECRET_FILE_KEYS) {
      const file = c.secretFiles[key];
      if (file) users.set(file.path, (users.get(file.path) ?? new Set()).add(c.name));
    }
  const secretOf = (file: string) => ((users.get(file)?.size ?? 0) > 1 ? 'qbo-shared' : `qbo-${[...(users.get(file) ?? [])][0]}`);
  const secretFiles = new Map<string, Map<string, string>>();
  for (const file of users.keys()) {
    const secret = secretOf(file);
    const keys = secretFiles.get(secret) ?? new Map<string, string>();
    let key = keyOf(file);
    for (let n = 2; [...keys.entries()].some(([k, f]) => k === key && f !== file); n++) key = `${keyOf(file)}-${n}`;
    keys.set(key, file);
    secretFiles.set(secret, keys);
  }
  const keyIn = (secret: string, file: string) =>
    [...(secretFiles.get(secret) ?? new Map<string, string>()).entries()].find(([, f]) => f === file)?.[0] as string;
  const secretCommands = [...secretFiles.entries()].map(
    ([secret, keys]) =>
      `kubectl create secret generic ${secret}${options.namespace ? ` -n ${options.namespace}` : ''} ${[...keys.entries()].map(([key, file]) => `--from-file=${key}=${fromProject(file, projectDir)}`).join(' ')}`,
  );
  const manifests = companies.companies.map((c) => {
    const names = exportNames(c);
    const files = SECRET_FILE_KEYS.map((k) => c.secretFiles[k]).filter((f): f is NonNullable<typeof f> => f !== undefined);
    const secrets = [...new Set(files.map((f) => secretOf(f.path)))];
    const mountPath = (file: string) => {
      const rel = fromProject(file, projectDir);
      return path.isAbsolute(rel) ? rel : path.posix.join(options.projectPath, rel.split(path.sep).join('/'));
    };
    return {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {
        name: names.cronJob,
        ...(options.namespace ? { namespace: options.namespace } : {}),
        labels: { 'app.kubernetes.io/part-of': 'qbo-pipeline', 'qbo-pipeline/company': c.name, 'qbo-pipeline/realm': c.realmId },
      },
      spec: {
        schedule: c.schedule?.cron,
        timeZone: c.schedule?.tz,
        concurrencyPolicy: 'Forbid',
        jobTemplate: {
          spec: {
            backoffLimit: 2,
            template: {
              metadata: { labels: { 'qbo-pipeline/company': c.name } },
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'meltano',
                    image: options.image,
                    workingDir: options.projectPath,
                    args: ['run', names.job],
                    env: [{ name: 'MELTANO_ENVIRONMENT', value: 'prod' }],
                    volumeMounts: [
                      ...files.map((f) => ({ name: secretOf(f.path), mountPath: mountPath(f.path), subPath: keyIn(secretOf(f.path), f.path), readOnly: true })),
                      { name: 'state', mountPath: path.posix.join(options.projectPath, 'state') },
                    ],
                  },
                ],
                volumes: [
                  ...secrets.map((s) => ({ name: s, secret: { secretName: s, defaultMode: 0o400 } })),
                  { name: 'state', persistentVolumeClaim: { claimName: options.stateClaim } },
                ],
              },
            },
          },
        },
      },
    };
  });
  return { manifests, secretCommands };
}
