/** The grep behind the secrets test: the forms a secret is looked for in, masked reports, card numbers. */
import { describe, expect, it } from 'vitest';
import { luhnValid } from '../contracts/payments.js';
import { findLeaks, formsOf, placesOf, randomCardNumber } from './secrets-scan.js';

describe('the secrets grep', () => {
  it('looks for a card number however it is grouped', () => {
    const forms = formsOf('4111 1111 1111 1111');
    expect(forms).toEqual(
      expect.arrayContaining(['4111 1111 1111 1111', '4111111111111111', '4111-1111-1111-1111']),
    );
  });

  it('looks for a JWT whole and for its signature alone', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY';
    expect(formsOf(jwt)).toEqual(expect.arrayContaining([jwt, 'c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY']));
  });

  it('finds a secret escaped inside JSON, and ignores forms too short to mean anything', () => {
    expect(formsOf('pa"ss\\word-long')).toContain('pa\\"ss\\\\word-long');
    expect(formsOf('short')).toEqual([]);
    const leaks = findLeaks(
      [{ where: 'log', text: '{"msg":"pa\\"ss\\\\word-long"}' }],
      [{ name: 'pw', value: 'pa"ss\\word-long' }],
    );
    expect(leaks.map((l) => l.where)).toEqual(['log']);
  });

  it('reports the place and masks the secret in the report; skips places where it belongs', () => {
    const evidence = [
      { where: 'answer #1', text: 'token=abcdefghijkl' },
      { where: 'log users.log', text: 'x abcdefghijkl y' },
      { where: 'log catalog.log', text: 'nothing here' },
    ];
    const leaks = findLeaks(evidence, [
      { name: 'token', value: 'abcdefghijkl', allowedIn: (w) => w === 'answer #1' },
    ]);
    expect(leaks).toEqual([{ secret: 'token', where: 'log users.log', context: 'x [SECRET] y' }]);
    expect(placesOf(evidence, 'abcdefghijkl')).toEqual(['answer #1', 'log users.log']);
  });

  it('makes Luhn-valid card numbers of the asked length and prefix', () => {
    for (const [prefix, length] of [
      ['4', 16],
      ['52', 16],
      ['4', 19],
    ] as const) {
      const n = randomCardNumber(prefix, length);
      expect(n).toHaveLength(length);
      expect(n.startsWith(prefix)).toBe(true);
      expect(luhnValid(n)).toBe(true);
    }
  });
});
