// Progress of a model download, and the default way of showing it: plain log lines (a container's log
// has no terminal to redraw a bar in), one per finished file and one per 5% of the whole, so a 4 GB
// download says where it is every ~200 MB without flooding the log.

export interface DownloadProgress {
  /** The file being transferred, as a repo path. */
  readonly file: string;
  /** Bytes of that file on disk (resumed bytes included) and its size. */
  readonly fileBytes: number;
  readonly fileSize: number;
  /** Bytes on disk and total over every file this download fetches. */
  readonly bytes: number;
  readonly totalBytes: number;
  /** 1-based position of the file among those fetched. */
  readonly fileIndex: number;
  readonly fileCount: number;
}

export function progressPrinter(log: (line: string) => void, stepPercent = 5): (progress: DownloadProgress) => void {
  let lastStep = -1;
  let lastFinished = '';
  return (p) => {
    const step = p.totalBytes === 0 ? 100 : Math.floor((p.bytes / p.totalBytes) * (100 / stepPercent));
    const finished = p.fileBytes === p.fileSize ? p.file : '';
    if (step === lastStep && (finished === '' || finished === lastFinished)) return;
    lastStep = step;
    if (finished !== '') lastFinished = finished;
    const percent = p.totalBytes === 0 ? 100 : Math.floor((p.bytes / p.totalBytes) * 100);
    log(
      `model: downloading ${p.file} (${p.fileIndex}/${p.fileCount}) ${formatBytes(p.fileBytes)} / ${formatBytes(p.fileSize)}` +
        `, all files ${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)} (${percent}%)`,
    );
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
