#!/usr/bin/env node
// The package's `simdflow` command: run the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
