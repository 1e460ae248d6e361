import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Each test file, and every process it starts, makes its temporary files in a folder of its own.
 * Runners delete the config folders of runners on this host that are gone (a killed runner's
 * secrets), with a log line: without this, a runner one file kills on purpose was swept by another
 * file's run (or a run of another checkout on the machine), and that file's exact output had a
 * line too many. The folder is open to all like /tmp (sticky, world-writable): run as root, an
 * embedded PostgreSQL's initdb runs as the postgres user and reads its password file from there.
 */
const base = (process.env.QBO_TEST_TMP_BASE ??= tmpdir());
const dir = mkdtempSync(path.join(base, 'test-file-'));
chmodSync(dir, 0o1777);
process.env.TMPDIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
