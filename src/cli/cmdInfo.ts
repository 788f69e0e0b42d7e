/** `fluxion info`: versions, the TensorFlow.js backend in use, the kernel target, and how gradients are placed. */
import { createRequire } from 'node:module';
import * as E from 'fp-ts/lib/Either.js';
import { availableBackends, formatBackendError, selectBackend } from '../interp/backend.ts';
import { defaultKernelTarget } from '../interp/kernel/index.ts';
import { wasmSimdAvailable } from '../interp/kernel/wasm/compileWasm.ts';
import { placementFromEnv } from '../interp/placement.ts';
import type { Command } from './command.ts';
import { fail, parse } from './io.ts';

const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string => {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
};

/** `fluxion info [--json]`. @example await info.run(['--json']) */
export const info: Command = {
  run: async (args) => {
    const p = parse(args, { options: { json: { type: 'boolean' } }, allowPositionals: false });
    if (E.isLeft(p)) return p;
    const b = await selectBackend();
    if (E.isLeft(b)) return E.left(fail(formatBackendError(b.left)));
    const available = await availableBackends();
    const target = defaultKernelTarget();
    if (E.isLeft(target)) return E.left(fail(target.left));
    const report = {
      fluxion: (require('../../package.json') as { version: string }).version,
      node: process.versions.node,
      tfjs: versionOf('@tensorflow/tfjs'),
      backend: { name: b.right.name, kind: b.right.kind, source: b.right.source, version: b.right.version, details: b.right.details },
      skipped: b.right.tried,
      available,
      FLUXION_BACKEND: process.env['FLUXION_BACKEND'] ?? null,
      placement: placementFromEnv(),
      FLUXION_KERNEL: process.env['FLUXION_KERNEL'] ?? null,
      kernel: { target: target.right, wasmSimd: wasmSimdAvailable },
    };
    const placement = report.placement === 'auto'
      ? `auto: the cost model picks the generated kernel or tfjs ${b.right.name} per program and batch size`
      : `${report.placement} (forced by FLUXION_BACKEND)`;
    if (p.right.values.json === true) return E.right(JSON.stringify(report));
    const lines = [
      `fluxion ${report.fluxion}, node ${report.node}, @tensorflow/tfjs ${report.tfjs}`,
      `backend: ${b.right.name} (${b.right.kind}, ${b.right.version}; chosen by ${b.right.source === 'auto' ? 'automatic selection' : b.right.source === 'env' ? 'FLUXION_BACKEND' : 'option'})`,
      ...Object.entries(b.right.details).map(([k, v]) => `  ${k}: ${v}`),
      ...b.right.tried.map((t) => `skipped ${t.name}: ${t.reason}`),
      `available: ${available.join(', ')}`,
      `kernel: ${target.right === 'wasm' ? 'WebAssembly with SIMD' : 'JavaScript'} generated from the tape (${process.env['FLUXION_KERNEL'] !== undefined && process.env['FLUXION_KERNEL'] !== '' ? 'forced by FLUXION_KERNEL' : wasmSimdAvailable ? 'default' : 'this engine has no WebAssembly SIMD'})`,
      `placement of float32 adjoints (float64 ones with placement auto): ${placement}; float32 on the kernel computes in double and rounds the results`,
    ];
    return E.right(lines.join('\n'));
  },
};
