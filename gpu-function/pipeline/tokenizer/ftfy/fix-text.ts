// `ftfy.fix_text` with its default configuration (ftfy 6.3, ftfy/__init__.py), the first step of
// openai/CLIP's `basic_clean`. Prompts are cleaned the way CLIP's training text was, so that
// "cafÃ©", "caf&eacute;", "ﬁsh", "ＬＯＵＤ" and “curly quotes” get the tokens of their intended text.
//
// Everything ftfy's default fix_text does is ported (see docs/pipeline-parts.md for the list and
// the known edges: Unicode-version differences between Python and Node).
import { fixEncoding } from './fix-encoding';
import {
  fixC1Controls,
  fixCharacterWidth,
  fixLatinLigatures,
  fixLineBreaks,
  fixSurrogates,
  removeControlChars,
  removeTerminalEscapes,
  uncurlQuotes,
  unescapeHtml,
} from './fixes';

/** ftfy's TextFixerConfig.max_decode_length: the longest segment fixed at once. */
const MAX_DECODE_LENGTH = 1_000_000;

/** `ftfy.fix_text(text)`. */
export function fixText(text: string): string {
  // Fix line by line (segments end after '\n'), as ftfy does to bound the work per segment.
  // unescape_html="auto": once a segment contains '<', the text is taken as HTML and entities are
  // left alone from there on.
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    if (end - pos > MAX_DECODE_LENGTH) end = pos + MAX_DECODE_LENGTH;
    const segment = text.slice(pos, end);
    if (segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}

/** `fix_and_explain`: apply every fixer in ftfy's order until the text stops changing. */
function fixSegment(text: string, unescape: boolean): string {
  for (;;) {
    const original = text;
    if (unescape) text = unescapeHtml(text);
    text = fixEncoding(text);
    text = fixC1Controls(text);
    text = fixLatinLigatures(text);
    text = fixCharacterWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = fixSurrogates(text);
    text = removeTerminalEscapes(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === original) return text;
  }
}
