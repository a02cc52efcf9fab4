#!/usr/bin/env node
// Launcher for the workspace agent: registers tsx's ESM loader so the TypeScript sources run
// without a build step, then hands the command line to main().
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/workspace/agent/main.ts');
process.exitCode = await main(process.argv.slice(2));
