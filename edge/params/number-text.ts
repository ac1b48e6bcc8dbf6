// Numbers in the query are read strictly: plain decimal digits only. Number("1e3"), Number(" 7 "),
// Number("0x10") and parseInt("1.5") all "work" in JavaScript, so we never call them on raw text:
// a URL that does not spell a number plainly is an error, not a guess.
import { z } from 'zod';

const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^-?(?:[0-9]{1,16}(?:\.[0-9]{0,16})?|\.[0-9]{1,16})$/;

/** A whole number written in digits, within [min, max]. */
export function integerText(min: number, max: number) {
  return z
    .string()
    .regex(INTEGER, 'must be a whole number written in digits')
    .transform(Number)
    .pipe(z.int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A decimal number like `7`, `7.5` or `.5` (no exponent, no sign other than "-"), within [min, max]. */
export function decimalText(min: number, max: number) {
  return z
    .string()
    .regex(DECIMAL, 'must be a decimal number written like 7.5')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}
