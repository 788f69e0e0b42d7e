#!/usr/bin/env node
// The `fluxion` command: runs the TypeScript CLI through tsx's loader (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/run.ts');
