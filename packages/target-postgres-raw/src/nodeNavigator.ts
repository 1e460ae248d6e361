/**
 * Start-up on Node 20: pg (8.23) asks at load whether it runs in a Cloudflare Worker, and
 * without a global `navigator` it constructs a fetch Response to find out, which loads Node's
 * whole fetch implementation (undici): ~25 ms of CPU at every start of the target. Node 21 and
 * later define `navigator.userAgent` ('Node.js/<major>') themselves; this defines the same on
 * Node 20. cli.ts imports it before anything that imports pg. Nothing else the target loads reads
 * `navigator`.
 */
if (!('navigator' in globalThis)) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` },
    configurable: true,
    writable: true,
  });
}
