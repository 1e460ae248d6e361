import { open } from 'node:fs/promises';
import path from 'node:path';
import { readUserFile, UsageError } from 'singer-kit';
import { SECRET_FILE_KEYS } from './companiesSchema.js';
import { parseCompanies, type Companies, type Company } from './parseCompanies.js';

/** Reads and checks a companies file; a missing or malformed file is a UsageError naming it. */
export function loadCompanies(file: string, cwd = process.cwd()): Companies {
  const absolute = path.resolve(cwd, file);
  const text = readUserFile(absolute, (reason) => `companies file ${file}: ${reason === 'no such file' ? reason : `cannot be read (${reason})`}`);
  return parseCompanies(text, absolute, file);
}

/** What is wrong with a secret file: what `company list` counts per company. */
export type SecretFileState = 'missing' | 'empty' | 'not a file' | 'unreadable';

/** A secret file of a company that cannot be used: what is wrong, and the line that says where. */
export interface SecretProblem {
  readonly state: SecretFileState;
  /** `companies file <file>:<line>:<col>: company <name>: <key> <path> <what>`. */
  readonly line: string;
}

/** Why a secret file cannot be used, or undefined when it can (it is opened, never read into a message). */
async function secretFileProblem(file: string): Promise<{ state: SecretFileState; text: string } | undefined> {
  try {
    const handle = await open(file, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return { state: 'not a file', text: 'is not a file' };
      if (stat.size === 0) return { state: 'empty', text: 'is empty' };
      return undefined;
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'missing', text: 'does not exist' };
    return { state: 'unreadable', text: code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? String(error)})` };
  }
}

/** Every secret file of a company that cannot be used (empty when all are fine). */
export async function secretFileProblems(company: Company): Promise<SecretProblem[]> {
  const problems: SecretProblem[] = [];
  for (const key of SECRET_FILE_KEYS) {
    const secret = company.secretFiles[key];
    if (!secret) continue;
    const problem = await secretFileProblem(secret.path);
    if (problem)
      problems.push({ state: problem.state, line: `companies file ${secret.where}: company ${company.name}: ${key} ${secret.given} ${problem.text}` });
  }
  return problems;
}

/** Every secret file of a company that cannot be used, as `where: what` lines (empty when all are fine). */
export async function secretProblems(company: Company): Promise<string[]> {
  return (await secretFileProblems(company)).map((p) => p.line);
}

/** One company by name, or all; an unknown name is a UsageError listing the file's companies. */
export function pickCompanies(companies: Companies, name: string | undefined, shownAs: string): readonly Company[] {
  const picked = name === undefined ? companies.companies : companies.companies.filter((c) => c.name === name);
  if (picked.length === 0) {
    throw new UsageError(
      `--company: no company ${JSON.stringify(name)} in companies file ${shownAs}; its companies: ${companies.companies.map((c) => c.name).join(', ')}`,
    );
  }
  return picked;
}

/** Stops with a UsageError naming the first secret file of these companies that cannot be used. */
export async function requireSecretFiles(companies: readonly Company[]): Promise<void> {
  for (const company of companies) {
    const [first] = await secretProblems(company);
    if (first) throw new UsageError(first);
  }
}

/**
 * The companies a command runs: one by name, or all; an unknown name stops it before anything
 * runs, as does an unusable secret file of the one company named. Over all companies a secret
 * file is checked by each company's own run (`loadCompany`), so a company whose file is missing
 * fails alone and the others still run.
 */
export async function selectCompanies(companies: Companies, name: string | undefined, shownAs: string): Promise<readonly Company[]> {
  const selected = pickCompanies(companies, name, shownAs);
  if (name !== undefined) await requireSecretFiles(selected);
  return selected;
}

/** The one company a run is for, read from its file now (a file edited since a trigger was added applies). */
export async function loadCompany(ref: { readonly file: string; readonly name: string }, cwd = process.cwd()): Promise<Company> {
  const companies = loadCompanies(ref.file, cwd);
  const [company] = await selectCompanies(companies, ref.name, ref.file);
  return company as Company;
}
