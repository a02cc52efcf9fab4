import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Runs a command's main() only when its module is the program itself (`tsx file.ts`), not when a
 * test, bin/ shim or another module imports it — modules never act on import.
 */
export function runIfEntryPoint(moduleUrl: string, main: (argv: string[]) => Promise<number>) {
  if (!isEntryPoint(moduleUrl)) return;
  main(process.argv.slice(2)).then((status) => {
    process.exitCode = status;
  });
}

function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
