// The default progress output: one line per finished file and per 5% of the whole.
import { describe, expect, it } from 'vitest';
import { formatBytes, progressPrinter, type DownloadProgress } from '../../../gpu-function/model/download-progress';

function event(file: string, fileBytes: number, fileSize: number, bytes: number, fileIndex: number): DownloadProgress {
  return { file, fileBytes, fileSize, bytes, totalBytes: 3_000_000_000, fileIndex, fileCount: 2 };
}

describe('progressPrinter', () => {
  it('prints at each 5% of the total and when a file completes, nothing in between', () => {
    const lines: string[] = [];
    const print = progressPrinter((line) => lines.push(line));
    print(event('unet/model.onnx', 0, 1_000_000, 0, 1));
    print(event('unet/model.onnx', 500_000, 1_000_000, 500_000, 1)); // same 0% step
    print(event('unet/model.onnx', 1_000_000, 1_000_000, 1_000_000, 1)); // file done
    print(event('unet/weights.pb', 10_000_000, 2_999_000_000, 11_000_000, 2)); // still 0%
    print(event('unet/weights.pb', 149_000_000, 2_999_000_000, 150_000_000, 2)); // 5%
    print(event('unet/weights.pb', 150_000_000, 2_999_000_000, 151_000_000, 2));
    print(event('unet/weights.pb', 2_999_000_000, 2_999_000_000, 3_000_000_000, 2)); // done, 100%
    expect(lines).toEqual([
      'model: downloading unet/model.onnx (1/2) 0 B / 1.00 MB, all files 0 B / 3.00 GB (0%)',
      'model: downloading unet/model.onnx (1/2) 1.00 MB / 1.00 MB, all files 1.00 MB / 3.00 GB (0%)',
      'model: downloading unet/weights.pb (2/2) 149.0 MB / 3.00 GB, all files 150.0 MB / 3.00 GB (5%)',
      'model: downloading unet/weights.pb (2/2) 3.00 GB / 3.00 GB, all files 3.00 GB / 3.00 GB (100%)',
    ]);
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [717_164, '717.2 kB'],
    [12_345_678, '12.3 MB'],
    [3_438_167_536, '3.44 GB'],
  ])('formats %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
