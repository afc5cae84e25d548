// The users-table columns a caller may name in a request. These lists are the only source of dynamic
// SQL identifiers for the users API: anything not listed here never reaches `sql(identifier)`.

export const SORTABLE_COLUMNS = ['id', 'first_name', 'last_name', 'confirmed', 'created_at', 'updated_at'] as const;
export type SortableColumn = (typeof SORTABLE_COLUMNS)[number];

export const SEARCHABLE_COLUMNS = ['first_name', 'last_name'] as const;
export type SearchableColumn = (typeof SEARCHABLE_COLUMNS)[number];

export const DATE_COLUMNS = ['created_at', 'updated_at'] as const;
export type DateColumn = (typeof DATE_COLUMNS)[number];

export const FILTER_COLUMNS = ['id', 'first_name', 'last_name', 'confirmed'] as const;
export type FilterColumn = (typeof FILTER_COLUMNS)[number];

/** How the value of each equality filter is validated and typed. */
export type FilterKind = 'uuid' | 'text' | 'boolean';
export const FILTER_KINDS: Readonly<Record<FilterColumn, FilterKind>> = Object.freeze({
  id: 'uuid',
  first_name: 'text',
  last_name: 'text',
  confirmed: 'boolean',
});

// Sets rather than `name in object`: a plain object would also answer for 'constructor' or '__proto__'.
const sortable: ReadonlySet<string> = new Set(SORTABLE_COLUMNS);
const searchable: ReadonlySet<string> = new Set(SEARCHABLE_COLUMNS);
const dated: ReadonlySet<string> = new Set(DATE_COLUMNS);
const filterable: ReadonlySet<string> = new Set(FILTER_COLUMNS);

export function isSortableColumn(name: string): name is SortableColumn {
  return sortable.has(name);
}

export function isSearchableColumn(name: string): name is SearchableColumn {
  return searchable.has(name);
}

export function isDateColumn(name: string): name is DateColumn {
  return dated.has(name);
}

export function isFilterColumn(name: string): name is FilterColumn {
  return filterable.has(name);
}
