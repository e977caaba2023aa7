/**
 * `?limit=&offset=` paging and the one list envelope every list endpoint answers:
 * `{"items": [...], "next_offset": number | null}` (`null`: this is the last page).
 *
 * Lists used to answer under their own key (`files`, `workbenches`, `sessions`, …). For one release
 * `listBody()` also sends the rows under that old key (`legacyKey`), so clients written against it
 * keep working while they move to `items`; docs/api.md says when the old keys go.
 */
import { z } from "zod";

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export type Page = z.infer<typeof PageQuery>;

export interface ListPage<T> {
  items: T[];
  next_offset: number | null;
}

/** Lists fetch `limit + 1` rows; this trims the extra one and says where the next page starts. */
export function paged<T>(rows: T[], page: Page): ListPage<T> {
  const more = rows.length > page.limit;
  return {
    items: more ? rows.slice(0, page.limit) : rows,
    next_offset: more ? page.offset + page.limit : null,
  };
}

/**
 * The JSON body of a list: the envelope, plus the rows under the list's old key for one release
 * (deprecated; see docs/api.md#lists).
 */
export function listBody<T>(
  page: ListPage<T>,
  legacyKey?: string,
): ListPage<T> & Record<string, unknown> {
  return legacyKey
    ? { items: page.items, next_offset: page.next_offset, [legacyKey]: page.items }
    : { items: page.items, next_offset: page.next_offset };
}
