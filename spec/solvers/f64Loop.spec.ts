import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { spiralModel } from '../../src/models/spiral.ts';
import { compileF64Dynamics } from '../../src/ode/f64Dynamics.ts';
import { customNorm, maxNorm } from '../../src/solvers/norms.ts';
import { f64FromRows, f64Space, type F64Batch } from '../../src/solvers/f64Space.ts';
import { integrate, type IntegrateOptions } from '../../src/solvers/integrate.ts';
import { integrateF64, loopConfig } from '../../src/solvers/integrateF64.ts';
import { bosh3, dopri5, dopri8, fehlberg45, rk4, tsit5 } from '../../src/solvers/index.ts';
import { f64Workspace, runF64Loop, type F64Rhs } from '../../src/solvers/f64Loop.ts';

const spiral = (() => {
  const m = spiralModel();
  const d = compileF64Dynamics(m.dynamics, m.values);
  if (E.isLeft(d)) throw new Error(d.left);
  return d.right.f;
})();
const inPlace = (g: (t: number, y: F64Batch) => F64Batch): F64Rhs => (t, y, out) => {
  out.set(g(t, { data: y, batch: y.length / 2, dim: 2 }).data);
};
const vdp: F64Rhs = (_t, y, out) => {
  for (let b = 0; b < y.length; b += 2) {
    const a = y[b] as number, v = y[b + 1] as number;
    out[b] = v;
    out[b + 1] = 5 * (1 - a * a) * v - a;
  }
};
const timeDependent: F64Rhs = (t, y, out) => {
  for (let i = 0; i < y.length; i++) out[i] = Math.cos(3 * t) * (y[i] as number) - 0.1 * t;
};
const allocating = (f: F64Rhs) => (t: number, y: F64Batch): F64Batch => {
  const o = new Float64Array(y.data.length);
  f(t, y.data, o);
  return { data: o, batch: y.batch, dim: y.dim };
};

/** Both solvers on one problem: same states, same work, same errors, bit for bit. */
const same = (name: string, f: F64Rhs, y0: F64Batch, o: IntegrateOptions<F64Batch>, fast = true): void => {
  const cfg = loopConfig(o, y0);
  if (fast) {
    // The case is meant for the loop itself: it must take it and finish.
    assert.ok(cfg !== undefined && o.method.kind === 'explicit', `${name}: not on the loop`);
    const ws = f64Workspace(o.method.tableau, y0.data.length);
    runF64Loop(ws, f, y0.data, cfg);
    assert.equal(ws.failed, undefined, name);
  }
  const a = integrateF64(f, y0, o);
  const b = integrate(f64Space, allocating(f), y0, o);
  assert.equal(a._tag, b._tag, name);
  if (E.isLeft(a) || E.isLeft(b)) {
    assert.deepEqual(a, b, name);
    return;
  }
  assert.deepEqual(a.right.stats, b.right.stats, name);
  assert.deepEqual(a.right.ts, b.right.ts, name);
  assert.equal(a.right.ys.length, b.right.ys.length, name);
  a.right.ys.forEach((y, k) => assert.deepEqual(Array.from(y.data), Array.from((b.right.ys[k] as F64Batch).data), `${name} output ${k}`));
  assert.deepEqual(Array.from(a.right.yFinal.data), Array.from(b.right.yFinal.data), `${name} final`);
};

test('the Float64 loop equals integrate bit for bit: methods, directions, outputs, norms, step options', () => {
  const rows = f64FromRows([[2, 0], [0.5, -1.2], [-1, 0.3]]);
  const ts = Array.from({ length: 10 }, (_, i) => i * 0.025025025025025027);
  for (const method of [dopri5, tsit5, bosh3, fehlberg45]) {
    same(`${method.name} spiral forwards`, inPlace(spiral), rows, { method, ts, rtol: 1e-7, atol: 1e-9 });
    same(`${method.name} spiral backwards`, inPlace(spiral), rows, { method, ts: ts.slice().reverse(), rtol: 1e-6, atol: 1e-8 });
    same(`${method.name} van der Pol`, vdp, rows, { method, t0: 0, t1: 3, ts: [0, 0.3, 1, 2.9999, 3], rtol: 1e-5, atol: 1e-7 });
    same(`${method.name} time-dependent, stops`, timeDependent, rows, { method, t0: 1, t1: -2, ts: [1, 0, -1.5], stepTs: [0.5, -0.25, -1], rtol: 1e-8, atol: 1e-10 });
  }
  same('max norm', vdp, rows, { method: dopri5, t0: 0, t1: 2, norm: maxNorm, rtol: 1e-6, atol: 1e-6 });
  same('custom norm', vdp, rows, { method: dopri5, t0: 0, t1: 2, norm: customNorm('first', (s) => Math.abs(s[0] as number)), rtol: 1e-6, atol: 1e-6 });
  same('first step, dtMax, dtMin', vdp, rows, { method: dopri5, t0: 0, t1: 2, firstStep: 0.3, dtMax: 0.2, dtMin: 1e-9 });
  same('loose tolerance, rejections', vdp, f64FromRows([[2, 0]]), { method: dopri5, t0: 0, t1: 10, rtol: 1e-2, atol: 1e-2, firstStep: 2 });
  same('empty span', vdp, rows, { method: dopri5, t0: 1, t1: 1, ts: [1] });
  same('output at t0 only', vdp, rows, { method: dopri5, t0: 0, t1: 1, ts: [0] });
});

