import { badRequest } from './status';

type Test = (labels: Readonly<Record<string, string>>) => boolean;

/**
 * A label selector as the API server parses `?labelSelector=` (the grammar of
 * staging/src/k8s.io/apimachinery/pkg/labels/selector.go, Parse): comma-separated
 * requirements, all of which must hold: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`. As upstream, `!=` and `notin` also match objects without the key.
 */
export function parseSelector(text: string): Test {
  const tests: Test[] = [];
  for (const raw of splitRequirements(text)) {
    const r = raw.trim();
    if (r === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = r.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const [, k, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      tests.push(op === 'in' ? (l) => k in l && values.has(l[k]) : (l) => !(k in l) || !values.has(l[k]));
    } else if ((m = r.match(/^([\w./-]+)\s*!=\s*([\w.-]*)$/))) {
      const [, k, v] = m;
      tests.push((l) => l[k] !== v);
    } else if ((m = r.match(/^([\w./-]+)\s*==?\s*([\w.-]*)$/))) {
      const [, k, v] = m;
      tests.push((l) => l[k] === v);
    } else if ((m = r.match(/^!\s*([\w./-]+)$/))) {
      const k = m[1];
      tests.push((l) => !(k in l));
    } else if ((m = r.match(/^([\w./-]+)$/))) {
      const k = m[1];
      tests.push((l) => k in l);
    } else {
      throw badRequest(`unable to parse requirement: ${JSON.stringify(r)}`);
    }
  }
  return (labels) => tests.every((t) => t(labels));
}

/** Split on commas outside parentheses. */
function splitRequirements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
