/**
 * @trellis/nats: the Trellis Bus over NATS JetStream — streams and durable pull consumers
 * created by Trellis, ack/NAK with backoff, redelivery after a crash, dead letters after the
 * last attempt, per-key order through key partitions.
 */
export { JetStreamBus, type JetStreamBusOptions } from './jetstream-bus.js';
export {
  type ConsumerSpec,
  consumersFor,
  fnv1a,
  type SubjectLayout,
  subjectFor,
  topicOf,
} from './subjects.js';
