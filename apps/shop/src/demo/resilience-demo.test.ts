import { describe, expect, it } from 'vitest';
import { runResilienceDemo } from './resilience-demo.js';

describe('npm start resilience demo', () => {
  it('shows the breaker opening on a real failing service, rejecting fast, probing and closing again', async () => {
    const lines: string[] = [];
    const result = await runResilienceDemo({ timeScale: 0.5, print: (l) => lines.push(l), color: false });
    const path = result.transitions.map((t) => `${t.from}>${t.to}`);
    expect(path[0]).toBe('CLOSED>OPEN');
    expect(path).toContain('OPEN>HALF_OPEN');
    expect(path.at(-1)).toBe('HALF_OPEN>CLOSED');
    expect(result.metrics.state).toBe('CLOSED');
    expect(result.outcomes.rejected).toBeGreaterThan(0);
    // Fast rejections never reach the service: every request it saw was an ok or a failure.
    expect(result.received).toBe(result.outcomes.ok + result.outcomes.failed);
    expect(lines.some((l) => l.includes('CLOSED → OPEN'))).toBe(true);
    expect(lines.some((l) => l.includes('rejected fast by the OPEN breaker'))).toBe(true);
  }, 30_000);
});
