/**
 * Safe pieces of generated JavaScript. A fragment has the branded type `Js`: it can only be made
 * from template literals written in this directory (`js`), validated integers (`int`) and
 * generated identifiers (`ident`). Strings from a model (variable names, JSON) are plain
 * `string`s and cannot be interpolated without a cast, so they never reach `new Function`.
 * `auditSource` re-checks a finished source token by token, as a second line of defence.
 */

declare const jsBrand: unique symbol;

/** A fragment of generated JavaScript built only from trusted parts. */
export type Js = string & { readonly [jsBrand]: true };

/**
 * A safe integer as a literal (negative ones parenthesised).
 * @throws when `n` is not a safe integer: a bug in the code generator
 * @example int(50) // '50'
 */
export const int = (n: number): Js => {
  if (!Number.isSafeInteger(n)) throw new Error(`bug: kernel codegen tried to embed ${String(n)}`);
  return (n < 0 ? `(${n})` : `${n}`) as Js;
};

/**
 * Builds a fragment from a template written in source code; interpolations must be `Js` or
 * integers.
 * @example js`${ident('e', 3)} = ${ident('l', 0)} * 2;` // 'e3 = l0 * 2;'
 */
export const js = (parts: TemplateStringsArray, ...args: readonly (Js | number)[]): Js => {
  let s: string = parts[0] ?? '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as Js | number;
    s += (typeof a === 'number' ? int(a) : a) + (parts[i + 1] ?? '');
  }
  return s as Js;
};

/** Prefixes of generated identifiers: inputs, outputs, loop indices, offsets, locals, chunks, math temporaries. */
export const identPrefixes = ['I', 'O', 'i', 'p', 'e', 'l', 's', 'm', 'f', 'v', 'a', 'c', 'x'] as const;
export type IdentPrefix = (typeof identPrefixes)[number];

/**
 * A generated identifier: a fixed prefix and a counter.
 * @example ident('I', 0) // 'I0'
 */
export const ident = (prefix: IdentPrefix, n: number): Js => {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bug: bad identifier index ${String(n)}`);
  return `${prefix}${n}` as Js;
};

/**
 * `a + b`, dropping a literal `0` on either side.
 * @example plus(int(0), ident('i', 1)) // 'i1'
 */
export const plus = (a: Js, b: Js): Js => (a === '0' ? b : b === '0' ? a : js`${a} + ${b}`);

/** Names the generated code may mention besides generated identifiers. */
const allowedWords: ReadonlySet<string> = new Set([
  'const', 'let', 'for', 'if', 'return', 'function', 'kernel', 'NaN', 'Infinity',
  'Math', 'Number', 'isFinite', 'isNaN', 'exp', 'log', 'log1p', 'sqrt', 'sin', 'cos', 'tanh', 'abs',
  'max', 'min', 'A', 'K', 'I', 'O', 'Mexp', 'Mlog', 'Mlog1p', 'Msqrt', 'Msin', 'Mcos', 'Mtanh', 'Mabs',
  'Mmax', 'Mmin', 'Nfin', 'Nnan', 'else', 'F', 'twoPow', 'pow2', 'Fexp', 'Ftanh', 'Fsig', 'Fsp', 'Ftab', 'Fpow',
  'sigmoid', 'softplus',
]);
/** Number literals (their exponent letter is not a word). */
const numberRe = /(?<![A-Za-z0-9_.])[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?(?![A-Za-z0-9_])/g;
const generatedRe = new RegExp(`^[${identPrefixes.join('')}][0-9]+$`);

/**
 * Checks that a generated source holds no quotes, backslashes or backticks and mentions only
 * allowed words and generated identifiers.
 * @throws when it does not: a bug in the code generator
 * @example auditSource('const e0 = I0[0];') // ok
 */
export const auditSource = (src: string): void => {
  const bad = /["'`\\$]/.exec(src);
  if (bad !== null) throw new Error(`bug: generated kernel contains ${JSON.stringify(bad[0])}`);
  for (const m of src.replace(numberRe, '0').matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) {
    const w = m[0];
    if (!allowedWords.has(w) && !generatedRe.test(w))
      throw new Error(`bug: generated kernel mentions unexpected word ${JSON.stringify(w)}`);
  }
};
