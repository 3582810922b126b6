// One page of a Describe* listing, newest first (created_at, then id, both descending, as TAT lists
// them), with the total the filters match: the count and the page are one query builder read twice.

import type { SelectQueryBuilder } from 'kysely';
import type { Page } from '../../tat/index.js';
import type { Database } from '../store/schema.js';

/** The tables listed newest first by creation. */
type Listed = 'invocations' | 'invokers' | 'register_codes';

export async function newestFirst<T extends Listed>(q: SelectQueryBuilder<Database, T, object>, page: Page) {
  const { count } = await q.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await q
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return { total: Number(count), rows };
}
