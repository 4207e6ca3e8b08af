/**
 * A progress bar on stderr for long work: redrawn in place on a terminal, one
 * line per update (at most every few seconds) when stderr is a file or a CI log.
 */
export class ProgressBar {
  private readonly total: number;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly started = Date.now();
  private lastLine = 0;

  constructor(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
    this.label = label;
    this.total = Math.max(1, total);
    this.tty = Boolean(stream.isTTY);
    this.stream = stream;
  }

  update(done: number, status = ""): void {
    const frac = Math.min(1, done / this.total);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
    const line = `${this.label} [${bar}] ${done}/${this.total} ${fmt(elapsed)} eta ${fmt(eta)} ${status}`;
    if (this.tty) {
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
      if (done >= this.total) this.stream.write("\n");
    } else if (done >= this.total || Date.now() - this.lastLine > 3000 || done === 1) {
      this.lastLine = Date.now();
      this.stream.write(`${line}\n`);
    }
  }
}

function fmt(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** The RL progress bar's status: this step's mean score and accuracy, and the latest held-out pass@1 once there is one. */
export function rlStatus(record: Record<string, unknown>, heldOut: number | undefined): string {
  const base = `score ${two(record["critic/score/mean"])} acc ${two(record.accuracy)}`;
  return heldOut === undefined || !Number.isFinite(heldOut) ? base : `${base} held-out ${(heldOut * 100).toFixed(1)}%`;
}

function two(x: unknown): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toFixed(2) : "-";
}
