// Paging and slicing for the TAT API's list actions (docs/tat-api-reference.md, "Paging"):
// Offset/Limit pages of at most 100, and at most 100 ids per Describe call.

export const PAGE_SIZE = 100;
export const IDS_PER_CALL = 100;

/** Every item of a paged list. `fetch` gets an offset and returns one page and the total. */
export async function allPages<T>(
  fetch: (offset: number, limit: number) => Promise<{ items: T[]; total: number }>,
): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const { items, total } = await fetch(offset, PAGE_SIZE);
    all.push(...items);
    // A short page ends the list even when the total moved while we paged.
    if (items.length < PAGE_SIZE || offset + PAGE_SIZE >= total) return all;
  }
}

/** `list` in slices of at most `size`. */
export function slices<T>(list: readonly T[], size: number = IDS_PER_CALL): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** `list` without repeats, in first-seen order. */
export function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}
