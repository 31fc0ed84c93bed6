/**
 * The kernel log's way onto the console's stdout. On a terminal, a line printed while the user
 * types erases the prompt line, prints, and redraws the prompt with what was typed (cursor kept),
 * so log lines never land in the middle of the input. While muted (dmesg -w prints the records
 * itself) the logger's lines are dropped. A reader gone (EPIPE) drops later lines, as the
 * logger's own stdout sink does.
 */
import { Writable } from 'node:stream';
import type { Interface } from 'node:readline';

export class ConsoleOutput extends Writable {
  /** True while the prompt is on the screen (no command running). */
  atPrompt = false;
  muted = false;
  rl: Interface | null = null;

  private gone = false;

  constructor(private readonly tty: NodeJS.WriteStream) {
    super({ decodeStrings: false });
    tty.on('error', () => {
      this.gone = true;
    });
    // Each chunk goes to the terminal at once (so muting takes effect from the next write on);
    // what the reader has not taken yet waits in the terminal's queue: report that as ours.
    Object.defineProperty(this, 'writableLength', { get: () => (this.gone ? 0 : tty.writableLength) });
  }

  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    if (!this.muted && !this.gone) {
      if (this.atPrompt && this.rl) {
        this.tty.write('\r\x1b[K');
        this.tty.write(chunk);
        this.rl.prompt(true);
      } else {
        this.tty.write(chunk);
      }
    }
    done();
  }
}
