/**
 * Plot failures as values: a tagged union keeping what went wrong and where, and one formatter.
 */

/** Vega-Lite rejected the specification (the compiler threw). */
export interface InvalidSpec {
  readonly _tag: 'InvalidSpec';
  readonly message: string;
}

/** Vega failed to parse the compiled specification or to render it to SVG. */
export interface RenderFailed {
  readonly _tag: 'RenderFailed';
  readonly message: string;
}

/** resvg failed to rasterise the SVG to PNG. */
export interface RasterFailed {
  readonly _tag: 'RasterFailed';
  readonly message: string;
}

/** An argument cannot be used (e.g. a basename with a path separator, a non-positive scale). */
export interface InvalidArgument {
  readonly _tag: 'InvalidArgument';
  readonly argument: string;
  readonly reason: string;
}

/** A file could not be written (or renamed into place). */
export interface WriteFailed {
  readonly _tag: 'WriteFailed';
  readonly path: string;
  readonly message: string;
}

/** Every way rendering or writing a plot can fail. */
export type PlotError = InvalidSpec | RenderFailed | RasterFailed | InvalidArgument | WriteFailed;

/** The message of an unknown thrown value. @example messageOf(new Error('x')) // 'x' */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One line saying what failed and what to try.
 * @example formatPlotError({ _tag: 'WriteFailed', path: 'out/a.png', message: 'EACCES' })
 *   // 'could not write out/a.png: EACCES (check the directory exists and is writable)'
 */
export const formatPlotError = (e: PlotError): string => {
  switch (e._tag) {
    case 'InvalidSpec':
      return `Vega-Lite rejected the spec: ${e.message}`;
    case 'RenderFailed':
      return `Vega could not render the spec: ${e.message}`;
    case 'RasterFailed':
      return `resvg could not rasterise the SVG: ${e.message}`;
    case 'InvalidArgument':
      return `invalid ${e.argument}: ${e.reason}`;
    case 'WriteFailed':
      return `could not write ${e.path}: ${e.message} (check the directory exists and is writable)`;
  }
};
