/**
 * The one lookup from names to methods, for the CLI edge: a record keyed by name (no registry
 * filled by side effects). Library code imports the method values directly.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { InvalidOptions } from './errors.ts';
import type { Method } from './method.ts';
import { euler } from './tableaus/euler.ts';
import { midpoint } from './tableaus/midpoint.ts';
import { heun } from './tableaus/heun.ts';
import { rk4 } from './tableaus/rk4.ts';
import { bosh3 } from './tableaus/bosh3.ts';
import { fehlberg45 } from './tableaus/fehlberg45.ts';
import { dopri5 } from './tableaus/dopri5.ts';
import { tsit5 } from './tableaus/tsit5.ts';
import { dopri8 } from './tableaus/dopri8.ts';
import { rodas4 } from './tableaus/rodas4.ts';

/**
 * Every built-in method, keyed by its name.
 * @example
 * Object.keys(methods); // ['euler', 'midpoint', …, 'rodas4']
 */
export const methods = Object.freeze({ euler, midpoint, heun, rk4, bosh3, fehlberg45, dopri5, tsit5, dopri8, rodas4 } satisfies Record<string, Method>);

/** The name of a built-in method. */
export type MethodName = keyof typeof methods;

const isName = (name: string): name is MethodName => Object.prototype.hasOwnProperty.call(methods, name);

/**
 * Looks a method up by name (CLI flags, JSON configs).
 * @example
 * methodByName('dopri5'); // Right(dopri5)
 * methodByName('rk45');   // Left(InvalidOptions: unknown method "rk45"; known: euler, …)
 */
export const methodByName = (name: string): E.Either<InvalidOptions, Method> =>
  isName(name)
    ? E.right(methods[name])
    : E.left({ _tag: 'InvalidOptions', option: 'method', reason: `unknown method "${name}"; known: ${Object.keys(methods).join(', ')}` });
