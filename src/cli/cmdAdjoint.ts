/** `fluxion adjoint SPEC.json [--latex]`: the augmented adjoint system derived from a model. */
import * as E from 'fp-ts/lib/Either.js';
import { adjointPrintout } from '../train/report.ts';
import type { Command } from './command.ts';
import { fail, parseWithSpec } from './io.ts';
import { loadModelSpec } from './specFile.ts';

/** `fluxion adjoint`. @example await adjoint.run(['examples/specs/spiral.json', '--latex']) */
export const adjoint: Command = {
  run: async (args) => {
    const p = parseWithSpec(args, { latex: { type: 'boolean' } });
    if (E.isLeft(p)) return p;
    const { file } = p.right;
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    const r = adjointPrintout(spec.right.model);
    if (E.isLeft(r)) return E.left(fail(`${file}: ${r.left}`));
    return E.right(p.right.values.latex === true ? r.right.latex : r.right.text);
  },
};
