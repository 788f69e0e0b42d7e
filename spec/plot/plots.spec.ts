import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import {
  decodePng, densityHeatmap, formatPlotError, inkStats, lineChart, phasePortrait, renderVegaLite,
  samplesOverTime, scatter, timeSeries, trainingCurves, writePlot,
  type PlotSpec, type RenderOptions, type RenderedPlot,
} from '../../src/plot/index.ts';

/** Seeded LCG: small, deterministic test data. */
const rng = (seed: number) => {
  let s = seed >>> 0;
  return (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
};

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

const render = async (spec: PlotSpec, options?: RenderOptions): Promise<RenderedPlot> =>
  right(await renderVegaLite(spec, options));

/** Size attributes of the root <svg> element. */
const svgAttrs = (svg: string): { width: number; height: number } => {
  const open = /^<svg\b[^>]*>/.exec(svg)?.[0] ?? assert.fail('SVG does not start with <svg');
  const w = /\swidth="([0-9.]+)"/.exec(open)?.[1] ?? assert.fail('no width attribute');
  const h = /\sheight="([0-9.]+)"/.exec(open)?.[1] ?? assert.fail('no height attribute');
  return { width: Number(w), height: Number(h) };
};

/** Checks shared by every plot: well-formed SVG of the reported size; PNG of that size × scale, not blank. */
const checkRendered = (r: RenderedPlot, expect: { minWidth: number; minHeight: number; texts: readonly string[] }) => {
  assert.ok(r.svg.startsWith('<svg'), 'SVG starts with <svg');
  assert.ok(r.svg.trimEnd().endsWith('</svg>'), 'SVG ends with </svg>');
  assert.equal((r.svg.match(/<g\b/g) ?? []).length, (r.svg.match(/<\/g>/g) ?? []).length, 'balanced <g>');
  const size = svgAttrs(r.svg);
  assert.deepEqual(size, { width: r.width, height: r.height });
  assert.ok(size.width >= expect.minWidth && size.width <= expect.minWidth + 400, `width ${size.width}`);
  assert.ok(size.height >= expect.minHeight && size.height <= expect.minHeight + 400, `height ${size.height}`);
  assert.ok(r.svg.includes('<path'), 'SVG has paths');
  for (const t of expect.texts) assert.ok(r.svg.includes(`>${t}</text>`), `SVG has text "${t}"`);

  const png = right(decodePng(r.png));
  assert.equal(png.width, Math.round(r.width * 2));
  assert.ok(Math.abs(png.height - r.height * 2) <= 1, `PNG height ${png.height} vs SVG ${r.height}`);
  assert.deepEqual([png.width, png.height], [r.pngWidth, r.pngHeight]);
  const corners = [0, png.width - 1, (png.height - 1) * png.width].map((p) => [...png.rgba.subarray(p * 4, p * 4 + 4)]);
  for (const c of corners) assert.deepEqual(c, [255, 255, 255, 255], 'white opaque background');
  const ink = inkStats(png);
  assert.ok(ink.nonWhite > 0.01, `drawn pixels ${ink.nonWhite}`);
  assert.ok(ink.colored > 0.001, `coloured pixels ${ink.colored}`);
  assert.deepEqual(r.warnings, []);
};

const trainingLog = (n: number) => {
  const u = rng(1);
  return Array.from({ length: n }, (_, i) => ({
    iteration: i + 1, loss: Math.exp(-i / 10) * (1 + 0.2 * u()),
    nfeForward: 20 + Math.round(i / 3 + 4 * u()), nfeBackward: 30 + Math.round(i / 2 + 4 * u()), timeMs: 10 + u(),
  }));
};

const circle = (n: number, r: number, phase = 0): [number, number][] =>
  Array.from({ length: n }, (_, k) => [r * Math.cos(phase + k / 4), r * Math.sin(phase + k / 4)]);

test('renderVegaLite: exact size with autosize fit, PNG decodes to that size × scale', async () => {
  const r = await render({
    width: 200, height: 150, autosize: { type: 'fit', contains: 'padding' },
    data: { values: [{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 1 }] },
    mark: { type: 'line', color: '#e45756', strokeWidth: 4 },
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  });
  assert.deepEqual([r.width, r.height, r.pngWidth, r.pngHeight], [200, 150, 400, 300]);
  const png = right(decodePng(r.png));
  assert.deepEqual([png.width, png.height], [400, 300]);
  assert.ok(inkStats(png).colored > 0.002);
  const r3 = await render({ width: 50, height: 40, autosize: { type: 'fit', contains: 'padding' }, data: { values: [] }, mark: 'point' }, { scale: 3 });
  assert.deepEqual([r3.pngWidth, r3.pngHeight], [150, 120]);
});

test('trainingCurves: loss, NFE and time panels', async () => {
  const spec = trainingCurves(trainingLog(40), { title: 'Training', smoothing: 0.8 });
  assert.ok('vconcat' in spec && spec.vconcat.length === 3);
  checkRendered(await render(spec), {
    minWidth: 520, minHeight: 220 * 2 + 154,
    texts: ['Training', 'function evaluations per iteration', 'time per iteration', 'forward', 'backward', 'NFE'],
  });
});

test('trainingCurves: bad records are left out; no NFE means one panel; log scale only for positive losses', () => {
  const log = [{ iteration: 1, loss: 1 }, { iteration: 2, loss: Number.NaN }, { iteration: 3, loss: 0.5 }, { iteration: 4, loss: Infinity }];
  const spec = trainingCurves(log);
  assert.ok('vconcat' in spec && spec.vconcat.length === 1);
  const panel = JSON.stringify(spec.vconcat[0]);
  assert.ok(panel.includes('"type":"log"'));
  assert.equal((panel.match(/"iteration":/g) ?? []).length, 2);
  const withZero = JSON.stringify(trainingCurves([{ iteration: 1, loss: 0 }, { iteration: 2, loss: 1 }]));
  assert.ok(!withZero.includes('"type":"log"'), 'a zero loss switches the default to a linear axis');
  const forcedLog = JSON.stringify(trainingCurves([{ iteration: 1, loss: 0 }, { iteration: 2, loss: 1 }], { logLoss: true }));
  assert.equal((forcedLog.match(/"iteration":/g) ?? []).length, 1, 'non-positive losses dropped on a log axis');
});

test('phasePortrait: arrows, trajectories and legend, equal aspect', async () => {
  const xs = [-2, -1, 0, 1, 2];
  const ys = [-1, 0, 1];
  const u = ys.map((y) => xs.map(() => y));
  const v = ys.map((y) => xs.map((x) => (x === 0 && y === 0 ? Number.NaN : -x)));
  const spec = phasePortrait({
    title: 'Phase', field: { xs, ys, u, v },
    trajectories: [{ name: 'true', points: circle(30, 1) }, { name: 'predicted', points: circle(30, 0.9, 0.1) }],
  });
  assert.ok('layer' in spec && 'width' in spec && 'height' in spec);
  const ratio = Number(spec.height) / Number(spec.width);
  assert.ok(Math.abs(ratio - 2.12 / 4.16) < 0.02, `aspect ${ratio}`);
  const arrows = JSON.stringify(spec.layer[0]);
  assert.equal((arrows.match(/"headSpeed":/g) ?? []).length, 14, 'one arrow per finite cell');
  const r = await render(spec);
  checkRendered(r, { minWidth: 420, minHeight: Number(spec.height), texts: ['Phase', 'trajectory', 'true', 'predicted', 'speed'] });
  assert.ok(r.svg.includes('<line') || r.svg.includes('role-mark'), 'arrow marks present');
});

test('phasePortrait with no data still renders axes', async () => {
  const r = await render(phasePortrait({ title: 'Empty' }));
  assert.ok(r.width > 300 && r.svg.includes('>Empty</text>'));
});

test('timeSeries: components against time, true vs predicted', async () => {
  const times = Array.from({ length: 30 }, (_, k) => k / 4);
  const spec = timeSeries({
    title: 'Series',
    trajectories: [{ name: 'true', times, points: circle(30, 1) }, { name: 'predicted', times, points: circle(30, 0.9, 0.1) }],
  });
  assert.ok('data' in spec && spec.data !== undefined && spec.data !== null && 'values' in spec.data);
  assert.equal((spec.data.values as readonly unknown[]).length, 2 * 30 * 2);
  checkRendered(await render(spec), { minWidth: 520, minHeight: 260, texts: ['Series', 'component', 'x', 'y', 'trajectory', 'predicted'] });
});

test('densityHeatmap: cells, gradient legend; block-averaged when large; missing cells blank', async () => {
  const n = 24;
  const xs = Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
  const flat = Float64Array.from({ length: n * n }, (_, k) => Math.exp(-((xs[k % n] ?? 0) ** 2) - (xs[Math.floor(k / n)] ?? 0) ** 2));
  const spec = densityHeatmap({ title: 'Density', xs, ys: xs, values: flat });
  const cells = (s: PlotSpec): number => ('data' in s && s.data !== undefined && s.data !== null && 'values' in s.data ? (s.data.values as readonly unknown[]).length : -1);
  assert.equal(cells(spec), n * n);
  assert.equal(cells(densityHeatmap({ xs, ys: xs, values: flat, maxCells: 8 })), 64);
  assert.equal(cells(densityHeatmap({ xs: [0, 1, 2], ys: [0, 1], values: [[1, 2, 3], [4]] })), 4, 'ragged row: missing cells skipped');
  const r = await render(spec);
  checkRendered(r, { minWidth: 380, minHeight: 380, texts: ['Density', 'density'] });
  assert.ok(r.svg.includes('<linearGradient'), 'gradient legend');
});

test('scatter: numeric and categorical colours', async () => {
  const u = rng(7);
  const points = Array.from({ length: 200 }, () => [u() * 4 - 2, u() * 2 - 1] as const);
  checkRendered(await render(scatter({ title: 'Scatter', points, color: points.map((p) => p[0]), colorTitle: 'x0' })), {
    minWidth: 380, minHeight: 190, texts: ['Scatter', 'x0'],
  });
  const classes = points.map((p) => (p[1] > 0 ? 'upper' : 'lower'));
  checkRendered(await render(scatter({ points, color: classes, equalAspect: false })), {
    minWidth: 420, minHeight: 320, texts: ['upper', 'lower', 'class'],
  });
});

test('samplesOverTime: one panel per time, sorted, shared axes', async () => {
  const u = rng(3);
  const frames = [1, 0, 0.5].map((t) => ({ t, points: Array.from({ length: 60 }, () => [u() + 2 * t, u() - t]) }));
  const spec = samplesOverTime({ title: 'Samples', frames, width: 120 });
  const r = await render(spec);
  checkRendered(r, { minWidth: 3 * 120, minHeight: 60, texts: ['Samples', 't = 0', 't = 0.5', 't = 1'] });
  assert.ok(r.svg.indexOf('>t = 0</text>') < r.svg.indexOf('>t = 1</text>'), 'frames in time order');
});

test('lineChart: lines, observed dots and an extrapolation region', async () => {
  const t = Array.from({ length: 40 }, (_, k) => k / 4);
  const spec = lineChart({
    title: 'Latent', xTitle: 't', yTitle: 'x(t)', regions: [{ from: 6, to: 9.75, label: 'extrapolation' }],
    series: [
      { name: 'true', x: t, y: t.map(Math.sin) },
      { name: 'observed', x: t.slice(0, 24), y: t.slice(0, 24).map((s) => Math.sin(s) + 0.05), style: 'points' },
      { name: 'predicted', x: t, y: t.map((s) => 0.95 * Math.sin(s)) },
      { name: 'gaps', x: [0, 1, 2], y: [Number.NaN, 1, 2], style: 'line+points' },
    ],
  });
  checkRendered(await render(spec), { minWidth: 520, minHeight: 280, texts: ['Latent', 'extrapolation', 'observed', 'predicted', 'gaps', 'x(t)'] });
  const logSpec = JSON.stringify(lineChart({ series: [{ name: 'a', x: [1, 2, 3], y: [0, 1, 10] }], yScale: 'log' }));
  assert.equal((logSpec.match(/"k":/g) ?? []).length, 2, 'y ≤ 0 dropped on a log axis');
});

test('empty inputs render (blank axes) without failing', async () => {
  for (const spec of [trainingCurves([]), lineChart({ series: [] }), scatter({ points: [] }), timeSeries({ trajectories: [] }),
    densityHeatmap({ xs: [], ys: [], values: [] }), samplesOverTime({ frames: [] })]) {
    const r = await render(spec);
    assert.ok(r.svg.startsWith('<svg') && r.png.length > 0);
  }
});

test('without fonts the PNG still renders, and a warning says text is missing', async () => {
  const r = await render(scatter({ title: 'No fonts', points: circle(20, 1) }), { systemFonts: false });
  assert.ok(r.warnings.some((w) => w.includes('no usable font')));
  assert.ok(r.svg.includes('>No fonts</text>'), 'the SVG keeps its text');
  const ink = inkStats(right(decodePng(r.png)));
  assert.ok(ink.nonWhite > 0.01 && ink.colored > 0, `ink ${JSON.stringify(ink)}`);
});

test('failures are values: invalid spec, bad scale, external data refused', async () => {
  const bad = await renderVegaLite(JSON.parse('{"mark": "nonsense"}') as PlotSpec);
  assert.ok(E.isLeft(bad) && bad.left._tag === 'InvalidSpec');
  const scale = await renderVegaLite(scatter({ points: [] }), { scale: 0 });
  assert.ok(E.isLeft(scale) && scale.left._tag === 'InvalidArgument');
  assert.match(formatPlotError(scale.left), /scale/);
  const ext = await render({ data: { url: 'file:///etc/hostname' }, mark: 'point', encoding: { x: { field: 'a', type: 'nominal' } } });
  assert.ok(ext.warnings.some((w) => w.includes('external data is not allowed')));
});

test('writePlot writes both files atomically and leaves no temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fluxion-plot-'));
  try {
    const out = join(dir, 'nested', 'plots');
    const w = right(await writePlot(out, 'curves', trainingCurves(trainingLog(10))));
    assert.deepEqual((await readdir(out)).sort(), ['curves.png', 'curves.svg']);
    assert.equal(w.svgPath, join(out, 'curves.svg'));
    assert.equal(await readFile(w.svgPath, 'utf8'), w.rendered.svg);
    assert.deepEqual(new Uint8Array(await readFile(w.pngPath)), w.rendered.png);
    right(decodePng(await readFile(w.pngPath)));

    const name = await writePlot(out, '../escape', trainingCurves([]));
    assert.ok(E.isLeft(name) && name.left._tag === 'InvalidArgument');

    const blocker = join(dir, 'file');
    await writeFile(blocker, 'not a directory');
    const failed = await writePlot(join(blocker, 'sub'), 'x', trainingCurves([]));
    assert.ok(E.isLeft(failed) && failed.left._tag === 'WriteFailed');
    assert.deepEqual((await readdir(dir)).sort(), ['file', 'nested']);
    assert.deepEqual((await readdir(out)).sort(), ['curves.png', 'curves.svg'], 'no temporary files left');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('decodePng rejects corrupt data', async () => {
  const r = await render({ width: 20, height: 20, data: { values: [{ a: 1 }] }, mark: 'point' });
  const corrupt = Uint8Array.from(r.png);
  corrupt[40] = (corrupt[40] ?? 0) ^ 0xff;
  assert.ok(E.isLeft(decodePng(corrupt)));
  assert.ok(E.isLeft(decodePng(new Uint8Array([1, 2, 3]))));
});
