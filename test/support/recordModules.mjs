// Loaded with `node --import` by test/cliStartup.test.ts: appends the path of every file the process
// loads to the file named by RECORD_MODULES_TO, one a line: each ES module (and CommonJS file an ES
// module imports) through a loader hook, which runs in a thread of its own and writes as it goes,
// plus the CommonJS files those require()d, listed at exit.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const to = process.env.RECORD_MODULES_TO;
if (to) {
  const hooks = `
    import { appendFileSync } from 'node:fs';
    import { fileURLToPath } from 'node:url';
    let to;
    export function initialize(data) { to = data.to; }
    export async function load(url, context, nextLoad) {
      if (url.startsWith('file:')) appendFileSync(to, fileURLToPath(url) + '\\n');
      return nextLoad(url, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { to } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => appendFileSync(to, Object.keys(require.cache).join('\n') + '\n'));
}
