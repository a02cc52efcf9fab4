import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './server/app.js';

/** Boots server + daemon and wires signals to stop(). Everything else lives in buildApp(). */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = buildApp(config);
  await app.start();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    console.error(`${signal} received: shutting down`);
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  console.error('agentgraph failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
