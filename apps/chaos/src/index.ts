/**
 * @trellis/chaos: the chaos harness. `runChaos` starts a shop arranged for chaos and runs
 * experiments against it — each a steady-state hypothesis, a real fault under bounded load,
 * recovery, and the invariant checker across every database — and returns a report
 * (`formatReport`, or the JSON). The building blocks are public too: the fault-injecting
 * `FaultProxy`, `NetworkNamespace`, the `LoadDriver`, and the experiments themselves.
 */
export { type ChaosServers, type ChaosShop, type ChaosShopOptions, startChaosShop } from './chaos-shop.js';
export {
  ChaosEnvironmentError,
  ChaosFaultError,
  isChaosEnvironmentError,
  isChaosFaultError,
} from './errors.js';
export { EXIT_CODES, errorExitCode, reportExitCode } from './exit-code.js';
export type {
  Check,
  Experiment,
  ExperimentCategory,
  ExperimentContext,
  FaultTimes,
  InjectedFault,
  Requirements,
} from './experiment.js';
export { CI_SELECTION, EXPERIMENTS, SELECTIONS, selectExperiments } from './experiments/catalogue.js';
export { FaultProxy, type FaultProxyOptions, type ProxyFaults, type ProxyStats } from './fault-proxy.js';
export { type IsolatedInstance, type IsolatedPath, Isolation } from './isolation.js';
export { LoadDriver, type LoadDriverOptions, type OrderRecord } from './load-driver.js';
export { NetworkNamespace, type VethLink } from './network-namespace.js';
export { HELP, parseCli } from './options.js';
export { classifyAnswer, type OrderOutcome } from './order-outcome.js';
export { type ChaosReport, formatExperiment, formatMarkdown, formatReport, formatTable } from './report.js';
export { type ChaosOptions, runChaos } from './run-chaos.js';
export { type ExperimentResult, type RunSettings, runExperiment } from './run-experiment.js';
export { ShopAdmin } from './shop-admin.js';
export { type Hypothesis, type SteadyState, type WindowStats, windowStats } from './window-stats.js';
