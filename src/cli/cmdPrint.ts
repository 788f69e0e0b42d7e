/** `fluxion print SPEC.json [--latex] [--ascii]`: a model or expression as people read it. */
import * as E from 'fp-ts/lib/Either.js';
import type { Node } from '../dsl/node.ts';
import { printLatex } from '../interp/printLatex.ts';
import { printText } from '../interp/printText.ts';
import type { PrintRoot } from '../interp/printPlan.ts';
import type { AnySpec } from '../dsl/json/index.ts';
import type { Command } from './command.ts';
import { parseWithSpec } from './io.ts';
import { loadSpec } from './specFile.ts';

/** The named roots of a spec: `dy/dt` and `L` for a model, each named expression otherwise. */
export const specRoots = (s: AnySpec): { readonly roots: readonly PrintRoot[]; readonly names: ReadonlyMap<Node, string> } => {
  const names = new Map<Node, string>();
  for (const [name, node] of s.spec.lets) if (!names.has(node)) names.set(node, name);
  if (s.kind === 'expr') return { roots: [...s.spec.exprs].map(([name, node]) => ({ name, expr: node })), names };
  const m = s.spec.model;
  const z = m.dynamics.state.node.kind === 'var' ? m.dynamics.state.node.name : 'z';
  const t = m.dynamics.time.node.kind === 'var' ? m.dynamics.time.node.name : 't';
  const roots: PrintRoot[] = [{ name: `d${z}/d${t}`, latex: `\\frac{d${z}}{d${t}}`, expr: m.dynamics.f.node }];
  if (m.loss !== undefined) roots.push({ name: 'L', latex: 'L', expr: m.loss.value.node });
  return { roots, names };
};

/** `fluxion print`. @example await print.run(['examples/specs/spiral.json', '--latex']) */
export const print: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, { latex: { type: 'boolean' }, ascii: { type: 'boolean' } });
    if (E.isLeft(p)) return p;
    const { file } = p.right;
    const s = await loadSpec(file);
    if (E.isLeft(s)) return s;
    const { roots, names } = specRoots(s.right);
    return E.right(p.right.values.latex === true
      ? printLatex(roots, { names })
      : printText(roots, { names, unicode: p.right.values.ascii !== true }));
  },
};
