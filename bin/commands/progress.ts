/**
 * A spinner on stderr while the CLI waits (ora), shown only to people: never when stderr is
 * not a terminal or output is JSON, so scripts and logs get clean output.
 */
import ora, { type Ora } from 'ora';

/** A progress line that can be updated and stopped any number of times. */
export class Progress {
  private spinner: Ora | undefined;

  constructor(private readonly enabled: boolean) {}

  /** Shows `text` with a spinner. */
  start(text: string): void {
    if (!this.enabled || process.stderr.isTTY !== true) return;
    this.spinner ??= ora({ stream: process.stderr, discardStdin: false });
    this.spinner.start(text);
  }

  /** Changes the text (starts the spinner if needed). */
  update(text: string): void {
    if (this.spinner === undefined) this.start(text);
    else this.spinner.text = text;
  }

  /** Removes the line. */
  stop(): void {
    this.spinner?.stop();
  }
}
