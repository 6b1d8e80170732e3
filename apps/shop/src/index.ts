/**
 * @trellis/shop: the reference system. Start it (`startShop`), drive it (`runLoad`), check it
 * (`checkInvariants`, also at `@trellis/shop/invariants`), or build another service the way the
 * shop's own are built (`createShopContext`, `createShopService`, `shopClient`, the contracts).
 */

export { catalogApi, Product } from './contracts/catalog.js';
export { Address } from './contracts/common.js';
export { inventoryApi, Reservation, StockLevel } from './contracts/inventory.js';
export { notificationsApi } from './contracts/notifications.js';
export { Order, OrderStatus, OrderSummary, ordersApi, PlaceOrderBody } from './contracts/orders.js';
export { Charge, PaymentMethod, ProcessorConfig, paymentsApi } from './contracts/payments.js';
export { Shipment, shippingApi } from './contracts/shipping.js';
export { Session, User, usersApi } from './contracts/users.js';
export { DEMO_ADDRESS, DEMO_PRODUCTS, DEMO_USERS } from './demo-data.js';
export * from './errors.js';
export { SHOP_ROUTES, type ShopGatewaySettings, shopGatewayConfig } from './gateway/gateway-config.js';
export {
  type CheckOptions,
  checkInvariants,
  formatInvariantReport,
  type InvariantReport,
} from './invariants/check-invariants.js';
export { INVARIANTS, type Violation } from './invariants/checks.js';
export { formatLoadResult, type LoadOptions, type LoadResult, runLoad } from './load/load-run.js';
export { ShopApi } from './load/shop-api.js';
export { type Backend, type BackendLocation, openBackend } from './platform/backend.js';
export { openBus, type ShopBus } from './platform/bus.js';
export {
  ADMIN_ROLE,
  adminOnly,
  CUSTOMER_ROLE,
  SERVICE_ROLE,
  ServiceIdentity,
  serviceOnly,
  serviceOrAdmin,
} from './platform/identity.js';
export { type ShopConfig, shopConfigSchema } from './platform/shop-config.js';
export {
  createShopContext,
  createShopService,
  type ShopContext,
  shopClient,
} from './platform/shop-service.js';
export {
  ASSISTANT,
  BACKEND_SERVICES,
  type BackendService,
  DEFAULT_GATEWAY_PORT,
  SERVICE_SLOTS,
  type ServiceName,
  type ServiceSlot,
} from './registry.js';
export { type RunningShop, type StartShopOptions, startShop } from './supervisor/start-shop.js';
export { Supervisor } from './supervisor/supervisor.js';
export { readTopology, type Topology } from './supervisor/topology.js';
