/**
 * Hash-consing: a node is looked up by a structural key before it is made, so equal
 * subexpressions are the same object and share one id. The table holds weak references and a
 * finalization registry drops dead keys, so a long training run that builds many short-lived
 * expressions does not grow it.
 */
import type { Node } from './node.ts';

const table = new Map<string, WeakRef<Node>>();
const registry = new FinalizationRegistry<string>((key) => {
  const ref = table.get(key);
  if (ref !== undefined && ref.deref() === undefined) table.delete(key);
});
let nextId = 1;

/** Distribution-free description of a node without its id: everything `intern` needs. */
export type NodeData = Node extends infer N ? (N extends Node ? Omit<N, 'id'> : never) : never;

/**
 * Returns the unique live node with structural key `key`, creating it from `data` if absent.
 * The key must determine `data` completely (kind, op, attributes, child ids, shape).
 * @example intern('var|y|state|[2]', { kind: 'var', name: 'y', role: 'state', shape: [2] })
 */
export const intern = <D extends NodeData>(key: string, data: D): D & { readonly id: number } => {
  const hit = table.get(key)?.deref();
  // The audited casts: a live entry under this key was built from an equal `data`.
  if (hit !== undefined) return hit as unknown as D & { readonly id: number };
  const node: D & { readonly id: number } = { ...data, id: nextId++ };
  Object.freeze(node);
  table.set(key, new WeakRef(node as unknown as Node));
  registry.register(node, key);
  return node;
};

/** Number of keys in the intern table (live or awaiting finalization); for leak tests. */
export const internTableSize = (): number => table.size;

/** Drops entries whose node has been collected; finalizers do this too, eventually. */
export const sweepInternTable = (): void => {
  for (const [k, ref] of table) if (ref.deref() === undefined) table.delete(k);
};
