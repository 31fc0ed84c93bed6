/**
 * The kernel log's way onto a terminal the console's prompt is on: a line printed while the user
 * types erases the prompt line, prints, and redraws the prompt with what was typed (cursor kept),
 * so log lines never land in the middle of the input. While muted (dmesg -w prints the records
 * itself) the logger's lines are dropped.
 */
import { Writable } from 'node:stream';
import type { Interface } from 'node:readline';

export class PromptSafeOutput extends Writable {
  /** True while the prompt is on the screen (no command running). */
  atPrompt = false;
  muted = false;
  rl: Interface | null = null;

  constructor(private readonly tty: NodeJS.WriteStream) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    if (this.muted) return done();
    if (this.atPrompt && this.rl) {
      this.tty.write('\r\x1b[K');
      this.tty.write(chunk, () => done());
      this.rl.prompt(true);
      return;
    }
    this.tty.write(chunk, () => done());
  }
}
