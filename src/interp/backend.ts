/**
 * Picks the TensorFlow.js backend, once per process: the native GPU build if installed, else the
 * native CPU build, else WebAssembly, else the pure-JS `cpu` backend. An explicit option or the
 * `FLUXION_BACKEND` environment variable overrides the order. Native packages are optional peers
 * loaded by dynamic `import()`; the wasm backend is imported lazily too, because merely importing
 * it registers an asynchronously initialised backend that sync tfjs code would then trip over.
 */
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';

/** The backends Fluxion can select, best first. */
export const backendNames = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
/** A selectable backend. */
export type BackendName = (typeof backendNames)[number];
/** What kind of machine code a backend runs. */
export type BackendKind = 'native-gpu' | 'native' | 'wasm' | 'cpu';

/** A backend that was tried and not used, and why. */
export interface BackendAttempt {
  readonly name: BackendName;
  readonly reason: string;
}

/** The selected backend, for `fluxion info` and benchmark logs. */
export interface BackendInfo {
  readonly name: BackendName;
  readonly kind: BackendKind;
  /** The name tfjs knows it by (`tf.getBackend()`). */
  readonly tfBackend: string;
  /** Version of the package providing the backend. */
  readonly version: string;
  /** Where the choice came from. */
  readonly source: 'option' | 'env' | 'auto';
  /** Backends tried before this one (auto) and why they were skipped. */
  readonly tried: readonly BackendAttempt[];
  /** Backend-specific facts, e.g. `simd: 'on'`, `threads: '1'` for wasm. */
  readonly details: Readonly<Record<string, string>>;
}

/** Why no backend could be selected. */
export type BackendError =
  | { readonly _tag: 'InvalidBackendName'; readonly value: string; readonly source: 'FLUXION_BACKEND' | 'option'; readonly valid: readonly BackendName[] }
  | { readonly _tag: 'BackendUnavailable'; readonly name: BackendName; readonly reason: string; readonly tried: readonly BackendAttempt[] };

/**
 * A one-line message for a backend error.
 * @example formatBackendError({ _tag: 'InvalidBackendName', value: 'gpu', source: 'FLUXION_BACKEND', valid: backendNames })
 * // 'FLUXION_BACKEND=gpu is not a backend; valid values: tensorflow-gpu, tensorflow, wasm, cpu'
 */
export const formatBackendError = (e: BackendError): string => {
  switch (e._tag) {
    case 'InvalidBackendName':
      return `${e.source === 'option' ? 'backend option ' : 'FLUXION_BACKEND='}${e.value} is not a backend; valid values: ${e.valid.join(', ')}`;
    case 'BackendUnavailable':
      return `backend ${e.name} is unavailable: ${e.reason}`;
  }
};

/**
 * Reads a backend name met at an edge (CLI flag, environment).
 * @example parseBackendName('wasm') // right('wasm')
 */
export const parseBackendName = (
  value: string, source: 'FLUXION_BACKEND' | 'option' = 'option',
): E.Either<BackendError, BackendName> =>
  (backendNames as readonly string[]).includes(value)
    ? E.right(value as BackendName)
    : E.left({ _tag: 'InvalidBackendName', value, source, valid: backendNames });

/** Environment read by the selection; `process.env` by default. */
export type EnvLike = Readonly<Record<string, string | undefined>>;

/**
 * Sets `TF_ENABLE_ONEDNN_OPTS=0` (much faster small ops) and `TF_CPP_MIN_LOG_LEVEL=2` (quiet
 * start-up) unless the user set them; called before a native package loads.
 * @example const env: Record<string, string | undefined> = {}; applyNativeEnvDefaults(env); env.TF_CPP_MIN_LOG_LEVEL // '2'
 */
export const applyNativeEnvDefaults = (target: Record<string, string | undefined> = process.env): void => {
  if (target['TF_ENABLE_ONEDNN_OPTS'] === undefined) target['TF_ENABLE_ONEDNN_OPTS'] = '0';
  if (target['TF_CPP_MIN_LOG_LEVEL'] === undefined) target['TF_CPP_MIN_LOG_LEVEL'] = '2';
};

