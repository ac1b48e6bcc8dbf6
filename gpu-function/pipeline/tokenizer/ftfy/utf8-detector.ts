// chardata.UTF8_DETECTOR_RE: runs of characters that look like UTF-8 bytes read in a Latin-1-like
// encoding (a lead byte's character followed by continuation bytes' characters). A space may
// stand for a continuation byte A0. The lookbehind skips runs inside a larger garble.
import { UTF8_CLUES as U } from './ftfy-tables';

export const UTF8_DETECTOR = new RegExp(
  `(?<![${U.utf8_continuation_strict}])` +
    `(?:[${U.utf8_first_of_2}][${U.utf8_continuation}]` +
    `|[${U.utf8_first_of_3}][${U.utf8_continuation}]{2}` +
    `|[${U.utf8_first_of_4}][${U.utf8_continuation}]{3})+`,
  'gu',
);
