/**
 * Vega-Lite spec → SVG (Vega, headless, renderer 'none') → PNG (resvg), and atomic writing of both.
 * Data must be inline: external data URLs and files are refused (the loader rejects every load).
 */
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { renderAsync } from '@resvg/resvg-js';
import * as E from 'fp-ts/lib/Either.js';
import { messageOf, type PlotError } from './errors.ts';
import { resvgFontOptions, textRenders, type FontSetup } from './fonts.ts';

/** A Vega-Lite top-level specification (re-exported so callers need not import vega-lite). */
export type PlotSpec = vl.TopLevelSpec;

/** How to rasterise. */
export interface RenderOptions {
  /** PNG pixels per SVG pixel (the PNG is fitted to `round(svgWidth × scale)` wide). Default 2. */
  readonly scale?: number;
  /** PNG background (CSS colour). Default 'white'. */
  readonly background?: string;
  /** Load the system fonts for PNG text. Default true. */
  readonly systemFonts?: boolean;
  /** Extra font files (.ttf/.otf) to load, e.g. when the machine has no fonts. Default none. */
  readonly fontFiles?: readonly string[];
}

/** A rendered plot. */
export interface RenderedPlot {
  readonly svg: string;
  readonly png: Uint8Array;
  /** SVG size in CSS pixels (its `width`/`height` attributes). */
  readonly width: number;
  readonly height: number;
  /** PNG size in pixels. */
  readonly pngWidth: number;
  readonly pngHeight: number;
  /** Vega-Lite/Vega warnings and font problems (e.g. "no font: PNG has no text"). */
  readonly warnings: readonly string[];
}

/** A logger that records warnings and errors instead of printing them. */
const collectingLogger = (into: string[]): vega.LoggerInterface =>
  vega.logger(vega.Warn, 'warn', (_method, _level, args) => {
    into.push(args.map((a) => (typeof a === 'string' ? a : messageOf(a))).join(' '));
  });

const refuse = (what: string): Promise<never> =>
  Promise.reject(new Error(`external data is not allowed in plots (${what}); put the values inline`));

/** A loader that loads nothing: plots are pure data in, so no file or network access. */
const denyLoader: vega.Loader = {
  load: (uri) => refuse(uri),
  sanitize: (uri) => refuse(uri),
  http: (uri) => refuse(uri),
  file: (name) => refuse(name),
};

const svgSize = (svg: string): { width: number; height: number } | undefined => {
  const open = /^<svg\b[^>]*>/.exec(svg)?.[0];
  const w = open === undefined ? undefined : /\swidth="([0-9.]+)"/.exec(open)?.[1];
  const h = open === undefined ? undefined : /\sheight="([0-9.]+)"/.exec(open)?.[1];
  return w === undefined || h === undefined ? undefined : { width: Number(w), height: Number(h) };
};

/**
 * Compile a Vega-Lite spec, render it headless to SVG, and rasterise it to PNG (white background,
 * system fonts). Never throws: every failure is a `PlotError`.
 * @example
 * const r = await renderVegaLite({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
 * if (E.isRight(r)) writeFileSync('p.png', r.right.png);
 */
export const renderVegaLite = async (
  spec: PlotSpec,
  options: RenderOptions = {},
): Promise<E.Either<PlotError, RenderedPlot>> => {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 16)) {
    return E.left({ _tag: 'InvalidArgument', argument: 'scale', reason: `must be in (0, 16], got ${scale}` });
  }
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);

  let vgSpec: vega.Spec;
  try {
    vgSpec = vl.compile(spec, { logger }).spec;
  } catch (e) {
    return E.left({ _tag: 'InvalidSpec', message: messageOf(e) });
  }

  let svg: string;
  try {
    const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger, loader: denyLoader });
    try {
      svg = await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch (e) {
    return E.left({ _tag: 'RenderFailed', message: messageOf(e) });
  }
  const size = svgSize(svg);
  if (size === undefined) return E.left({ _tag: 'RenderFailed', message: 'SVG has no width/height' });

  const fonts: FontSetup = { systemFonts: options.systemFonts ?? true, fontFiles: options.fontFiles ?? [] };
  if (!textRenders(fonts)) {
    warnings.push('no usable font for the PNG: its text (titles, labels) is missing; the SVG keeps it');
  }
  try {
    const image = await renderAsync(svg, {
      background: options.background ?? 'white',
      fitTo: { mode: 'width', value: Math.max(1, Math.round(size.width * scale)) },
      font: resvgFontOptions(fonts),
      logLevel: 'off',
    });
    return E.right({
      svg,
      png: new Uint8Array(image.asPng()),
      width: size.width,
      height: size.height,
      pngWidth: image.width,
      pngHeight: image.height,
      warnings,
    });
  } catch (e) {
    return E.left({ _tag: 'RasterFailed', message: messageOf(e) });
  }
};

/** Paths written by `writePlot`, and the rendering. */
export interface WrittenPlot {
  readonly svgPath: string;
  readonly pngPath: string;
  readonly rendered: RenderedPlot;
}

const tempName = (path: string): string => `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Render `spec` and write `dir/basename.svg` and `dir/basename.png` (creating `dir`). Each file is
 * written to a temporary name and renamed into place, so readers never see a half-written file and
 * a failure leaves no temporary files behind.
 * @example
 * const r = await writePlot('out/plots', 'loss', trainingCurves(log));
 * if (E.isLeft(r)) console.error(formatPlotError(r.left)); else console.log(r.right.pngPath);
 */
export const writePlot = async (
  dir: string,
  basename: string,
  spec: PlotSpec,
  options: RenderOptions = {},
): Promise<E.Either<PlotError, WrittenPlot>> => {
  if (basename === '' || /[/\\]|^\.\.?$/.test(basename)) {
    return E.left({ _tag: 'InvalidArgument', argument: 'basename', reason: `'${basename}' must be a plain file name` });
  }
  const rendered = await renderVegaLite(spec, options);
  if (E.isLeft(rendered)) return rendered;
  const svgPath = join(dir, `${basename}.svg`);
  const pngPath = join(dir, `${basename}.png`);
  const jobs = [
    { path: svgPath, tmp: tempName(svgPath), content: rendered.right.svg },
    { path: pngPath, tmp: tempName(pngPath), content: rendered.right.png },
  ] as const;
  let current = dir;
  try {
    await mkdir(dir, { recursive: true });
    for (const job of jobs) {
      current = job.tmp;
      await writeFile(job.tmp, job.content);
    }
    for (const job of jobs) {
      current = job.path;
      await rename(job.tmp, job.path);
    }
  } catch (e) {
    await Promise.all(jobs.map((job) => unlink(job.tmp).catch(() => undefined)));
    return E.left({ _tag: 'WriteFailed', path: current, message: messageOf(e) });
  }
  return E.right({ svgPath, pngPath, rendered: rendered.right });
};
