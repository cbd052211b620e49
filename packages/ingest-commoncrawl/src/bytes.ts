import { open, type FileHandle } from 'node:fs/promises';

/** Reads `[start, end)` of a file in chunks; `end` may be Infinity. Shared by the gzip and plain readers. */
export async function* readRange(
  file: string,
  start: number,
  end: number,
  chunkBytes: number,
): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    let pos = start;
    while (pos < end) {
      const want = Math.min(chunkBytes, end - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Reads up to `length` bytes at `position` (fewer at the end of the file). */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return bytesRead === length ? buf : buf.subarray(0, bytesRead);
}

/** Index of `\r\n\r\n` (or a bare `\n\n`, which old and non-conforming writers use) ending a header block. */
export function findHeaderEnd(buf: Buffer, from: number): { end: number; next: number } | null {
  let i = from;
  for (;;) {
    const lf = buf.indexOf(10, i);
    if (lf < 0) return null;
    // A blank line: LF followed by LF, or by CR LF.
    const b1 = buf[lf + 1];
    if (b1 === 10) return { end: lf + 1, next: lf + 2 };
    if (b1 === 13 && buf[lf + 2] === 10) return { end: lf + 1, next: lf + 3 };
    if (b1 === undefined || (b1 === 13 && buf[lf + 2] === undefined)) return null;
    i = lf + 1;
  }
}
