import type { Writable } from 'node:stream';
import { LineWriter } from 'singer-kit';
import { StateGate } from './StateGate.js';

/**
 * The only writer of the target's stdout: remembers STATE values (through a StateGate) and
 * prints one only after the commit that covers it. Once silenced (the run failed), prints nothing.
 */
export class StatePrinter {
  readonly #gate = new StateGate();
  readonly #out: LineWriter;
  #silenced = false;
  #printed = 0;

  constructor(output: Writable) {
    this.#out = new LineWriter(output);
  }

  /** How many state lines were printed. */
  get printed(): number {
    return this.#printed;
  }

  /** Remembers a received STATE value, as its JSON text. */
  receive(valueText: string): void {
    this.#gate.receive(valueText);
  }

  /** The state covered by a commit that begins now (every record received so far is in it or committed). */
  cut(): { readonly text: string } | undefined {
    return this.#gate.cut();
  }

  /** After the commit that covers `cut` returned: prints its state, unless printed already. */
  async printCommitted(cut: { readonly text: string } | undefined): Promise<void> {
    const state = this.#gate.release(cut);
    if (state === undefined || this.#silenced) return;
    await this.#out.writeLine(state);
    await this.#out.flush();
    this.#printed += 1;
  }

  /** The run failed: nothing more is printed. */
  silence(): void {
    this.#silenced = true;
  }
}
