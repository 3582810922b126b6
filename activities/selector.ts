// The selector language of `--select` (`tatflow instances`, `run`, `preview`): which instances of
// the fleet a run targets, by what the TAT API says of them. One selector is terms joined by
// commas, all of which must hold (`tag:env=prod,os=linux,online`); a run given several selectors
// takes the instances that match any of them. Pure (no I/O): the CLI parses a selector to refuse a
// bad one before anything starts, and `resolveTargets` (activities/agents.ts) parses it again
// against the fleet it lists, so a selector from any Temporal client is checked the same way.
//
// Terms (docs/cli.md, "Selectors"):
//   tag:KEY=VALUE   the instance has tag KEY with a value matching VALUE (a glob)
//   tag:KEY         the instance has tag KEY, whatever its value
//   name=GLOB       its name matches (only managed instances have a name in the TAT API)
//   id=GLOB         its instance id matches
//   os=linux|windows
//   kind=ins|lhins|rins   (also cvm, lighthouse, managed)
//   online / offline      its agent's status
// A glob's `*` matches any run of characters, `?` one character; a backslash takes the next
// character as it is (`\,`, `\=`, `\*`, `\\`), for tags whose keys or values hold them.

/** What a selector can say of an instance: what the TAT API reports about it. */
export interface Selectable {
  id: string;
  kind: InstanceKind;
  /** Managed instances only: CVM and Lighthouse names live in their own APIs, not in TAT. */
  name?: string;
  online: boolean;
  os?: 'Linux' | 'Windows';
  tags: { key: string; value: string }[];
}

export type InstanceKind = 'cvm' | 'lighthouse' | 'managed';

/** A glob as a regular expression's source, anchored when matched. */
type Glob = { source: string; text: string };

export type SelectTerm =
  | { term: 'status'; online: boolean }
  | { term: 'tag'; key: string; value?: Glob }
  | { term: 'name'; pattern: Glob }
  | { term: 'id'; pattern: Glob }
  | { term: 'os'; os: 'Linux' | 'Windows' }
  | { term: 'kind'; kind: InstanceKind };

/** One `--select`: every term must hold. */
export type Selector = SelectTerm[];

export class SelectorError extends Error {}

export const SELECTOR_TERMS =
  'tag:KEY=VALUE, tag:KEY, name=GLOB, id=GLOB, os=linux|windows, kind=ins|lhins|rins, online, offline';

const KINDS: Record<string, InstanceKind> = {
  ins: 'cvm',
  cvm: 'cvm',
  lhins: 'lighthouse',
  lighthouse: 'lighthouse',
  rins: 'managed',
  managed: 'managed',
};

/** The id prefix of each kind, as `kind=` shows it. */
export const KIND_PREFIX: Record<InstanceKind, string> = { cvm: 'ins', lighthouse: 'lhins', managed: 'rins' };

/** A piece of a term: its characters, with escaped ones marked so `*`, `,` and `=` stay literal. */
interface Char {
  c: string;
  escaped: boolean;
}

/** Splits on unescaped commas; each term keeps its escapes for the next steps. */
function splitTerms(text: string): { raw: string; chars: Char[] }[] {
  const terms: { raw: string; chars: Char[] }[] = [];
  let chars: Char[] = [];
  let raw = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      if (i + 1 >= text.length) throw new SelectorError(`"${text}" ends with a lone backslash`);
      chars.push({ c: text[++i]!, escaped: true });
      raw += c + text[i];
    } else if (c === ',') {
      terms.push({ raw, chars });
      chars = [];
      raw = '';
    } else {
      chars.push({ c, escaped: false });
      raw += c;
    }
  }
  terms.push({ raw, chars });
  return terms.map((t) => ({ raw: t.raw.trim(), chars: trim(t.chars) }));
}

function trim(chars: Char[]): Char[] {
  let a = 0;
  let b = chars.length;
  while (a < b && !chars[a]!.escaped && /\s/.test(chars[a]!.c)) a++;
  while (b > a && !chars[b - 1]!.escaped && /\s/.test(chars[b - 1]!.c)) b--;
  return chars.slice(a, b);
}

