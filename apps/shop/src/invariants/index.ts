/**
 * The shop's invariant checker, for the load generator, the chaos harness and anyone running
 * the shop: `checkInvariants({ topology })` reads every service's database and reports
 * violations. `readTopology(dataDir)` finds a shop that `npm start` launched.
 */

export { readTopology, type Topology, topologyFile } from '../supervisor/topology.js';
export {
  type CheckOptions,
  checkInvariants,
  formatInvariantReport,
  type InvariantReport,
} from './check-invariants.js';
export { checkFacts, INVARIANTS, type InvariantName, type Violation } from './checks.js';
export { openShopDatabases, type ShopDatabases } from './shop-databases.js';
export { type OrderFact, readShopFacts, type ShopFacts } from './shop-facts.js';
