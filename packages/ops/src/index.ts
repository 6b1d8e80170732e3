/**
 * @trellis/ops: the operations side of a Trellis system. An ops API every service mounts
 * (health, breakers with transitions, sagas, dead letters, events, read models, recorded
 * spans, consumer fault switches), an aggregator that serves one API over all instances with
 * scraped history for live charts, alert rules evaluated in-process (the same conditions as
 * the shipped Prometheus rules file) and a webhook notifier, plus static serving for the
 * console's single-page app.
 */

export { aggregatorApi } from './aggregator-contract.js';
export {
  type Alert,
  AlertEvaluator,
  type AlertNotification,
  type AlertNotifier,
  renderTemplate,
} from './alert-evaluator.js';
export {
  type AlertRule,
  type AlertThresholds,
  DEFAULT_THRESHOLDS,
  trellisAlertRules,
} from './alert-rules.js';
export { BreakerBoard, type BreakerTransition, type BreakerView } from './breaker-board.js';
export { type ChartPoint, chartPoint, type RedStats, redByInstance } from './chart-series.js';
export { ConsumerFaults, type FaultSpec, type FaultView } from './consumer-faults.js';
export {
  InjectedFaultError,
  isInjectedFaultError,
  isOpsCapabilityMissingError,
  isOpsUpstreamError,
  isWebhookDeliveryError,
  OpsCapabilityMissingError,
  OpsUpstreamError,
  WebhookDeliveryError,
} from './errors.js';
export { formatSeries, parseExposition, type Sample } from './exposition.js';
export { aggregate, type Matchers, MetricHistory, type Series, type Vector } from './metric-history.js';
export { type InstanceStatus, OpsAggregator, type OpsAggregatorOptions } from './ops-aggregator.js';
export { type EventLog, OpsApi, type OpsApiOptions, type OpsCapabilities } from './ops-api.js';
export {
  DeadLetterQuery,
  DeadLetterSelection,
  FaultBody,
  OPS_ROLE,
  OPS_ROLES,
  opsApi,
  SagaStatusSchema,
} from './ops-contract.js';
export {
  localTarget,
  type OpsTarget,
  type RemoteTargetOptions,
  remoteTarget,
  type TargetAnswer,
} from './ops-targets.js';
export { FilteringSpanRecorder, isHousekeepingSpan } from './span-filter.js';
export { type StaticOptions, serveStatic } from './static-files.js';
export { parseTraceparent, tracedHandler, tracedSaga } from './trace-hooks.js';
export { WebhookNotifier, type WebhookNotifierOptions } from './webhook-notifier.js';
