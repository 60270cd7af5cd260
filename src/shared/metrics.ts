import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of one process. Each role registers what it uses; `/metrics` on the http role serves the
 * registry (other roles' figures reach Prometheus through their own scrape port, or through Redis-backed gauges).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly webhookRequests = new Counter({
    name: 'wacc_webhook_requests_total',
    help: 'Webhook POSTs by result (ok, bad-signature, bad-json, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly webhookItems = new Counter({
    name: 'wacc_webhook_items_total',
    help: 'Webhook items (calls[], statuses[]) by kind and outcome (queued, malformed, skipped)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly ingestEvents = new Counter({
    name: 'wacc_ingest_events_total',
    help: 'Webhook events applied by the workers, by kind and outcome (created, applied, duplicate, ignored, unknown-call, early-terminate)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookLatency = new Histogram({
    name: 'wacc_webhook_duration_seconds',
    help: 'Time from webhook received to 200 (its events queued in Redis)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly callEvents = new Counter({
    name: 'wacc_call_events_total',
    help: 'Events delivered to call actors by type and outcome (applied, ignored, unknown-call, created, duplicate)',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'wacc_call_transitions_total',
    help: 'Call state transitions',
    labelNames: ['from', 'to'] as const,
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'wacc_call_version_conflicts_total',
    help: 'Compare-and-set retries on call snapshots',
    registers: [this.registry],
  });
  readonly callsEnded = new Counter({
    name: 'wacc_calls_ended_total',
    help: 'Calls that reached ended, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly callsByState = new Gauge({
    name: 'wacc_calls_active',
    help: 'Calls not yet ended, by state (sampled from Redis at scrape time)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly graphRequests = new Counter({
    name: 'wacc_graph_requests_total',
    help: 'Graph API calls by action, result and Meta error code',
    labelNames: ['action', 'result', 'code'] as const,
    registers: [this.registry],
  });
  readonly graphLatency = new Histogram({
    name: 'wacc_graph_duration_seconds',
    help: 'Graph API call latency by action',
    labelNames: ['action'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly ringTime = new Histogram({
    name: 'wacc_ring_seconds',
    help: 'From the call arriving to an agent accepting',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 45, 60],
    registers: [this.registry],
  });
  readonly acceptToLive = new Histogram({
    name: 'wacc_accept_to_live_seconds',
    help: 'From an agent accepting to Meta confirming accept',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly mediaNodeLoad = new Gauge({
    name: 'wacc_media_node_calls',
    help: 'Calls per media node, as the nodes report them',
    labelNames: ['node'] as const,
    registers: [this.registry],
  });
  readonly audioMos = new Histogram({
    name: 'wacc_call_audio_mos',
    help: 'MOS estimate per call leg sample',
    labelNames: ['leg'] as const,
    buckets: [1, 2, 2.5, 3, 3.5, 4, 4.2, 4.5],
    registers: [this.registry],
  });
  readonly agentsOnline = new Gauge({
    name: 'wacc_agents_online',
    help: 'Agents with a live socket lease',
    registers: [this.registry],
  });
  readonly socketEvents = new Counter({
    name: 'wacc_agent_socket_events_total',
    help: 'Agent socket events by event and result (ok, error code)',
    labelNames: ['event', 'result'] as const,
    registers: [this.registry],
  });

  readonly loginRefusals = new Counter({
    name: 'wacc_login_refusals_total',
    help: 'Refused logins by reason (bad-credentials, rate-limited, disabled)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'wacc_' });
  }

  event(type: string, outcome: string): void {
    this.callEvents.inc({ event: type, outcome });
  }
  conflict(): void {
    this.conflicts.inc();
  }
  transition(from: string, to: string): void {
    this.transitions.inc({ from, to });
  }
}
