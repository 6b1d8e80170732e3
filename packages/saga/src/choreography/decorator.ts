/**
 * The seed's `@EventHandler('order.created')` on class methods. Works with TypeScript's
 * `experimentalDecorators` (the handler's signature is type-checked against the catalog) and
 * with standard decorators; {@link handlersFrom} turns a decorated object into
 * {@link EventHandlers}, bound to the instance.
 */
import type { SqlTransaction } from '@trellis/core';
import type { ChoreographyContext } from './context.js';
import type { EventCatalog, EventsOf, TopicOf } from './events.js';
import { EventHandlers } from './handlers.js';

interface Entry {
  topic: string;
  method: string | symbol;
}

/** Prototype → decorated methods (experimentalDecorators); instance → methods (standard). */
const declared = new WeakMap<object, Entry[]>();

function remember(owner: object, entry: Entry): void {
  declared.set(owner, [...(declared.get(owner) ?? []), entry]);
}

/** A method handling topic `K` of catalog `C`. */
export type HandlerMethod<C extends EventCatalog, K extends TopicOf<C>, Tx> = (
  event: EventsOf<C>[K],
  ctx: ChoreographyContext<C, Tx>,
) => unknown;

/** The decorator returned by `EventHandler(topic)`. */
export interface EventHandlerDecorator<H> {
  <M extends H>(target: object, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<M>): void;
  <M extends H>(value: M, context: ClassMethodDecoratorContext): void;
}

/**
 * Builds an `EventHandler` decorator typed by a catalog: `@EventHandler('order.created')`
 * accepts only catalog topics, and (with `experimentalDecorators`) only a method whose
 * parameters match that topic's payload.
 *
 * @example
 * ```ts
 * const EventHandler = eventHandlerDecorator<typeof shopEvents>();
 * class OrderEventHandler {
 *   @EventHandler('order.created')
 *   async onOrderCreated(event: EventsOf<typeof shopEvents>['order.created'], ctx: ShopContext) { … }
 * }
 * await handlersFrom(new OrderEventHandler(), shopEvents).subscribe({ bus, inbox, outbox, group: 'orders' });
 * ```
 */
export function eventHandlerDecorator<C extends EventCatalog, Tx = SqlTransaction>() {
  return <K extends TopicOf<C>>(topic: K): EventHandlerDecorator<HandlerMethod<C, K, Tx>> =>
    EventHandler(topic);
}

/** The untyped decorator: any topic, any method (payloads are still validated by the catalog). */
export function EventHandler<M = (...args: never[]) => unknown>(topic: string): EventHandlerDecorator<M> {
  return ((...args: unknown[]) => {
    const [target, second] = args;
    if (isStandardContext(second)) {
      const name = second.name;
      second.addInitializer(function (this: unknown) {
        remember(this as object, { topic, method: name });
      });
      return;
    }
    remember(target as object, { topic, method: second as string | symbol });
  }) as EventHandlerDecorator<M>;
}

function isStandardContext(v: unknown): v is ClassMethodDecoratorContext {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'method';
}

/**
 * Collects the decorated methods of `instance` (its class and base classes), bound to it.
 *
 * Throws `TypeError` when the object has no `@EventHandler` methods (a forgotten decorator
 * setting, usually).
 */
export function handlersFrom<C extends EventCatalog, Tx = SqlTransaction>(
  instance: object,
  catalog: C,
): EventHandlers<C, Tx> {
  const handlers = new EventHandlers<C, Tx>(catalog);
  const entries: Entry[] = [...(declared.get(instance) ?? [])];
  for (
    let proto = Object.getPrototypeOf(instance);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    entries.push(...(declared.get(proto) ?? []));
  }
  if (entries.length === 0) throw new TypeError(`${instance.constructor.name} has no @EventHandler methods`);
  const seen = new Set<string>();
  for (const { topic, method } of entries) {
    const key = `${topic}\u0000${String(method)}`;
    if (seen.has(key)) continue; // an overriding method is registered once
    seen.add(key);
    const fn = (instance as Record<string | symbol, unknown>)[method];
    if (typeof fn !== 'function') continue;
    handlers.on(topic as TopicOf<C>, (event, ctx) =>
      (fn as (e: unknown, c: unknown) => unknown).call(instance, event, ctx),
    );
  }
  return handlers;
}