/** A loaded backend: how tfjs names it, its version and details. */
interface Loaded {
  readonly tfBackend: string;
  readonly version: string;
  readonly details: Readonly<Record<string, string>>;
}
interface Loader {
  readonly kind: BackendKind;
  readonly load: () => Promise<E.Either<string, Loaded>>;
}

const require = createRequire(import.meta.url);

const packageVersion = (pkg: string): string => {
  try {
    const meta: unknown = require(`${pkg}/package.json`);
    if (typeof meta === 'object' && meta !== null && 'version' in meta && typeof meta.version === 'string')
      return meta.version;
  } catch {
    // fall through: the version is informative only
  }
  return 'unknown';
};

/** Why loading failed, in one line; 'not installed' when `pkg` itself (not a dependency) is missing. */
const errorText = (err: unknown, pkg?: string): string => {
  if (typeof err === 'object' && err !== null) {
    const code = 'code' in err ? err.code : undefined;
    const message = 'message' in err && typeof err.message === 'string' ? err.message : String(err);
    const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    if (notFound && pkg !== undefined && message.includes(`'${pkg}'`)) return 'not installed';
    // tfjs-node installed without its native addon (offline install, scripts skipped).
    if (message.includes('tfjs_binding.node')) return 'installed, but its native binding is not built (run `npm run setup:native`)';
    return message.split('\n')[0] ?? message;
  }
  return String(err);
};

/** Makes `name` the active tfjs backend; a reason on failure. */
const activate = async (name: string): Promise<E.Either<string, void>> => {
  if (tf.getBackend() === name) return E.right(undefined);
  if (tf.findBackendFactory(name) === null) return E.left(`no tfjs backend named '${name}' is registered`);
  try {
    return (await tf.setBackend(name)) ? E.right(undefined) : E.left(`tfjs could not initialise '${name}'`);
  } catch (err) {
    return E.left(errorText(err));
  }
};

const nativeLoader = (pkg: string, kind: BackendKind): Loader => ({
  kind,
  load: async () => {
    applyNativeEnvDefaults();
    try {
      // A non-literal specifier: the package is an optional peer without types here.
      const spec: string = pkg;
      await import(spec);
    } catch (err) {
      return E.left(`${pkg}: ${errorText(err, pkg)}`);
    }
    if (tf.findBackendFactory('tensorflow') === null)
      return E.left(`${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs`);
    const ok = await activate('tensorflow');
    return E.map((): Loaded => ({ tfBackend: 'tensorflow', version: packageVersion(pkg), details: {} }))(ok);
  },
});

const wasmLoader: Loader = {
  kind: 'wasm',
  load: async () => {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // The .wasm binaries sit next to the Node entry point (dist/); say so explicitly rather
      // than rely on the Emscripten loader's guess, which differs between bundles.
      wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep);
      wasm.setThreadsCount(1);
      const ok = await activate('wasm');
      if (E.isLeft(ok)) return ok;
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return E.right({
        tfBackend: 'wasm',
        version: wasm.version_wasm,
        details: { simd: simd === true ? 'on' : 'off', threads: String(wasm.getThreadsCount()) },
      });
    } catch (err) {
      return E.left(`@tensorflow/tfjs-backend-wasm: ${errorText(err)}`);
    }
  },
};

const cpuLoader: Loader = {
  kind: 'cpu',
  load: async () => {
    const ok = await activate('cpu');
    if (E.isLeft(ok)) return ok;
    // The cpu backend's first tensor prints a banner urging tfjs-node; the choice (and why the
    // native packages were skipped) is reported by `BackendInfo` instead, so absorb it here.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      tf.dispose(tf.scalar(0));
    } finally {
      console.warn = warn;
    }
    return E.right({ tfBackend: 'cpu', version: tf.version_core, details: {} });
  },
};

const loaders: { readonly [K in BackendName]: Loader } = {
  'tensorflow-gpu': nativeLoader('@tensorflow/tfjs-node-gpu', 'native-gpu'),
  tensorflow: nativeLoader('@tensorflow/tfjs-node', 'native'),
  wasm: wasmLoader,
  cpu: cpuLoader,
};