const text = (chars: Char[]) => chars.map((x) => x.c).join('');

function glob(chars: Char[]): Glob {
  let source = '';
  for (const { c, escaped } of chars) {
    if (!escaped && c === '*') source += '.*';
    else if (!escaped && c === '?') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return { source, text: text(chars) };
}

export function globMatches(g: Glob, value: string): boolean {
  return new RegExp(`^${g.source}$`, 's').test(value);
}

function parseTerm(raw: string, chars: Char[]): SelectTerm {
  const bad = (why: string) => new SelectorError(`term "${raw}": ${why}`);
  if (chars.length === 0) throw bad('empty (two commas in a row, or a comma at an end?)');
  const eq = chars.findIndex((x) => x.c === '=' && !x.escaped);
  const head = eq < 0 ? chars : chars.slice(0, eq);
  const value = eq < 0 ? undefined : chars.slice(eq + 1);
  const word = text(head);
  if (word.startsWith('tag:') && !head.slice(0, 4).some((x) => x.escaped)) {
    const key = text(head.slice(4));
    if (key === '') throw bad('a tag term names its key: tag:KEY or tag:KEY=VALUE');
    if (value === undefined) return { term: 'tag', key };
    if (value.length === 0) throw bad(`no value after "=": tag:${key}=VALUE, or tag:${key} for any value`);
    return { term: 'tag', key, value: glob(value) };
  }
  if (head.some((x) => x.escaped)) throw bad(`unknown term; terms are ${SELECTOR_TERMS}`);
  switch (word.trim()) {
    case 'online':
    case 'offline':
      if (value !== undefined) throw bad(`${word} takes no value`);
      return { term: 'status', online: word === 'online' };
    case 'name':
    case 'id': {
      if (!value || value.length === 0) throw bad(`give a pattern: ${word}=GLOB (* and ? are wildcards)`);
      const pattern = glob(trim(value));
      return word === 'name' ? { term: 'name', pattern } : { term: 'id', pattern };
    }
    case 'os': {
      const v = value && text(trim(value)).toLowerCase();
      if (v === 'linux') return { term: 'os', os: 'Linux' };
      if (v === 'windows') return { term: 'os', os: 'Windows' };
      throw bad('os is linux or windows');
    }
    case 'kind': {
      const v = value && text(trim(value)).toLowerCase();
      const kind = v !== undefined ? KINDS[v] : undefined;
      if (!kind) throw bad('kind is ins (CVM), lhins (Lighthouse) or rins (managed instances)');
      return { term: 'kind', kind };
    }
    default:
      throw bad(`unknown term; terms are ${SELECTOR_TERMS}`);
  }
}

/** Parses one selector; a SelectorError names the bad term and says what would be right. */
export function parseSelector(selector: string): Selector {
  if (selector.trim() === '') throw new SelectorError(`empty selector; terms are ${SELECTOR_TERMS}`);
  return splitTerms(selector).map((t) => parseTerm(t.raw, t.chars));
}

function holds(t: SelectTerm, i: Selectable): boolean {
  switch (t.term) {
    case 'status':
      return i.online === t.online;
    case 'tag':
      return i.tags.some((g) => g.key === t.key && (!t.value || globMatches(t.value, g.value)));
    case 'name':
      return i.name !== undefined && globMatches(t.pattern, i.name);
    case 'id':
      return globMatches(t.pattern, i.id);
    case 'os':
      return i.os === t.os;
    case 'kind':
      return i.kind === t.kind;
  }
}

/** Whether an instance matches one selector (every term holds). */
export function matches(selector: Selector, i: Selectable): boolean {
  return selector.every((t) => holds(t, i));
}

/** Whether an instance matches any of the selectors. */
export function matchesAny(selectors: Selector[], i: Selectable): boolean {
  return selectors.some((s) => matches(s, i));
}

/** Whether any term needs what only DescribeRegisterInstances says (names, tags). */
export function needsManagedDetails(selectors: Selector[]): boolean {
  return selectors.some((s) => s.some((t) => t.term === 'tag' || t.term === 'name'));
}
