/** Prometheus counters and a latency histogram for the server, rendered as text format 0.0.4. */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  promptTokens = 0;
  generatedTokens = 0;

  constructor(private readonly gauges: { queueDepth: () => number; active: () => number }) {}

  recordRequest(route: string, method: string, status: number, seconds: number): void {
    const key = labels({ route, method, status: String(status) });
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const h = this.latency.get(route) ?? { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i]!++;
    });
    h.sum += seconds;
    h.count++;
    this.latency.set(route, h);
  }

  recordTokens(prompt: number, generated: number): void {
    this.promptTokens += prompt;
    this.generatedTokens += generated;
  }

  render(): string {
    const out: string[] = [
      '# HELP modelship_http_requests_total HTTP requests by route, method and status.',
      '# TYPE modelship_http_requests_total counter',
    ];
    for (const [key, n] of this.requests) out.push(`modelship_http_requests_total{${key}} ${n}`);
    out.push(
      '# HELP modelship_prompt_tokens_total Prompt tokens evaluated.',
      '# TYPE modelship_prompt_tokens_total counter',
      `modelship_prompt_tokens_total ${this.promptTokens}`,
      '# HELP modelship_generated_tokens_total Tokens generated.',
      '# TYPE modelship_generated_tokens_total counter',
      `modelship_generated_tokens_total ${this.generatedTokens}`,
      '# HELP modelship_queue_waiting Requests waiting for the model.',
      '# TYPE modelship_queue_waiting gauge',
      `modelship_queue_waiting ${this.gauges.queueDepth()}`,
      '# HELP modelship_queue_active Requests running on the model.',
      '# TYPE modelship_queue_active gauge',
      `modelship_queue_active ${this.gauges.active()}`,
      '# HELP modelship_request_duration_seconds Time from request to last byte, by route.',
      '# TYPE modelship_request_duration_seconds histogram',
    );
    for (const [route, h] of this.latency) {
      LATENCY_BUCKETS.forEach((le, i) => out.push(`modelship_request_duration_seconds_bucket{${labels({ route, le: String(le) })}} ${h.counts[i]}`));
      out.push(`modelship_request_duration_seconds_bucket{${labels({ route, le: '+Inf' })}} ${h.count}`);
      out.push(`modelship_request_duration_seconds_sum{${labels({ route })}} ${h.sum}`);
      out.push(`modelship_request_duration_seconds_count{${labels({ route })}} ${h.count}`);
    }
    return out.join('\n') + '\n';
  }
}

function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}
