/** `?limit=&offset=` paging shared by list endpoints. */
import { z } from "zod";

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export type Page = z.infer<typeof PageQuery>;

/** Lists fetch `limit + 1` rows; this trims the extra one and says where the next page starts. */
export function paged<T>(rows: T[], page: Page): { items: T[]; next_offset: number | null } {
  const more = rows.length > page.limit;
  return {
    items: more ? rows.slice(0, page.limit) : rows,
    next_offset: more ? page.offset + page.limit : null,
  };
}
