/** Choreography: event catalogs, declarative handlers, and process managers with deadlines. */
export type { ChoreographyContext, EmitOptions } from './context.js';
export {
  EventHandler,
  type EventHandlerDecorator,
  eventHandlerDecorator,
  type HandlerMethod,
  handlersFrom,
} from './decorator.js';
export { defineEvents, type EventCatalog, type EventsOf, parseEvent, type TopicOf } from './events.js';
export {
  type ChoreographyHandler,
  type ChoreographyWiring,
  EventHandlers,
  eventHandlers,
} from './handlers.js';
export { InMemoryOutbox, MemoryProcessStore } from './memory.js';
export {
  defineProcessManager,
  isProcessNotStartedError,
  type ProcessContext,
  ProcessManager,
  type ProcessManagerDefinition,
  type ProcessManagerOptions,
  ProcessNotStartedError,
} from './process-manager.js';
export {
  PROCESS_HISTORY_LIMIT,
  type ProcessHistoryEntry,
  type ProcessInstance,
  type ProcessListFilter,
  type ProcessStore,
} from './process-store.js';
