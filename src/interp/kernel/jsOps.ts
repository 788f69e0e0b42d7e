/**
 * The generated-code form of every elementwise op: one record per op family, keyed by the op
 * literal, so a new op fails to compile until it has a template. Each template performs exactly
 * the operations of `unaryF64` / `binaryF64` in the same order, so results agree bit for bit.
 * Operands are always identifiers (locals), so repeating one in a template costs nothing.
 */
import type { BinaryOp, UnaryOp } from '../../dsl/ops.ts';
import { js, type Js } from './js.ts';

/**
 * The functions the generated code binds once, in the factory prologue: Math's, and Fluxion's
 * own exp, tanh, sigmoid, softplus and their tables from the factory parameter `F` (`fastMath`).
 */
export const mathPrologue: Js = js`const Mexp = Math.exp, Mlog = Math.log, Mlog1p = Math.log1p, Msqrt = Math.sqrt, Msin = Math.sin, Mcos = Math.cos, Mabs = Math.abs, Mmax = Math.max, Mmin = Math.min, Nfin = Number.isFinite, Nnan = Number.isNaN, Fexp = F.exp, Ftanh = F.tanh, Fsig = F.sigmoid, Fsp = F.softplus, Ftab = F.twoPow, Fpow = F.pow2;`;

/**
 * Expression templates of the unary ops (mirrors `unaryF64`).
 * @example unaryJs.tanh(ident('l', 0)) // 'Ftanh(l0)'
 */
export const unaryJs: { readonly [K in UnaryOp]: (a: Js) => Js } = {
  neg: (a) => js`-${a}`,
  exp: (a) => js`Fexp(${a})`,
  log: (a) => js`Mlog(${a})`,
  log1p: (a) => js`Mlog1p(${a})`,
  sqrt: (a) => js`Msqrt(${a})`,
  square: (a) => js`${a} * ${a}`,
  sin: (a) => js`Msin(${a})`,
  cos: (a) => js`Mcos(${a})`,
  tanh: (a) => js`Ftanh(${a})`,
  sigmoid: (a) => js`Fsig(${a})`,
  softplus: (a) => js`Fsp(${a})`,
  relu: (a) => js`(${a} > 0 ? ${a} : ${a} <= 0 ? 0 : ${a})`,
  abs: (a) => js`Mabs(${a})`,
  sign: (a) => js`(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a} === 0 ? 0 : ${a})`,
  step: (a) => js`(${a} > 0 ? 1 : ${a} <= 0 ? 0 : ${a})`,
};

/**
 * Expression templates of the binary ops (mirrors `binaryF64`).
 * @example binaryJs.add(ident('l', 0), ident('l', 1)) // 'l0 + l1'
 */
export const binaryJs: { readonly [K in BinaryOp]: (a: Js, b: Js) => Js } = {
  add: (a, b) => js`${a} + ${b}`,
  sub: (a, b) => js`${a} - ${b}`,
  mul: (a, b) => js`${a} * ${b}`,
  div: (a, b) => js`${a} / ${b}`,
  pow: (a, b) => js`${a} ** ${b}`,
  maximum: (a, b) => js`Mmax(${a}, ${b})`,
  minimum: (a, b) => js`Mmin(${a}, ${b})`,
};

/**
 * Looks an op up in a template record, refusing keys that are not own entries (an op string
 * that bypassed validation must not reach inherited object members).
 * @throws when `op` has no template: a bug upstream
 * @example template(unaryJs, 'tanh')
 */
export const template = <K extends string, F>(table: { readonly [P in K]: F }, op: K): F => {
  if (!Object.hasOwn(table, op)) throw new Error('bug: kernel has no template for an op');
  return table[op];
};
