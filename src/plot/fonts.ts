/**
 * Which fonts resvg can use here. The SVG keeps Vega's generic `sans-serif`, so a browser uses
 * its own; for the PNG we map `sans-serif` to an installed family found with `fc-list`, and we
 * check once (a tiny probe render) that text actually comes out. Without any font resvg draws no
 * text at all: the PNG still renders (marks, axes, grid) and a warning says so. Fonts are never
 * downloaded; pass `fontFiles` to the renderer to use a font file you have.
 */
import { spawnSync } from 'node:child_process';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

/** Families tried first, in order, for `sans-serif` (metric-compatible or common ones). */
const preferredSans: readonly string[] = [
  'DejaVu Sans', 'Liberation Sans', 'Arial', 'Helvetica', 'Noto Sans', 'Open Sans', 'Roboto', 'FreeSans',
];

let cachedFamilies: readonly string[] | null | undefined;

/**
 * Installed font families as `fc-list` reports them, or `null` when `fc-list` cannot be run.
 * Memoized: runs `fc-list` at most once per process.
 * @example systemFontFamilies() // ['DejaVu Sans', 'DejaVu Sans Mono', ...] or [] or null
 */
export const systemFontFamilies = (): readonly string[] | null => {
  if (cachedFamilies !== undefined) return cachedFamilies;
  const r = spawnSync('fc-list', [':', 'family'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined || r.status !== 0) {
    cachedFamilies = null;
    return null;
  }
  const names = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    for (const name of line.split(',')) {
      const n = name.trim();
      if (n !== '') names.add(n);
    }
  }
  cachedFamilies = [...names].sort();
  return cachedFamilies;
};

/**
 * The family used for `sans-serif` in PNGs: the first preferred family installed, else the first
 * installed family, else `undefined` (resvg's own default).
 * @example sansFamily(['DejaVu Sans Mono', 'DejaVu Sans']) // 'DejaVu Sans'
 */
export const sansFamily = (families: readonly string[] | null): string | undefined => {
  if (families === null) return undefined;
  return preferredSans.find((f) => families.includes(f)) ?? families[0];
};

/** What to load for resvg: system fonts and/or explicit font files. */
export interface FontSetup {
  readonly systemFonts: boolean;
  readonly fontFiles: readonly string[];
}

/**
 * resvg's font options for a setup.
 * @example resvgFontOptions({ systemFonts: true, fontFiles: [] }).sansSerifFamily // 'DejaVu Sans' here
 */
export const resvgFontOptions = (setup: FontSetup): NonNullable<ResvgRenderOptions['font']> => {
  const family = setup.systemFonts ? sansFamily(systemFontFamilies()) : undefined;
  return {
    loadSystemFonts: setup.systemFonts,
    fontFiles: [...setup.fontFiles],
    ...(family === undefined ? {} : { defaultFontFamily: family, sansSerifFamily: family }),
  };
};

const probeCache = new Map<string, boolean>();

/**
 * Whether resvg draws text with this font setup: renders "Hg" once and looks for inked pixels.
 * Memoized per setup.
 * @example textRenders({ systemFonts: true, fontFiles: [] }) // true when a font is installed
 */
export const textRenders = (setup: FontSetup): boolean => {
  const key = `${setup.systemFonts}|${setup.fontFiles.join('|')}`;
  const known = probeCache.get(key);
  if (known !== undefined) return known;
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="24">'
    + '<text x="2" y="18" font-family="sans-serif" font-size="16">Hg</text></svg>';
  let inked = false;
  try {
    const pixels = new Resvg(svg, { font: resvgFontOptions(setup) }).render().pixels;
    for (let i = 3; i < pixels.length; i += 4) {
      if ((pixels[i] ?? 0) > 0) {
        inked = true;
        break;
      }
    }
  } catch {
    inked = false;
  }
  probeCache.set(key, inked);
  return inked;
};