/** One load attempt per backend per process (an import cannot be retried meaningfully). */
const loads = new Map<BackendName, Promise<E.Either<string, Loaded>>>();
const load = (name: BackendName): Promise<E.Either<string, Loaded>> => {
  let p = loads.get(name);
  if (p === undefined) {
    p = loaders[name].load();
    loads.set(name, p);
  }
  return p;
};

/** The outcome of automatic selection, computed once. */
let autoChoice: Promise<E.Either<BackendError, { name: BackendName; loaded: Loaded; tried: BackendAttempt[] }>> | undefined;

const chooseAuto = (): NonNullable<typeof autoChoice> => {
  autoChoice ??= (async () => {
    const tried: BackendAttempt[] = [];
    for (const name of backendNames) {
      const r = await load(name);
      if (E.isRight(r)) return E.right({ name, loaded: r.right, tried });
      tried.push({ name, reason: r.left });
    }
    return E.left({ _tag: 'BackendUnavailable', name: 'cpu', reason: 'no backend could be loaded', tried });
  })();
  return autoChoice;
};

/** Options of `selectBackend`. */
export interface BackendOptions {
  /** Use this backend (fails if it cannot load); overrides `FLUXION_BACKEND`. */
  readonly backend?: BackendName;
  /** Environment to read `FLUXION_BACKEND` from; `process.env` by default. */
  readonly env?: EnvLike;
}

/**
 * Selects and activates the tfjs backend: `options.backend`, else `FLUXION_BACKEND`, else the
 * best installed one. Idempotent and cheap when repeated (loads are memoized; re-activation
 * happens only if something else switched the tfjs backend meanwhile). Await it before any tfjs op.
 * @example
 * const r = await selectBackend({ env: { FLUXION_BACKEND: 'wasm' } });
 * if (E.isRight(r)) console.log(r.right.name, r.right.kind); // 'wasm' 'wasm'
 */
export const selectBackend = async (options: BackendOptions = {}): Promise<E.Either<BackendError, BackendInfo>> => {
  const env = options.env ?? process.env;
  let requested: BackendName | undefined;
  let source: BackendInfo['source'] = 'auto';
  if (options.backend !== undefined) {
    const p = parseBackendName(options.backend, 'option');
    if (E.isLeft(p)) return p;
    requested = p.right;
    source = 'option';
  } else {
    const v = env['FLUXION_BACKEND'];
    // `kernel` places evaluations on the generated float64 kernel (`placement.ts`): no tfjs preference.
    if (v !== undefined && v !== '' && v !== 'kernel') {
      const p = parseBackendName(v, 'FLUXION_BACKEND');
      if (E.isLeft(p)) return p;
      requested = p.right;
      source = 'env';
    }
  }
  let name: BackendName, loaded: Loaded, tried: readonly BackendAttempt[] = [];
  if (requested === undefined) {
    const a = await chooseAuto();
    if (E.isLeft(a)) return a;
    ({ name, loaded, tried } = a.right);
  } else {
    const r = await load(requested);
    if (E.isLeft(r)) return E.left({ _tag: 'BackendUnavailable', name: requested, reason: r.left, tried: [] });
    name = requested;
    loaded = r.right;
  }
  const ok = await activate(loaded.tfBackend);
  if (E.isLeft(ok)) return E.left({ _tag: 'BackendUnavailable', name, reason: ok.left, tried });
  return E.right(Object.freeze({ name, kind: loaders[name].kind, source, tried, ...loaded }));
};

/**
 * The backends that load on this machine, best first. Leaves the active backend as it was
 * (when one was active).
 * @example await availableBackends() // ['wasm', 'cpu'] without tfjs-node
 */
export const availableBackends = async (): Promise<readonly BackendName[]> => {
  const before: string | undefined = tf.getBackend();
  const out: BackendName[] = [];
  for (const name of backendNames) if (E.isRight(await load(name))) out.push(name);
  if (before !== undefined) await activate(before);
  return out;
};
