/**
 * The Prometheus text exposition format (version 0.0.4) of the samples `private.metrics()`
 * answers: one `# HELP` and `# TYPE` per family, then its samples. The families are listed here so
 * that a sample the database answers under an unknown name is dropped rather than exposed
 * without a type. Label values are escaped as the format says (`\\`, `"`, newline).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: "gauge" | "counter" | "histogram";
  help: string;
}

/** Every family the function exposes (docs/admin.md explains each and what to alert on). */
export const FAMILIES: Record<string, Family> = {
  aw_files: { type: "gauge", help: "Workbench files by indexing status." },
  aw_file_bytes: { type: "gauge", help: "Bytes of all workbench files." },
  aw_queue_depth: { type: "gauge", help: "Messages in each worker queue (pgmq)." },
  aw_queue_oldest_age_seconds: {
    type: "gauge",
    help: "Age of the oldest message in each worker queue; 0 when empty.",
  },
  aw_worker_attempts_total: { type: "counter", help: "Worker steps tried, by worker." },
  aw_worker_failures: {
    type: "gauge",
    help: "Files and reports that failed, by worker and reason (the error's first part).",
  },
  aw_reports: { type: "gauge", help: "Reports by status." },
  aw_chat_answers_total: { type: "counter", help: "Chat answers stored, by status." },
  aw_chat_answer_seconds: {
    type: "histogram",
    help: "Seconds from a chat question to its stored complete answer.",
  },
  aw_credits_granted_total: { type: "counter", help: "Credits granted, by ledger reason." },
  aw_credits_spent_total: { type: "counter", help: "Credits spent, by ledger reason." },
  aw_webhook_events_total: {
    type: "counter",
    help: "Payment webhook events recorded, by provider and outcome.",
  },
  aw_rate_limit_refusals_total: {
    type: "counter",
    help: "Requests refused by a rate limit, by scope.",
  },
  aw_tenants_suspended: { type: "gauge", help: "Suspended tenants, by kind." },
  aw_channel_messages: {
    type: "gauge",
    help: "WhatsApp channel messages, by direction and status (failed: the tenant sees why).",
  },
};

function familyOf(name: string): string {
  if (FAMILIES[name]) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return FAMILIES[base]?.type === "histogram" ? base : name;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** The exposition text of `samples` (grouped by family, in FAMILIES order). */
export function exposition(samples: Sample[]): string {
  const byFamily = new Map<string, Sample[]>();
  for (const s of samples) {
    const family = familyOf(s.name);
    if (!FAMILIES[family]) continue;
    byFamily.set(family, [...(byFamily.get(family) ?? []), s]);
  }
  const lines: string[] = [];
  for (const [family, meta] of Object.entries(FAMILIES)) {
    lines.push(`# HELP ${family} ${meta.help}`, `# TYPE ${family} ${meta.type}`);
    for (const s of byFamily.get(family) ?? []) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`);
      lines.push(
        `${s.name}${labels.length ? `{${labels.join(",")}}` : ""} ${formatValue(s.value)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
