/**
 * `GET /plans` (no login): the plans on sale, cheapest first. Enterprise is `contact_sales: true`
 * with no price: it is sold by a person and granted with the admin RPCs (docs/payments.md).
 */
import { json, readQuery, type Route } from "../../shared/http.ts";
import { listBody, paged, PageQuery } from "../../shared/pagination.ts";
import type { PlansDeps } from "./deps.ts";
import { z } from "zod";
import { listOf } from "../../shared/route_doc.ts";

const Plan = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  credits: z.number(),
  seats: z.number().int(),
  price_paise: z.number().int().nullable(),
  currency: z.string(),
  contact_sales: z.boolean(),
});

interface PlanRow {
  id: string;
  name: string;
  description: string;
  credits: number;
  seats: number;
  price_paise: number | null;
  currency: string;
  contact_sales: boolean;
}

export function listRoute(deps: PlansDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary: "The plans on sale, cheapest first",
      auth: "none",
      query: PageQuery,
      responses: { 200: { description: "A page of plans", schema: listOf(Plan) } },
    },
    handler: async (_req, ctx) => {
      const page = readQuery(ctx.url, PageQuery);
      const plans = await deps.sql()<PlanRow[]>`
        select id, name, description, credits, seats, price_paise, currency, contact_sales
          from public.plans where active order by sort_order, id
         limit ${page.limit + 1} offset ${page.offset}`;
      return json(
        listBody(paged([...plans], page), "plans"),
        200,
        { "cache-control": "public, max-age=60" },
      );
    },
  };
}