test('the Float64 loop hands failures and what it does not cover to integrate, with the same results', () => {
  const rows = f64FromRows([[2, 0]]);
  same('max steps', vdp, rows, { method: dopri5, t0: 0, t1: 10, maxSteps: 3 }, false);
  same('non-finite field', (_t, y, o) => { o[0] = 1 / ((y[0] as number) - 2); o[1] = 0; }, rows, { method: dopri5, t0: 0, t1: 1 }, false);
  same('blow-up', (_t, y, o) => { o[0] = (y[0] as number) ** 2; o[1] = 0; }, rows, { method: dopri5, t0: 0, t1: 1 }, false);
  same('dtMin underflow', vdp, rows, { method: dopri5, t0: 0, t1: 1, dtMin: 0.5 }, false);
  same('fixed step', vdp, rows, { method: rk4, t0: 0, t1: 1, dt: 0.1 }, false);
  same('dopri8 (extra dense stages)', vdp, rows, { method: dopri8, ts: [0, 0.5, 1] }, false);
  same('per-dimension tolerance', vdp, rows, { method: dopri5, t0: 0, t1: 1, rtol: Float64Array.of(1e-6, 1e-3) }, false);
  same('invalid options', vdp, rows, { method: dopri5, t0: 0, t1: 1, rtol: -1 }, false);
});

test('the loop’s part-wise norm (largest RMS over parts, later components unread) equals the same norm as a custom one', () => {
  const y0 = Float64Array.of(2, 0, 0.5, -1, 3, 0.1, -0.2);
  // Two coupled parts and an accumulating tail the field never reads (like an adjoint's θ̄).
  const f: F64Rhs = (_t, y, out) => {
    vdp(0, y.subarray(0, 4), out.subarray(0, 4));
    for (let i = 4; i < 7; i++) out[i] = (y[i % 4] as number) * 0.3;
  };
  for (const cuts of [[0, 2, 4], [0, 2, 4, 6, 7]]) {
    const custom = customNorm('parts', (s) => {
      let worst = 0;
      for (let k = 0; k + 1 < cuts.length; k++) {
        let acc = 0;
        for (let i = cuts[k] as number; i < (cuts[k + 1] as number); i++) acc += (s[i] as number) ** 2;
        const rms = Math.sqrt(acc / Math.max(1, (cuts[k + 1] as number) - (cuts[k] as number)));
        worst = Number.isNaN(rms) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, rms);
      }
      return worst;
    });
    const run = (norm: Parameters<typeof runF64Loop>[3]['norm']) => {
      const ws = f64Workspace(dopri5.tableau, 7);
      const cfg = loopConfig({ method: dopri5, t0: 0, t1: 1.5, rtol: 1e-6, atol: 1e-8 }, { data: y0, batch: 1, dim: 7 });
      if (cfg === undefined) throw new Error('loop config');
      runF64Loop(ws, f, y0, { ...cfg, norm });
      return { y: Array.from(ws.y), nfe: ws.nfe, accepted: ws.accepted, rejected: ws.rejected, failed: ws.failed };
    };
    assert.deepEqual(run({ kind: 'maxRms', cuts: Int32Array.from(cuts) }), run(custom), `cuts ${cuts.join(',')}`);
  }
});

test('onAccept sees every accepted step once, in order: the steps of integrate’s saved grid, y₁ the next y, f₁ = f(t + h, y₁)', () => {
  for (const method of [dopri5, tsit5, bosh3, fehlberg45]) {
    if (method.kind !== 'explicit') throw new Error('explicit');
    const y0 = f64FromRows([[1, 0.5], [-0.3, 0.2]]);
    const o: IntegrateOptions<F64Batch> = { method, ts: [0, 0.3, 0.7, 1.5], rtol: 1e-6, atol: 1e-9 };
    const cfg = loopConfig(o, y0);
    if (cfg === undefined) throw new Error('the loop runs this');
    const seen: { t: number; h: number; y: Float64Array; y1: Float64Array; f1: Float64Array }[] = [];
    const ws = f64Workspace(method.tableau, 4);
    runF64Loop(ws, timeDependent, y0.data, {
      ...cfg, onAccept: (t, h, y, y1, _ks, f1) => seen.push({ t, h, y: y.slice(), y1: y1.slice(), f1: f1.slice() }),
    });
    assert.equal(ws.failed, undefined);
    assert.equal(seen.length, ws.accepted);
    const r = integrate(f64Space, allocating(timeDependent), y0, { ...o, saveSteps: true });
    if (E.isLeft(r) || r.right.steps === undefined) throw new Error('integrate failed');
    assert.deepEqual(seen.map((s) => s.t), r.right.steps.ts.slice(0, -1));
    seen.forEach((s, j) => {
      const next = seen[j + 1];
      if (next !== undefined) assert.deepEqual(next.y, s.y1);
      const f1 = new Float64Array(4);
      timeDependent(s.t + s.h, s.y1, f1);
      assert.ok(f1.every((v, i) => Math.abs(v - (s.f1[i] as number)) <= 1e-15 * (1 + Math.abs(v))), `${method.tableau.name} f₁ of step ${j}`);
    });
    assert.deepEqual(seen.at(-1)?.y1, ws.y);
  }
});
