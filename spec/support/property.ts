/**
 * `fc.assert` whose failure message includes the underlying error: Node's test runner does not
 * print an error's `cause`, so without this a failing property shows only its counterexample.
 */
import fc from 'fast-check';

/**
 * Checks a property and throws an Error carrying the counterexample and the inner message.
 * @example assertProperty(fc.property(fc.integer(), (x) => x + 0 === x), { seed: 1 })
 */
export const assertProperty = <Ts>(prop: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, params: fc.Parameters<Ts>): void | Promise<void> => {
  const report = (d: fc.RunDetails<Ts>): void => {
    if (!d.failed) return;
    const inner = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
    throw new Error(`property failed (seed ${d.seed}, path ${d.counterexamplePath ?? '-'}) after ${d.numRuns} runs\ncounterexample: ${fc.stringify(d.counterexample)}\n${inner}`);
  };
  const r = fc.check(prop as fc.IProperty<Ts>, params);
  return r instanceof Promise ? r.then(report) : report(r);
};
