/**
 * Go's path/filepath.Match on Linux, which the kubelet applies to each host label of a credential key:
 * `*` any run of characters, `?` one character, `[...]` and `[^...]` classes with ranges, `\` escapes.
 * A malformed pattern matches nothing (Go returns ErrBadPattern, and the kubelet treats that as no match).
 */
export function goPathMatch(pattern: string, name: string): boolean {
  const regex = toRegExp(pattern);
  return regex !== undefined && regex.test(name);
}

const cache = new Map<string, RegExp | undefined>();

function toRegExp(pattern: string): RegExp | undefined {
  if (cache.has(pattern)) return cache.get(pattern);
  const compiled = compile(pattern);
  cache.set(pattern, compiled);
  return compiled;
}

function compile(pattern: string): RegExp | undefined {
  let source = '';
  let i = 0;
  const escapeChar = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  /** One class character (maybe escaped); undefined when the pattern is malformed there. */
  const classChar = (): string | undefined => {
    let c = pattern[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') {
      i++;
      c = pattern[i];
      if (c === undefined) return undefined;
    }
    i++;
    return c;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '*') {
      source += '[^/]*';
      i++;
    } else if (c === '?') {
      source += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) return undefined;
      source += escapeChar(pattern[i + 1]!);
      i += 2;
    } else if (c === '[') {
      i++;
      let negated = false;
      if (pattern[i] === '^') {
        negated = true;
        i++;
      }
      const ranges: string[] = [];
      do {
        const lo = classChar();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (pattern[i] === '-') {
          i++;
          const h = classChar();
          if (h === undefined) return undefined;
          hi = h;
        }
        if (hi < lo) return undefined;
        ranges.push(lo === hi ? escapeChar(lo) : `${escapeChar(lo)}-${escapeChar(hi)}`);
      } while (i < pattern.length && pattern[i] !== ']');
      if (pattern[i] !== ']') return undefined;
      i++;
      source += negated ? `(?![${ranges.join('')}])[^/]` : `[${ranges.join('')}]`;
    } else {
      source += escapeChar(c);
      i++;
    }
  }
  return new RegExp(`^${source}$`, 's');
}
