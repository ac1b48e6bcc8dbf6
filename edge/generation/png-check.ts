// Checks that bytes are one complete, intact PNG of the expected size before they are stored:
// the 8-byte signature, IHDR first with the width and height (PNG spec, W3C REC 3rd ed. §5.2, §11.2.1),
// a well-formed chunk sequence whose CRCs match (§5.3, CRC-32 of ISO 3309), ending with IEND
// exactly at the last byte, so a truncated or corrupted body is never cached as a picture.
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type PngCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function checkPng(bytes: Uint8Array, width: number, height: number): PngCheck {
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    return { ok: false, reason: 'not a PNG (bad signature)' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE.length;
  let first = true;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > bytes.length) return { ok: false, reason: `truncated in chunk ${type}` };
    if (crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) {
      return { ok: false, reason: `CRC mismatch in chunk ${type}` };
    }
    if (first) {
      if (type !== 'IHDR' || length !== 13) return { ok: false, reason: 'IHDR is not the first chunk' };
      const w = view.getUint32(offset + 8);
      const h = view.getUint32(offset + 12);
      if (w !== width || h !== height) return { ok: false, reason: `size ${w}×${h}, expected ${width}×${height}` };
      first = false;
    }
    if (type === 'IEND') {
      return end === bytes.length ? { ok: true } : { ok: false, reason: 'bytes after IEND' };
    }
    offset = end;
  }
  return { ok: false, reason: first ? 'no IHDR' : 'truncated (no IEND)' };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as the PNG spec's Annex D sample code computes it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
