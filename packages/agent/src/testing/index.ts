// Test helpers of @trellis/agent: honest local simulators of the provider APIs, and an
// example tool set over an in-memory order book.
export { AnthropicSimulator } from './anthropic-simulator.js';
export {
  createExampleShopTools,
  type ExampleOrder,
  ExampleShop,
  exampleUsers,
} from './example-shop.js';
export { OpenAISimulator, type OpenAISimulatorOptions } from './openai-simulator.js';
export type {
  SimFailure,
  SimHang,
  SimRequest,
  SimScriptEntry,
  SimToolCall,
  SimTurn,
  SimulatorOptions,
} from './sim-server.js';
