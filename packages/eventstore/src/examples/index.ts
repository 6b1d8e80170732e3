// Examples used by the docs and tests: the seed's order aggregate and read model.
export { OrderAggregate, type OrderEvent, type OrderState, orderEvents } from './order-aggregate.js';
export { OrderReadModel, type OrderView } from './order-read-model.js';
