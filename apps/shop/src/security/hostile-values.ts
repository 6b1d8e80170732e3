/**
 * Values an attacker or a broken client sends: wrong types, out-of-bound and boundary
 * numbers, huge strings, hostile Unicode (NUL, lone surrogates, right-to-left overrides,
 * zero-width and combining marks), deep nesting, and JSON no serializer would write (duplicate
 * keys, numbers beyond float range). `Raw` and `DuplicateKeys` let a generated body carry the
 * last two through `toJsonText`.
 */
import { textProblem } from '@trellis/service';
import fc from 'fast-check';

/** JSON text inserted verbatim (numbers beyond float range, deep nesting). */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object whose keys repeat; JSON.parse keeps the last one, as the services do. */
export class DuplicateKeys {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

/** Serialises a generated body: like `JSON.stringify`, plus {@link Raw} and {@link DuplicateKeys}. */
export function toJsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof DuplicateKeys)
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v ?? null)).join(',')}]`;
  if (value && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Nesting deep enough to break a recursive parser, walker or serializer. */
export const deepArray = (depth: number) => new Raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);
/** The object form of {@link deepArray}. */
export const deepObject = (depth: number) => new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

/** Strings no text column should take silently. */
export const UNICODE_TRAPS: readonly string[] = [
  'nul\u0000byte',
  '\u0000',
  'lone \ud800 high surrogate',
  'lone \udfff low surrogate',
  '\udc00\ud800', // reversed pair
  'rtl \u202Eevil\u202C override',
  'zero\u200Bwidth\u200D\uFEFF',
  'e\u0301\u0301\u0301 combining',
  '\u{1F4A9}\u{1F469}\u200D\u{1F469}\u200D\u{1F467}',
  '\u0085\u2028\u2029 separators',
  'ﷺ𒐫𒈙 wide',
  '\u00A0 \u3000',
  '%00%ff%',
  '\r\nX-Injected: 1',
];

/** Text that has meant trouble for parsers, templates and SQL. */
export const SYNTAX_TRAPS: readonly string[] = [
  "' OR '1'='1",
  '"; DROP TABLE x; --',
  '$'.concat('{7*7}{{7*7}}'),
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  '%s%s%n',
  '\\',
  '',
  ' ',
];

/** Numbers at and beyond every bound that matters to JavaScript, SQLite and PostgreSQL. */
export const NUMBER_TRAPS: readonly unknown[] = [
  -1,
  0,
  -0,
  0.5,
  -1.5,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  1e308,
  -1e308,
  5e-324,
  new Raw('1e400'),
  new Raw('-1e400'),
  new Raw('123456789012345678901234567890'),
  new Raw('1.0'),
  new Raw('-0.0'),
];

/** A string far beyond any field's limit (under the gateway's body limit, or over it). */
export const hugeString = fc.constantFrom(5_000, 70_000, 300_000).map((n) => 'A'.repeat(n));

/** Strings an attacker would try in a text field. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...UNICODE_TRAPS, ...SYNTAX_TRAPS),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\ud800', '\udc00', '\u202e', 'a'), maxLength: 12 }),
  hugeString,
);

/** A value of the wrong kind for any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, [], {}, [null], { $gt: '' }),
  fc.constantFrom(...NUMBER_TRAPS),
  fc.constantFrom(deepArray(5000), deepObject(5000)),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Anything hostile, string or not. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(hostileString, wrongType);

/** Text for a query string or path: hostile strings and numbers written as text. */
export const hostileParam: fc.Arbitrary<string> = fc.oneof(
  hostileString.filter((s) => s.length < 5000),
  fc.constantFrom(
    '-1',
    '-0',
    '1.5',
    '1e400',
    '0x10',
    ' 1',
    'NaN',
    'Infinity',
    '9'.repeat(40),
    'true',
    'null',
  ),
);

/** True when `s` contains text no database stores faithfully: NUL or a lone surrogate. */
export function isMalformedText(s: string): boolean {
  return textProblem(s) !== undefined;
}

/**
 * Percent-encodes `s` for a URL even when it holds lone surrogates (which
 * `encodeURIComponent` refuses): their WTF-8 bytes are encoded as they are.
 */
export function encodeParam(s: string): string {
  if (!/[\ud800-\udfff]/.test(s)) return encodeURIComponent(s);
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    } else out += encodeURIComponent(ch);
  }
  return out;
}
