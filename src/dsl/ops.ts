/**
 * The op vocabulary of the expression language, as literal unions and lists. Every interpreter
 * keeps a record keyed by these literals, so adding an op fails to compile until each has a rule.
 */

/** Elementwise unary ops. `sign` and `step` (Heaviside, 0 at 0) exist for derivative rules. */
export const unaryOps = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'square', 'sin', 'cos', 'tanh', 'sigmoid', 'softplus',
  'relu', 'abs', 'sign', 'step',
] as const;
export type UnaryOp = (typeof unaryOps)[number];

/** Elementwise binary ops with numpy-style broadcasting. */
export const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
export type BinaryOp = (typeof binaryOps)[number];

/** Reductions over a set of axes. `logsumexp` is computed stably. */
export const reduceOps = ['sum', 'mean', 'logsumexp'] as const;
export type ReduceOp = (typeof reduceOps)[number];

/** Roles a variable plays in a model. */
export const roles = ['state', 'time', 'param', 'input', 'noise'] as const;
export type Role = (typeof roles)[number];

const member = <T extends string>(list: readonly T[]) => (s: unknown): s is T =>
  typeof s === 'string' && (list as readonly string[]).includes(s);

/** Narrowing guards for strings met at the JSON and CLI edges. */
export const isUnaryOp = member(unaryOps);
export const isBinaryOp = member(binaryOps);
export const isReduceOp = member(reduceOps);
export const isRole = member(roles);
