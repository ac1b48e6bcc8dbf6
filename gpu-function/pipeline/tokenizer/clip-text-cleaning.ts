// The text cleaning of openai/CLIP's tokenizer (clip/simple_tokenizer.py), applied to a prompt
// before it is split into words:
//   basic_clean:      ftfy.fix_text, html.unescape twice, strip
//   whitespace_clean: re.sub(r'\s+', ' ', text).strip()   (the `regex` module's \s)
//   then .lower()
// Stable Diffusion's text encoder was trained on CLIP's tokens of text cleaned this way; the
// reference ids in test/fixtures/clip-tokenizer/cases.json come from exactly this function.
import { fixText } from './ftfy/fix-text';
import { PY_REGEX_SPACE, pyStrip } from './ftfy/python-classes';
import { htmlUnescape } from './html-unescape';

const WHITESPACE_RUN = new RegExp(`[${PY_REGEX_SPACE}]+`, 'gu');

/** `whitespace_clean(basic_clean(text)).lower()` of openai/CLIP. */
export function cleanPromptText(text: string): string {
  let cleaned = fixText(text);
  cleaned = htmlUnescape(htmlUnescape(cleaned));
  cleaned = pyStrip(cleaned);
  cleaned = pyStrip(cleaned.replace(WHITESPACE_RUN, ' '));
  // Both Python's str.lower and toLowerCase apply Unicode's full lower-case mapping with the
  // final-sigma rule and no locale.
  return cleaned.toLowerCase();
}
