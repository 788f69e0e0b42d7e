/**
 * JSON specs, malformed side. Each file `spec/fixtures/malformed/NAME.json` must produce exactly
 * the errors listed in `NAME.errors` (one `path: message` per line, in order). Hostile inputs
 * too large to keep as files (deep nesting, huge node counts) are generated here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodeExprSpec, decodeModelSpec, decodeSpec, defaultLimits, formatSpecErrors, parseModelSpec,
  type SpecError,
} from '../../src/dsl/json/index.ts';

const dir = new URL('../fixtures/malformed/', import.meta.url);

const errorsOf = <T>(r: E.Either<readonly SpecError[], T>): readonly SpecError[] => {
  if (E.isRight(r)) assert.fail('expected the spec to be rejected');
  return r.left;
};
const lines = <T>(r: E.Either<readonly SpecError[], T>): string[] => formatSpecErrors(errorsOf(r)).split('\n');

const header = '{"fluxion":"model/1","name":"gen","variables":{"y":{"role":"state","shape":["batch",2]},"t":{"role":"time","shape":[]}},';

test('every malformed fixture gives exactly its listed errors', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 15);
  for (const f of files) {
    const want = readFileSync(new URL(f.replace(/\.json$/, '.errors'), dir), 'utf8').trimEnd().split('\n');
    assert.deepEqual(lines(parseModelSpec(readFileSync(new URL(f, dir), 'utf8'))), want, f);
  }
});

test('errors are tagged and keep the offending value', () => {
  const read = (f: string): readonly SpecError[] => errorsOf(parseModelSpec(readFileSync(new URL(f, dir), 'utf8')));
  const [mm] = read('matmul-mismatch.json');
  assert.equal(mm?._tag, 'Shape');
  assert.deepEqual(mm?.value, { op: 'matmul', args: ['h', 'W'] });
  assert.deepEqual(mm?.segments, ['dynamics', 'f', 'args', 0]);
  const [role] = read('role-unknown.json');
  assert.equal(role?._tag, 'Type');
  assert.equal(role?.value, 'clock');
  assert.deepEqual(read('let-cycle.json').map((e) => e._tag), ['Cycle', 'Cycle']);
  assert.deepEqual(read('proto-in-op.json').map((e) => e._tag), ['Unsafe']);
  assert.deepEqual(read('f-shape.json').map((e) => e._tag), ['Model']);
  assert.deepEqual(read('undeclared-variable.json').map((e) => e._tag), ['Name', 'Name']);
  const [syntax] = read('invalid-json.json');
  assert.ok(syntax?._tag === 'Syntax');
  assert.deepEqual([syntax.line, syntax.column], [6, 3]);
});

test('100000 nested ops: no stack overflow, the depth limit is reported where it was hit', () => {
  const n = 100_000;
  const text = `${header}"dynamics":{"state":"y","time":"t","f":${'{"op":"neg","args":['.repeat(n)}"y"${']}'.repeat(n)}}}`;
  const want = ['dynamics.f(.args[0])×255: nesting deeper than 512 levels'];
  const fromText = errorsOf(parseModelSpec(text));
  assert.deepEqual(formatSpecErrors(fromText).split('\n'), want);
  assert.equal(fromText[0]?._tag, 'Limit');
  // Already-parsed JSON goes through the same limit (JSON.parse itself is iterative).
  assert.deepEqual(lines(decodeModelSpec(JSON.parse(text))), want);
  assert.deepEqual(lines(parseModelSpec(text, { ...defaultLimits, maxDepth: 10 })), ['dynamics.f(.args[0])×4: nesting deeper than 10 levels']);
});

test('too many expression nodes: the node limit is reported where it was hit', () => {
  const args = Array.from({ length: 100_001 }, () => '"y"').join(',');
  const text = `${header}"dynamics":{"state":"y","time":"t","f":{"op":"concat","args":[${args}],"axis":1}}}`;
  assert.deepEqual(lines(parseModelSpec(text)), ['dynamics.f.args[99999]: more than 100000 expression nodes']);
  // Let bodies count once each, in document order.
  const lets = Array.from({ length: 8 }, (_, i) => `"l${i}":${i === 0 ? '"y"' : `{"op":"neg","args":["l${i - 1}"]}`}`).join(',');
  const chain = `${header}"let":{${lets}},"dynamics":{"state":"y","time":"t","f":"l7"}}`;
  assert.deepEqual(lines(parseModelSpec(chain, { ...defaultLimits, maxExprNodes: 10 })), ['let.l5.args[0]: more than 10 expression nodes']);
});

test('text and value-count limits', () => {
  const text = `${header}"dynamics":{"state":"y","time":"t","f":"y"}}`;
  assert.deepEqual(lines(parseModelSpec(text, { ...defaultLimits, maxTextLength: 100 })),
    [`(root): the text has ${text.length} characters, more than the limit 100`]);
  assert.deepEqual(lines(decodeModelSpec({ a: [1, 2, 3] }, { ...defaultLimits, maxJsonValues: 3 })), ['a[1]: more than 3 JSON values']);
});

test('values that are not JSON data are rejected without running getters', () => {
  let called = false;
  const spec: Record<string, unknown> = {
    fluxion: 'model/1',
    name: () => 'x',
    variables: { y: { role: 'state', shape: [NaN] } },
    dynamics: undefined,
    seed: 10n,
    when: new Date(0),
    list: [1, , 3],
  };
  Object.defineProperty(spec, 'loss', { enumerable: true, get: () => { called = true; return {}; } });
  assert.deepEqual(lines(decodeModelSpec(spec)), [
    'name: a function is not JSON',
    'variables.y.shape[0]: the number NaN is not JSON',
    'dynamics: undefined is not JSON',
    'seed: a bigint is not JSON',
    'when: an object with a class is not JSON data',
    'list[1]: a hole in an array is not JSON',
    'loss: an accessor property is not JSON data',
  ]);
  assert.equal(called, false);
});

test('forbidden keys are rejected anywhere, even when written with escapes', () => {
  const text = `${header}"dynamics":{"state":"y","time":"t","f":{"op":"neg","args":["y"],"\\u005f_proto__":{}}}}`;
  assert.deepEqual(lines(parseModelSpec(text)), ['dynamics.f.__proto__: forbidden key "__proto__"']);
  const nested = JSON.parse('{"fluxion":"model/1","values":{"W":[[{"constructor":1}]]}}');
  assert.deepEqual(lines(decodeModelSpec(nested)), ['values.W[0][0].constructor: forbidden key "constructor"']);
});

test('invalid JSON text is reported with its line, column and path', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', '(root): invalid JSON at line 1, column 1: unexpected end of the text (expected a value)'],
    ['{"fluxion": "model/1",\n "name": "x\n"}', 'name: invalid JSON at line 2, column 10: invalid string (a bad escape, a control character or no closing quote)'],
    ['{"fluxion": "model/1"} {}', '(root): invalid JSON at line 1, column 24: unexpected \'{\' after the end of the document'],
    ['{"variables": {"y": {"shape": [1, 2,]}}}', 'variables.y.shape[2]: invalid JSON at line 1, column 37: expected a value, got \']\''],
    ['{"a": tru}', 'a: invalid JSON at line 1, column 7: expected a value, got \'t\''],
    ['{"a" 1}', 'a: invalid JSON at line 1, column 6: expected \':\', got \'1\''],
  ];
  for (const [text, want] of cases) assert.deepEqual(lines(parseModelSpec(text)), [want], JSON.stringify(text));
});

test('a failed subexpression skips its parents but not its siblings', () => {
  const f = { op: 'add', args: [{ op: 'matmul', args: ['y', 'y'] }, { op: 'tanh', args: [{ op: 'sum', args: ['y'], axes: [2] }] }] };
  assert.deepEqual(lines(decodeModelSpec(JSON.parse(`${header}"dynamics":{"state":"y","time":"t","f":${JSON.stringify(f)}}}`))), [
    'dynamics.f.args[0]: matmul inner dimensions differ ([batch,2] × [batch,2])',
    'dynamics.f.args[1].args[0]: sum: axis 2 out of range for rank 2',
  ]);
});

test('structure errors in op objects: missing op, bad args, bad attributes, const values', () => {
  const f = {
    op: 'concat',
    args: [
      { args: ['y'] },
      { op: 'neg' },
      { op: 'reshape', args: ['y'], shape: 'flat' },
      { op: 'const', value: [[1, 2], [3]], args: ['nope'] },
      { op: 'const', value: [1, 2, 3], shape: [2, 2] },
      { op: 'transpose', args: 'y', perm: [0, 'one'] },
      { op: 7 },
    ],
    axis: 'last',
  };
  assert.deepEqual(lines(decodeModelSpec(JSON.parse(`${header}"dynamics":{"state":"y","time":"t","f":${JSON.stringify(f)}}}`))), [
    'dynamics.f.axis: expected an integer, got "last"',
    'dynamics.f.args[0].op: missing: expected an op name ("op": "add", …)',
    'dynamics.f.args[1].args: missing: expected an array of 1 expression',
    'dynamics.f.args[2].shape: expected a shape (an array of dimensions), got "flat"',
    'dynamics.f.args[3].args: unknown property "args" (expected one of "value", "op", "shape")',
    'dynamics.f.args[3].value[1]: expected 2 elements like the first row, got 1',
    'dynamics.f.args[4]: const: value has shape [3], which is neither shape [2,2] nor a flat list of its elements',
    'dynamics.f.args[5].perm[1]: expected an integer, got "one"',
    'dynamics.f.args[5].args: expected an array of 1 expression, got "y"',
    'dynamics.f.args[6].op: expected an op name, got 7',
  ]);
});

test('expression documents and document kinds', () => {
  assert.deepEqual(lines(decodeExprSpec({ fluxion: 'expr/1', variables: {}, exprs: {} })), ['exprs: expected at least one named expression']);
  assert.deepEqual(lines(decodeExprSpec({ fluxion: 'expr/1', variables: { x: { role: 'input', shape: [2] } }, exprs: { 'bad name': 'x', ok: 'z' } })), [
    'exprs["bad name"]: "bad name" is not a valid name (letters, digits and _, not starting with a digit)',
    'exprs.ok: "z" is not a declared variable or let name',
  ]);
  assert.deepEqual(lines(decodeSpec({ fluxion: 'graph/1' })), ['fluxion: expected "model/1" or "expr/1", got "graph/1"']);
  assert.deepEqual(lines(decodeSpec([1])), ['(root): expected a spec (an object with "fluxion"), got [1]']);
  assert.deepEqual(lines(decodeModelSpec('spiral')), ['(root): expected a model spec (an object), got "spiral"']);
  assert.deepEqual(lines(decodeModelSpec({ fluxion: 'model/1' })), [
    'name: missing: expected a string',
    'variables: missing: expected variable declarations',
    'dynamics: missing: expected {"state", "time", "f"}',
  ]);
});
