/** `fluxion adjoint SPEC.json [--latex]`: the augmented adjoint system derived from a model. */
import * as E from 'fp-ts/lib/Either.js';
import { adjointPrintout } from '../train/report.ts';
import type { Command } from './command.ts';
import { fail, parse } from './io.ts';
import { loadModelSpec } from './specFile.ts';

/** `fluxion adjoint`. @example await adjoint.run(['examples/specs/spiral.json', '--latex']) */
export const adjoint: Command = {
  run: async (args) => {
    const p = parse(args, { options: { latex: { type: 'boolean' } }, allowPositionals: true });
    if (E.isLeft(p)) return p;
    const [file, ...extra] = p.right.positionals;
    if (file === undefined || extra.length > 0) return E.left(fail('give exactly one spec file', true));
    const spec = await loadModelSpec(file);
    if (E.isLeft(spec)) return spec;
    const r = adjointPrintout(spec.right.model);
    if (E.isLeft(r)) return E.left(fail(`${file}: ${r.left}`));
    return E.right(p.right.values.latex === true ? r.right.latex : r.right.text);
  },
};
