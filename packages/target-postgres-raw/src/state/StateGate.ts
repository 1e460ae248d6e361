/**
 * Holds the STATE values received and releases one only when a commit covers every record
 * received before it. `cut()` is taken when a flush begins (all records received so far are in
 * that flush or already committed); `release(cut)` after its COMMIT returns the value to print,
 * or undefined when there is nothing new. Never invents a state it did not receive.
 */
export class StateGate {
  #latest: { readonly text: string } | undefined;
  #printed: string | undefined;

  /** Remembers a received STATE value, as the JSON text it came in (printed as it is: every digit kept). */
  receive(valueText: string): void {
    this.#latest = { text: valueText };
  }

  /** The state to print once everything received so far is committed. */
  cut(): { readonly text: string } | undefined {
    return this.#latest;
  }

  /** After the commit that covers `cut`: the line to print, unless it was printed already. */
  release(cut: { readonly text: string } | undefined): string | undefined {
    if (cut === undefined || cut.text === this.#printed) return undefined;
    this.#printed = cut.text;
    return cut.text;
  }
}
