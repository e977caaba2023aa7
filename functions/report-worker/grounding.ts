/**
 * What the report narrative is grounded in besides the KPIs, and the model that writes it: the
 * shared LLM client (shared/llm) as a `GenerateText`, and the workbench passages that the shared
 * retrieval (shared/retrieval) finds for the report's title and notes. The search runs with the
 * rights of the report's owner (`asUser`, role authenticated), so row level security applies: a
 * user who lost access to the workbench gets no passages.
 */
import type { Claims } from "../../shared/auth.ts";
import { asUser, type Sql } from "../../shared/db.ts";
import type { Embedder } from "../../shared/embeddings.ts";
import { type LlmClient, llmError } from "../../shared/llm/mod.ts";
import { type RetrievalSettings, searchWorkbench } from "../../shared/retrieval/mod.ts";
import type { GenerateText, NarrativePassage } from "../../shared/reports/mod.ts";
import { type ReportRowForWorker, StepFailure } from "./job.ts";

/** The LLM as the narrative step calls it; its failures are retried by the worker. */
export function narrativeGenerator(llm: LlmClient): GenerateText {
  return async (messages) => {
    try {
      const result = await llm.complete({ messages, temperature: 0.2, maxTokens: 500 });
      return { text: result.text };
    } catch (err) {
      const message = llmError(err).message;
      throw new StepFailure(message.charAt(0).toLowerCase() + message.slice(1).replace(/\.$/, ""));
    }
  };
}

/** The claims of the report's owner, as PostgREST would set them for that user's request. */
export function ownerClaims(report: Pick<ReportRowForWorker, "user_id">): Claims {
  return { sub: report.user_id, role: "authenticated", aud: "authenticated" };
}

/**
 * Up to `max` passages of the workbench for the report's title and notes (hybrid search), found
 * as the report's owner.
 */
export function narrativePassages(
  sql: () => Sql,
  embedder: Embedder,
  settings?: Partial<RetrievalSettings>,
  max = 4,
): (report: ReportRowForWorker) => Promise<NarrativePassage[]> {
  return async (report) => {
    const question = [report.title, report.notes].filter(Boolean).join(". ");
    const passages = await asUser(
      sql(),
      ownerClaims(report),
      (tx) =>
        searchWorkbench(tx, embedder, {
          workbenchId: report.workbench_id,
          question,
          ...(settings ? { settings } : {}),
        }),
    );
    return passages.slice(0, max);
  };
}
