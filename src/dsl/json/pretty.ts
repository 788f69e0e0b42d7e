/**
 * Writing spec JSON for people: a value that fits on the line stays on one line, longer ones
 * are broken one entry per line, and long arrays of numbers are filled line by line like a
 * printed matrix. The shipped example specs are exactly this output.
 */

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isArray = (v: unknown): v is readonly unknown[] => Array.isArray(v);

const entries = (o: Readonly<Record<string, unknown>>): [string, unknown][] =>
  Object.keys(o).flatMap((k): [string, unknown][] => (o[k] === undefined ? [] : [[k, o[k]]]));

const inline = (v: unknown): string => {
  if (isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (isRecord(v)) {
    const es = entries(v);
    return es.length === 0 ? '{}' : `{ ${es.map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')} }`;
  }
  return JSON.stringify(v) ?? 'null';
};

/**
 * Formats a JSON value within `width` columns (ending in a newline). Nesting is bounded by the
 * encoders (`maxInlineDepth`), so the recursion here is shallow.
 * @example stringifySpec({ op: 'tanh', args: ['y'] }) // '{ "op": "tanh", "args": ["y"] }\n'
 */
export const stringifySpec = (value: unknown, width = 100): string => {
  const go = (v: unknown, indent: string, prefix: string): string => {
    const flat = inline(v);
    if (prefix.length + flat.length <= width) return prefix + flat;
    const inner = `${indent}  `;
    if (isArray(v) && v.length > 0) {
      if (v.every((x) => !isArray(x) && !isRecord(x))) {
        const lines: string[] = [];
        let line = '';
        for (const x of v.map(inline)) {
          if (line !== '' && inner.length + line.length + x.length + 3 > width) {
            lines.push(`${inner}${line},`);
            line = '';
          }
          line += line === '' ? x : `, ${x}`;
        }
        lines.push(inner + line);
        return `${prefix}[\n${lines.join('\n')}\n${indent}]`;
      }
      return `${prefix}[\n${v.map((x) => go(x, inner, inner)).join(',\n')}\n${indent}]`;
    }
    if (isRecord(v) && entries(v).length > 0)
      return `${prefix}{\n${entries(v).map(([k, x]) => go(x, inner, `${inner}${JSON.stringify(k)}: `)).join(',\n')}\n${indent}}`;
    return prefix + flat;
  };
  return `${go(value, '', '')}\n`;
};
