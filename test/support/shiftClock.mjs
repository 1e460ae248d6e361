// Loaded with `node --import` (NODE_OPTIONS) by tests that move time: the process's clock reads
// QBO_TEST_CLOCK_OFFSET_MS later than the real one (Date.now() and new Date() without arguments),
// as libfaketime would, so a runner and its tap and target live on the emulator's clock while a
// test's days pass in seconds. Timers are not touched.
const offset = Number(process.env.QBO_TEST_CLOCK_OFFSET_MS ?? '0');
if (Number.isFinite(offset) && offset !== 0) {
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}
