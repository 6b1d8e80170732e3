/**
 * The grep of the secrets test: every known secret, in every form it could be written in,
 * looked for in every piece of captured evidence, except where a secret must be (a session
 * token in the answer that issued it).
 */
import { luhnValid } from '../contracts/payments.js';
import type { Evidence } from './secrets-capture.js';

/** A secret the shop was given or issued during the run. */
export interface KnownSecret {
  /** What it is (`password of user 2`, `session token 3`), for the report. */
  name: string;
  value: string;
  /** Places where this secret belongs (e.g. the answer that issued a token). */
  allowedIn?: (where: string) => boolean;
}

/** One place a secret was found. */
export interface Leak {
  secret: string;
  where: string;
  /** The surroundings, with the secret itself masked, so the report leaks nothing new. */
  context: string;
}

/**
 * The forms a secret may be written in: as given; a JWT's signature alone (a log that cuts a
 * token still shows it); a card number with its separators taken out, and grouped in fours.
 */
export function formsOf(value: string): string[] {
  const forms = new Set([value]);
  const parts = value.split('.');
  if (parts.length === 3 && parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p)) && (parts[2]?.length ?? 0) >= 16)
    forms.add(parts[2] as string);
  const digits = value.replace(/[\s-]/g, '');
  if (/^\d{12,19}$/.test(digits)) {
    forms.add(digits);
    forms.add(digits.replace(/(\d{4})(?=\d)/g, '$1 '));
    forms.add(digits.replace(/(\d{4})(?=\d)/g, '$1-'));
  }
  // JSON or a log line may escape characters of the secret.
  forms.add(JSON.stringify(value).slice(1, -1));
  return [...forms].filter((f) => f.length >= 8);
}

function contextOf(text: string, at: number, length: number): string {
  const before = text.slice(Math.max(0, at - 60), at);
  const after = text.slice(at + length, at + length + 60);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: binary files are shown printable
  const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u00ff]/g, '.');
  return `${printable(before)}[SECRET]${printable(after)}`;
}

/** Every place any secret appears where it should not. */
export function findLeaks(evidence: readonly Evidence[], secrets: readonly KnownSecret[]): Leak[] {
  const leaks: Leak[] = [];
  for (const s of secrets) {
    const forms = formsOf(s.value);
    for (const e of evidence) {
      if (s.allowedIn?.(e.where)) continue;
      for (const form of forms) {
        const at = e.text.indexOf(form);
        if (at >= 0) {
          leaks.push({ secret: s.name, where: e.where, context: contextOf(e.text, at, form.length) });
          break;
        }
      }
    }
  }
  return leaks;
}

/** Where `value` appears in the evidence (for the positive controls). */
export function placesOf(evidence: readonly Evidence[], value: string): string[] {
  return evidence.filter((e) => e.text.includes(value)).map((e) => e.where);
}

/** A Luhn-valid card number of `length` digits starting with `prefix`, random otherwise. */
export function randomCardNumber(prefix = '4', length = 16): string {
  let digits = prefix;
  while (digits.length < length - 1) digits += String(Math.floor(Math.random() * 10));
  for (let check = 0; check < 10; check++) {
    const candidate = digits + check;
    if (luhnValid(candidate)) return candidate;
  }
  throw new Error('unreachable: one check digit always fits');
}
