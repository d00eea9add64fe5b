/**
 * JSON as Go's encoding/json writes it, which is what kubectl prints and what it puts inside a
 * `.dockerconfigjson`: object keys in the order given (Go writes struct fields in declaration order),
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as \u00XX (HTML-safe by default), `\b` and `\f` short forms
 * (Go 1.22 and later), other control characters as \u00XX. JSON.stringify differs on every one of these.
 */

export type GoJsonValue = string | number | boolean | null | GoJsonValue[] | { [key: string]: GoJsonValue };

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (ch < ' ' || ch === '<' || ch === '>' || ch === '&' || ch === '\u2028' || ch === '\u2029') out += `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** json.Marshal: no whitespace. */
export function goJsonCompact(value: GoJsonValue): string {
  return encode(value, undefined, '');
}

/** json.MarshalIndent(value, "", indent), as kubectl's `-o json` prints (with four spaces), without the final newline. */
export function goJsonIndent(value: GoJsonValue, indent = '    '): string {
  return encode(value, indent, '');
}

function encode(value: GoJsonValue, indent: string | undefined, current: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = indent === undefined ? '' : current + indent;
  const newline = indent === undefined ? '' : '\n';
  const colon = indent === undefined ? ':' : ': ';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[${newline}${value.map((v) => inner + encode(v, indent, inner)).join(`,${newline}`)}${newline}${indent === undefined ? '' : current}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  const body = entries.map(([k, v]) => `${inner}${goJsonString(k)}${colon}${encode(v, indent, inner)}`).join(`,${newline}`);
  return `{${newline}${body}${newline}${indent === undefined ? '' : current}}`;
}
