// The two per-request metrics, rbac_http_requests_total and
// rbac_http_request_duration_seconds, by method, route pattern and status
// code. prom-client's Counter and Histogram build a label object and hash it
// into a string key on every observation; here each series is found through
// nested maps keyed by the values themselves (route and method strings, the
// status number) and updated in place, so a request allocates nothing once
// its series exists. The exposition is built only when Prometheus scrapes.

import type { Registry } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Series {
  labels: { method: string; route: string; status_code: string };
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative (the exposition adds them up); the last slot is above the largest bound. */
  buckets: Float64Array;
}

interface MetricValue {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export class RequestMetrics {
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(registry: Registry) {
    const collected = (name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) => ({
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
    });
    const register = (metric: ReturnType<typeof collected>) => registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    register(collected('rbac_http_requests_total', 'HTTP requests answered, by method, route pattern and status code', 'counter', () => this.counts()));
    register(collected('rbac_http_request_duration_seconds', 'Time to answer an HTTP request, by method, route pattern and status code', 'histogram', () => this.durations()));
  }

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(statusCode);
    if (!series) {
      series = { labels: { method, route, status_code: String(statusCode) }, count: 0, sum: 0, buckets: new Float64Array(BUCKETS.length + 1) };
      byStatus.set(statusCode, series);
    }
    series.count++;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] as number)) bucket++;
    (series.buckets[bucket] as number)++;
  }

  private *all(): Iterable<Series> {
    for (const byMethod of this.series.values()) for (const byStatus of byMethod.values()) yield* byStatus.values();
  }

  private counts(): MetricValue[] {
    return [...this.all()].map((series) => ({ labels: series.labels, value: series.count }));
  }

  private durations(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const series of this.all()) {
      let cumulative = 0;
      BUCKETS.forEach((bound, index) => {
        cumulative += series.buckets[index] as number;
        values.push({ metricName: 'rbac_http_request_duration_seconds_bucket', labels: { ...series.labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: 'rbac_http_request_duration_seconds_bucket', labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: 'rbac_http_request_duration_seconds_sum', labels: series.labels, value: series.sum });
      values.push({ metricName: 'rbac_http_request_duration_seconds_count', labels: series.labels, value: series.count });
    }
    return values;
  }
}
