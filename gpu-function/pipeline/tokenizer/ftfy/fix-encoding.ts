// ftfy's mojibake repair (ftfy/__init__.py fix_encoding_and_explain and
// _fix_encoding_one_step_and_explain): when a text looks like UTF-8 that was decoded in a
// single-byte encoding ("cafÃ©", "â€œquotedâ€\x9d"), encode it back in that encoding and decode it
// as UTF-8, one layer at a time until nothing changes. Prompts pasted from mis-encoded web pages
// and spreadsheets carry exactly this kind of damage, and CLIP was trained on text cleaned this way.
import { isBad } from './badness';
import { ALTERED_UTF8, restoreByteA0, replaceLossySequences } from './byte-fixes';
import {
  CHARMAP_ENCODINGS,
  CodecError,
  decodeUtf8,
  decodeUtf8Variants,
  encodeCharmap,
  latin1ToWindows1252,
  possibleEncoding,
  type CharmapEncoding,
} from './codecs';
import { fixC1Controls, hasC1Control } from './fixes';
import { UTF8_DETECTOR } from './utf8-detector';

// Non-global copies for yes/no searches: a global regex carries lastIndex between calls, and
// decodeInconsistentUtf8 recurses while UTF8_DETECTOR is in use by String.replace.
const HAS_ALTERED_UTF8 = new RegExp(ALTERED_UTF8.source);
const HAS_UTF8_MOJIBAKE = new RegExp(UTF8_DETECTOR.source, 'u');

/** `ftfy.fix_encoding(text)` with the default configuration. */
export function fixEncoding(text: string): string {
  for (;;) {
    const fixed = fixEncodingOneStep(text);
    if (fixed === text) return text;
    text = fixed;
  }
}

function fixEncodingOneStep(text: string): string {
  if (text.length === 0) return text;
  // ASCII text, and text that does not look like mojibake, stays as it is.
  if (possibleEncoding(text, 'ascii') || !isBad(text)) return text;

  // Most likely: UTF-8 read as a single-byte encoding. Try each in ftfy's order.
  const possible: CharmapEncoding[] = [];
  for (const encoding of CHARMAP_ENCODINGS) {
    if (!possibleEncoding(text, encoding)) continue;
    possible.push(encoding);
    let bytes = encodeCharmap(text, encoding);
    // Spaces that stood for byte A0; not for MacRoman, where it would match an en dash and a space.
    if (encoding !== 'macroman' && HAS_ALTERED_UTF8.test(bytes)) bytes = restoreByteA0(bytes);
    if (encoding.startsWith('sloppy-')) bytes = replaceLossySequences(bytes);
    try {
      return bytes.includes('\xed') || bytes.includes('\xc0') ? decodeUtf8Variants(bytes) : decodeUtf8(bytes);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
  }

  // UTF-8 mojibake embedded in otherwise different text: fix those stretches alone.
  if (HAS_UTF8_MOJIBAKE.test(text)) {
    const fixed = decodeInconsistentUtf8(text);
    if (fixed !== text) return fixed;
  }

  // Latin-1 text with C1 controls was probably Windows-1252. (ftfy checks for 'windows-1252' in
  // the list, which only ever holds 'sloppy-windows-1252', so this branch always runs for Latin-1.)
  if (possible.includes('latin-1')) {
    try {
      const fixed = latin1ToWindows1252(text);
      if (fixed !== text) return fixed;
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
    }
  }

  if (hasC1Control(text)) return fixC1Controls(text);
  return text;
}

/** `ftfy.fixes.decode_inconsistent_utf8`: fix each UTF-8-looking stretch that is bad by itself. */
function decodeInconsistentUtf8(text: string): string {
  return text.replace(UTF8_DETECTOR, (stretch) =>
    stretch.length < text.length && isBad(stretch) ? fixEncoding(stretch) : stretch,
  );
}
