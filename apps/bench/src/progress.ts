import cliProgress from "cli-progress";

/**
 * A progress bar on stderr (cli-progress): redrawn in place on a terminal, a
 * line every few seconds in a log file or CI. `null` when quiet.
 */
export function progressBar(label: string, total: number, quiet: boolean, status = "starting") {
  if (quiet) return null;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} | {status} | {duration_formatted} eta {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 3000,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.legacy,
  );
  bar.start(total, 0, { status });
  return {
    update(done: number, status: string) {
      bar.update(done, { status });
    },
    stop() {
      bar.stop();
    },
  };
}
