import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { validateTableau } from '../../src/solvers/tableau.ts';
import { methodByName, methods } from '../../src/solvers/methods.ts';
import { polyEval } from '../../src/solvers/polynomial.ts';
import { validateRosenbrock } from '../../src/solvers/rosenbrockTableau.ts';
import { dopri5 } from '../../src/solvers/tableaus/dopri5.ts';
import { formatSolveError } from '../../src/solvers/errors.ts';

describe('Butcher tableaus', () => {
  it('every built-in explicit tableau satisfies Σa = c, Σb = 1, Σe = 0 and the dense conditions', () => {
    for (const m of Object.values(methods)) {
      if (m.kind !== 'explicit') continue;
      const r = validateTableau(m.tableau);
      assert.ok(E.isRight(r), `${m.name}: ${E.isLeft(r) ? r.left.join('; ') : ''}`);
    }
  });

  it('derives FSAL from the data (dopri5, tsit5, bosh3, dopri8 yes; rk4, fehlberg45 no)', () => {
    const fsal = Object.fromEntries(Object.values(methods).flatMap((m) => (m.kind === 'explicit' ? [[m.name, m.tableau.fsal]] : [])));
    assert.deepEqual(fsal, { euler: false, midpoint: false, heun: false, rk4: false, bosh3: true, fehlberg45: false, dopri5: true, tsit5: true, dopri8: true });
  });

  it('rejects a broken tableau and lists every violated condition', () => {
    const r = validateTableau({ name: 'broken', order: 2, c: [0, 0.5], a: [[], [0.4]], b: [0.5, 0.6], error: { kind: 'embedded', order: 1, weights: [0.1, 0.1] } });
    assert.ok(E.isLeft(r));
    assert.equal(r.left.length, 3, r.left.join('\n'));
    assert.match(r.left.join('\n'), /Σa = 0.4 but c = 0.5/);
    assert.match(r.left.join('\n'), /Σb = 1.1/);
    assert.match(r.left.join('\n'), /Σ\(b − b̂\) = 0.2/);
  });

  it('tableaus are frozen data', () => {
    assert.ok(Object.isFrozen(dopri5.tableau));
    assert.ok(Object.isFrozen(dopri5.tableau.a[3]));
    assert.throws(() => { (dopri5.tableau.b as number[])[0] = 1; });
  });

  it('dense polynomials reproduce b at θ = 1 and vanish at θ = 0', () => {
    const polys = dopri5.tableau.dense?.polys ?? [];
    polys.forEach((p, i) => {
      assert.equal(polyEval(p, 0), 0);
      assert.ok(Math.abs(polyEval(p, 1) - (dopri5.tableau.b[i] as number)) < 1e-14);
    });
  });

  it('rodas4 has a well-formed Rosenbrock tableau', () => {
    assert.ok(E.isRight(validateRosenbrock(methods.rodas4.tableau)));
  });

  it('methodByName finds every method by its name and explains unknown names', () => {
    for (const [name, m] of Object.entries(methods)) {
      const r = methodByName(name);
      assert.ok(E.isRight(r) && r.right === m);
    }
    const bad = methodByName('rk45');
    assert.ok(E.isLeft(bad));
    assert.match(formatSolveError(bad.left), /unknown method "rk45"; known: euler, midpoint, .*dopri5.*rodas4/);
    assert.ok(E.isLeft(methodByName('toString')));
  });
});

describe('type-level: methods are values, not strings', () => {
  it('integrate rejects a method given as a string at compile time', async () => {
    const { integrate } = await import('../../src/solvers/integrate.ts');
    const { f64Space, f64FromRows } = await import('../../src/solvers/f64Space.ts');
    // @ts-expect-error — `method` takes a Method value (e.g. dopri5), never a string.
    const r = integrate(f64Space, (_t, y) => y, f64FromRows([[1]]), { method: 'dopri5', t1: 1 });
    // Untyped callers get a value too, pointing at methodByName.
    assert.ok(E.isLeft(r));
    assert.match(formatSolveError(r.left), /invalid option method: expected a method value such as dopri5 \(got "dopri5"\); use methodByName/);
  });
});
