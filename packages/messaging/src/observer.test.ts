import { describe, expect, it } from 'vitest';
import { combineObservers, notify } from './observer.js';

describe('observer hooks', () => {
  it('calls hooks, ignores missing ones and swallows their errors', () => {
    const seen: string[] = [];
    notify({ published: (e) => seen.push(e.topic) }, 'published', { transport: 't', topic: 'a.b' });
    notify({}, 'published', { transport: 't', topic: 'x' });
    notify(undefined, 'published', { transport: 't', topic: 'x' });
    expect(() =>
      notify(
        {
          published: () => {
            throw new Error('metrics broke');
          },
        },
        'published',
        { transport: 't', topic: 'x' },
      ),
    ).not.toThrow();
    expect(seen).toEqual(['a.b']);
  });

  it('fans out to several observers, even when one throws', () => {
    const a: number[] = [];
    const b: number[] = [];
    const both = combineObservers(
      {
        relayed: (e) => {
          a.push(e.count);
          throw new Error('x');
        },
      },
      undefined,
      { relayed: (e) => b.push(e.count) },
    );
    both.relayed?.({ count: 3 });
    expect([a, b]).toEqual([[3], [3]]);
  });
});
