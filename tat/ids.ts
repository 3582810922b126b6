// Resource id formats (docs/tat-api-reference.md, "Ids"): `<prefix>-` + 8 characters of [a-z0-9]
// when we generate them; incoming ids are accepted with 8 or more (official examples show 10).

export const ID_PREFIX = {
  command: 'cmd',
  invocation: 'inv',
  invocationTask: 'invt',
  invoker: 'ivk',
  scene: 'sc',
  cvm: 'ins',
  lighthouse: 'lhins',
  managed: 'rins',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const patterns = Object.fromEntries(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}-[a-z0-9]{8,}$`)]),
) as Record<IdKind, RegExp>;

export function isId(kind: IdKind, value: string): boolean {
  return patterns[kind].test(value);
}

export type InstanceKindOfId = 'CVM' | 'LIGHTHOUSE' | 'MANAGED';

/** The kind of instance an id names, or undefined when it is no instance id. */
export function instanceKindOf(id: string): InstanceKindOfId | undefined {
  if (patterns.cvm.test(id)) return 'CVM';
  if (patterns.lighthouse.test(id)) return 'LIGHTHOUSE';
  if (patterns.managed.test(id)) return 'MANAGED';
  return undefined;
}

// Registration code ids are UUID-shaped without a prefix (docs/tat-api-reference.md, "Ids"). The
// official example `9b5rb72b-…` is not hexadecimal, so any lowercase letter or digit is accepted in
// each group.
const REGISTER_CODE_ID = /^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$/i;

export function isRegisterCodeId(value: string): boolean {
  return REGISTER_CODE_ID.test(value);
}
