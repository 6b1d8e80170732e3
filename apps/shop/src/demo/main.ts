/**
 * `npm run demo:resilience`: a client calls a flaky service over real HTTP through a circuit
 * breaker and a timeout, printing every call and breaker transition as the service fails and
 * recovers (about 10 s, then it exits by itself).
 */
import { runResilienceDemo } from './resilience-demo.js';

await runResilienceDemo();
