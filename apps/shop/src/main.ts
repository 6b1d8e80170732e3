/**
 * `npm start`. Until the reference shop exists, it runs the resilience demo: a client, a
 * flaky service over real HTTP, and a circuit breaker printing its transitions as the service
 * fails and recovers (about 10 s, then it exits by itself).
 */
import { runResilienceDemo } from './demo/resilience-demo.js';

await runResilienceDemo();
