/**
 * JSON specs, well-formed side: the shipped specs are canonical and equal to the TypeScript
 * models, and decode/encode round-trip random models and expressions (seeded fast-check):
 * decoding an encoding gives the same interned nodes, and encoding again the same JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import * as C from '../../src/dsl/construct.ts';
import type { Node } from '../../src/dsl/node.ts';
import {
  decodeExprSpec, decodeModelSpec, decodeSpec, encodeExprSpec, encodeModelSpec, exprSpecOfModel,
  formatSpecErrors, modelSpecOf, parseExprSpec, parseModelSpec, parseSpec, stringifySpec,
  type ExprSpec, type ModelSpec, type SpecError,
} from '../../src/dsl/json/index.ts';
import { spiralModel, spiralTrueDynamics } from '../../src/models/spiral.ts';
import { exprArbs, exprVars } from '../arbitraries/expr.ts';
import { jsonVars, letsArb, modelOf, pickLets, programArb, runProgram } from '../arbitraries/jsonExpr.ts';

const right = <T>(r: E.Either<readonly { readonly path: string; readonly message: string }[], T>): T => {
  if (E.isLeft(r)) assert.fail(r.left.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r.right;
};
const model = (r: E.Either<readonly SpecError[], ModelSpec>): ModelSpec => {
  if (E.isLeft(r)) assert.fail(formatSpecErrors(r.left));
  return r.right;
};
const must = <T>(r: E.Either<string, T>): T => {
  if (E.isLeft(r)) assert.fail(r.left);
  return r.right;
};
const specDir = new URL('../../examples/specs/', import.meta.url);
const readSpec = (name: string): string => readFileSync(new URL(name, specDir), 'utf8');
const seeded = { seed: 20240611, numRuns: 150 } as const;

const sameModelNodes = (a: ModelSpec, b: ModelSpec): void => {
  assert.equal(a.model.dynamics.f.node, b.model.dynamics.f.node);
  assert.equal(a.model.dynamics.state.node, b.model.dynamics.state.node);
  assert.equal(a.model.dynamics.time.node, b.model.dynamics.time.node);
  assert.equal(a.model.loss?.value.node, b.model.loss?.value.node);
  assert.equal(a.model.loss?.prediction.node, b.model.loss?.prediction.node);
  assert.deepEqual(a.model.params.map((p) => [p.name, p.expr.node.id, p.init]), b.model.params.map((p) => [p.name, p.expr.node.id, p.init]));
  // Every let of the original names the same node; fresh names of the encoding are lets too.
  for (const [k, n] of b.lets) assert.equal(a.lets.get(k), n, `let ${k}`);
};

test('every shipped spec is canonical: encode(decode(file)) is the file, byte for byte', () => {
  const files = readdirSync(specDir).filter((f) => f.endsWith('.json'));
  assert.ok(files.includes('spiral.json') && files.includes('spiral-true.json') && files.includes('time-mlp.json'));
  for (const f of files) {
    const text = readSpec(f);
    const spec = right(parseSpec(text));
    const doc = spec.kind === 'model' ? encodeModelSpec(spec.spec) : encodeExprSpec(spec.spec);
    assert.deepEqual(doc, JSON.parse(text), f);
    assert.equal(stringifySpec(doc), text, f);
  }
});

test('spiral.json decodes to exactly the nodes of spiralModel() (interning makes identity the test)', () => {
  const spec = model(parseModelSpec(readSpec('spiral.json')));
  const m = spiralModel();
  assert.equal(spec.model.dynamics.f.node, m.dynamics.f.node);
  assert.equal(spec.model.dynamics.state.node, m.dynamics.state.node);
  assert.equal(spec.model.loss?.value.node, m.loss?.value.node);
  assert.equal(spec.lets.size, 0);
  assert.deepEqual(spec.model.params.map((p) => [p.name, p.expr.node, p.init]), m.params.map((p) => [p.name, p.expr.node, p.init]));
  assert.deepEqual(spec.model.values, m.values);
  assert.deepEqual(spec.model.dynamics.f.shape, ['batch', 2]);
  // And the TypeScript model encodes to the shipped file.
  const fromTs = encodeModelSpec(modelSpecOf(m, { seed: 0 }));
  assert.equal(stringifySpec(fromTs), readSpec('spiral.json'));
});

test('spiral-true.json is the true dynamics (y∘y∘y) A; time-mlp.json is time-dependent through concat', () => {
  const truth = model(parseModelSpec(readSpec('spiral-true.json')));
  assert.equal(truth.model.dynamics.f.node, spiralTrueDynamics().f.node);
  assert.equal(truth.model.params.length, 0);
  assert.equal(truth.model.loss, undefined);
  const tm = model(parseModelSpec(readSpec('time-mlp.json')));
  assert.deepEqual(tm.model.dynamics.f.shape, ['batch', 2]);
  assert.deepEqual(tm.model.params.map((p) => p.name), ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
  assert.equal(tm.lets.get('tcol')?.kind, 'broadcast');
});

test('random models: decode(encode(m)) gives the same nodes; encode(decode(encode(m))) = encode(m)', () => {
  fc.assert(fc.property(programArb, letsArb, (steps, picks) => {
    const pool = runProgram(steps);
    const m = modelOf(pool);
    const spec = modelSpecOf(m, { lets: pickLets(pool, picks), seed: 7 });
    const doc = encodeModelSpec(spec);
    const back = model(decodeModelSpec(doc));
    sameModelNodes(back, spec);
    assert.deepEqual(back.model.values, m.values);
    assert.deepEqual(encodeModelSpec(back), doc);
    // Through text too (NaN, ±Infinity and -0 are strings in JSON).
    const viaText = model(parseModelSpec(stringifySpec(doc)));
    sameModelNodes(viaText, spec);
  }), seeded);
});

test('random models with all values written: the values come back exactly', () => {
  fc.assert(fc.property(programArb, (steps) => {
    const m = modelOf(runProgram(steps));
    const doc = encodeModelSpec(modelSpecOf(m), { values: 'all' });
    const back = model(parseModelSpec(JSON.stringify(doc)));
    assert.deepEqual(back.model.values, m.values);
    assert.deepEqual([...back.givenValues], ['W', 'b']);
    assert.deepEqual(encodeModelSpec(back), doc);
  }), { ...seeded, numRuns: 30 });
});

const exprRoundTrip = (spec: ExprSpec): void => {
  const doc = encodeExprSpec(spec);
  const back = right(decodeExprSpec(doc));
  assert.deepEqual([...back.exprs].map(([k, n]) => [k, n.id]), [...spec.exprs].map(([k, n]) => [k, n.id]));
  for (const [k, n] of spec.lets) assert.equal(back.lets.get(k), n, `let ${k}`);
  assert.deepEqual(encodeExprSpec(back), doc);
  const viaText = right(parseExprSpec(stringifySpec(doc)));
  assert.deepEqual([...viaText.exprs.values()], [...spec.exprs.values()]);
};

test('random expression DAGs (shared nodes, user lets, special constants) round-trip', () => {
  fc.assert(fc.property(programArb, letsArb, (steps, picks) => {
    const pool = runProgram(steps);
    const exprs = new Map(pool.slice(-3).map((n, i): [string, Node] => [`e${i}`, n]));
    exprRoundTrip({ variables: Object.values(jsonVars).map((node) => ({ node })), lets: pickLets(pool, picks), exprs });
  }), seeded);
});

test('expressions over every op and node kind (the shared arbitrary) round-trip', () => {
  fc.assert(fc.property(exprArbs.b, exprArbs.s, (b, s) => {
    exprRoundTrip({ variables: [{ node: exprVars.b }], lets: new Map(), exprs: new Map([['b', b], ['s', s]]) });
  }), { ...seeded, numRuns: 100 });
});

test('shared subexpressions become lets v1, v2… skipping taken names; aliases are kept', () => {
  const y = jsonVars.y;
  const h = must(C.unary('tanh', y));
  const hh = must(C.binary('mul', h, h));
  const doc = encodeExprSpec({ variables: [{ node: y }], lets: new Map<string, Node>([['v1', jsonVars.t], ['a', hh], ['b', hh]]), exprs: new Map([['out', must(C.unary('neg', hh))]]) });
  assert.deepEqual(doc, {
    fluxion: 'expr/1',
    variables: { y: { role: 'state', shape: ['batch', 3] }, t: { role: 'time', shape: [] } },
    let: { v1: 't', v2: { op: 'tanh', args: ['y'] }, a: { op: 'mul', args: ['v2', 'v2'] }, b: 'a' },
    exprs: { out: { op: 'neg', args: ['a'] } },
  });
  exprRoundTrip(right(decodeExprSpec(doc)));
});

test('lets may come in any order; canonical order is dependencies first', () => {
  const doc = {
    fluxion: 'expr/1',
    variables: { y: { role: 'input', shape: [2] } },
    let: { h: { op: 'tanh', args: ['g'] }, g: { op: 'exp', args: ['y'] } },
    exprs: { out: 'h' },
  };
  const spec = right(decodeExprSpec(doc));
  assert.deepEqual(Object.keys(encodeExprSpec(spec).let ?? {}), ['g', 'h']);
});

test('deep DAGs: a 1000-deep chain encodes within the depth limit; a 20000-let chain decodes', () => {
  let n: Node = jsonVars.u;
  for (let i = 0; i < 1000; i++) n = must(C.unary(i % 2 === 0 ? 'neg' : 'sin', n));
  const doc = encodeExprSpec({ variables: [], lets: new Map(), exprs: new Map([['deep', n]]) });
  assert.ok(Object.keys(doc.let ?? {}).length >= 25);
  assert.equal(right(parseExprSpec(JSON.stringify(doc))).exprs.get('deep'), n);
  const lets: Record<string, unknown> = { l0: 'u' };
  for (let i = 1; i <= 20000; i++) lets[`l${i}`] = { op: 'neg', args: [`l${i - 1}`] };
  const chain = right(decodeExprSpec({ fluxion: 'expr/1', variables: { u: { role: 'input', shape: [3] } }, let: lets, exprs: { out: 'l20000' } }));
  assert.equal(chain.exprs.get('out')?.kind, 'unary');
});

test('constants: numbers, special values as strings, explicit shapes, zero-sized tensors', () => {
  const doc = {
    fluxion: 'expr/1', variables: {},
    exprs: {
      a: 2.5,
      b: { op: 'const', value: '-0' },
      c: { op: 'const', value: [1, 'NaN', 'Infinity', '-Infinity', 2, 3], shape: [2, 3] },
      d: { op: 'const', value: [], shape: [0, 3] },
    },
  };
  const spec = right(decodeExprSpec(doc));
  const c = spec.exprs.get('c');
  assert.ok(c?.kind === 'const');
  assert.deepEqual(c.shape, [2, 3]);
  assert.ok(Object.is((spec.exprs.get('b') as Node & { value: Float64Array }).value[0], -0));
  assert.deepEqual(encodeExprSpec(spec).exprs, {
    a: 2.5,
    b: { op: 'const', value: '-0' },
    c: { op: 'const', value: [[1, 'NaN', 'Infinity'], ['-Infinity', 2, 3]] },
    d: { op: 'const', value: [], shape: [0, 3] },
  });
});

test('default attributes are left out: all-axes reductions, reversed transposes, keepDims false', () => {
  const doc = {
    fluxion: 'expr/1', variables: { m: { role: 'input', shape: [2, 3] } },
    exprs: {
      s: { op: 'sum', args: ['m'], axes: [1, 0], keepDims: false },
      t: { op: 'transpose', args: ['m'], perm: [1, 0] },
      r: { op: 'mean', args: ['m'], axes: [-1], keepDims: true },
    },
  };
  assert.deepEqual(encodeExprSpec(right(decodeExprSpec(doc))).exprs, {
    s: { op: 'sum', args: ['m'] },
    t: { op: 'transpose', args: ['m'] },
    r: { op: 'mean', args: ['m'], axes: [1], keepDims: true },
  });
});

test('decodeSpec dispatches on "fluxion"; a model is printable as an expression spec', () => {
  const json: unknown = JSON.parse(readSpec('spiral.json'));
  const any = right(decodeSpec(json));
  assert.equal(any.kind, 'model');
  const spec = model(decodeModelSpec(json));
  const asExprs = exprSpecOfModel(spec);
  assert.deepEqual([...asExprs.exprs.keys()], ['f', 'loss']);
  const doc = encodeExprSpec(asExprs);
  assert.equal(right(decodeExprSpec(doc)).exprs.get('f'), spec.model.dynamics.f.node);
  assert.equal(right(decodeSpec(doc)).kind, 'expr');
});

test('a parameter given only by value needs no init and keeps none when encoded', () => {
  const doc = {
    fluxion: 'model/1', name: 'lin',
    variables: { y: { role: 'state', shape: [2] }, t: { role: 'time', shape: [] }, A: { role: 'param', shape: [2, 2] } },
    dynamics: { state: 'y', time: 't', f: { op: 'reshape', args: [{ op: 'matmul', args: [{ op: 'reshape', args: ['y'], shape: [1, 2] }, 'A'] }], shape: [2] } },
    values: { A: [[0, 1], [-1, 0]] },
  };
  const spec = model(decodeModelSpec(doc));
  assert.deepEqual(Array.from(spec.model.values.A?.data ?? []), [0, 1, -1, 0]);
  assert.deepEqual(encodeModelSpec(spec), doc);
});

test('decoding never touches Object.prototype', () => {
  const evil = '{"fluxion":"model/1","__proto__":{"polluted":true},"variables":{"constructor":{"prototype":{"polluted":true}}}}';
  assert.ok(E.isLeft(parseModelSpec(evil)));
  assert.ok(E.isLeft(decodeModelSpec(JSON.parse(evil))));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

test('the decoder never evaluates code from a spec', () => {
  const dir = new URL('../../src/dsl/json/', import.meta.url);
  for (const f of readdirSync(dir)) {
    const src = readFileSync(new URL(f, dir), 'utf8');
    assert.doesNotMatch(src, /\beval\s*\(|new\s+Function\b|\bFunction\s*\(|import\s*\(/, f);
  }
});
