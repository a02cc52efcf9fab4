import { parseArgs } from 'node:util';

import { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { resolveSecretKey } from '../crypto/secret-key.js';
import { openDatabase } from '../db/client.js';
import { AGENT_TOKEN_ENV } from './agent/main.js';
import { registerRemoteWorkspace } from './service.js';
import { runIfEntryPoint } from '../entry-point.js';

/**
 * Operator command: registers a workspace agent running on another host, so a user's chats can
 * work in it. Run where the server's environment is (same DATABASE_URL / DATA_DIR and SECRET_KEY):
 *
 *   AGENTGRAPH_AGENT_TOKEN=<token> npx tsx src/workspace/register-remote.ts \
 *     --owner alice --name build-box --url http://10.0.0.7:7070
 *
 * It checks that the agent answers with that token, stores the workspace (token encrypted) and
 * prints its id; the owner then passes it as `createChat(input: { workspaceId })`.
 */

const USAGE = `Usage: register-remote --owner USERNAME --name NAME --url URL [--template LABEL]

The agent's token is read from ${AGENT_TOKEN_ENV}.`;
const EXIT_USAGE = 2;

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { owner?: string; name?: string; url?: string; template?: string };
  try {
    values = parseArgs({
      args: argv,
      options: {
        owner: { type: 'string' },
        name: { type: 'string' },
        url: { type: 'string' },
        template: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`register-remote: ${error instanceof Error ? error.message : String(error)}`);
    console.error(USAGE);
    return EXIT_USAGE;
  }
  const token = env[AGENT_TOKEN_ENV];
  if (!values.owner || !values.name || !values.url || !token) {
    console.error(USAGE);
    return EXIT_USAGE;
  }

  const config = loadConfig(env);
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    pgliteDataDir: `${config.DATA_DIR}/pglite`,
  });
  try {
    const secretBox = createSecretBox(await resolveSecretKey(config.SECRET_KEY, config.DATA_DIR));
    const owner = await database.prisma.user.findUnique({ where: { username: values.owner } });
    if (!owner) {
      console.error(`register-remote: no user named ${values.owner}`);
      return 1;
    }
    const workspace = await registerRemoteWorkspace(
      { prisma: database.prisma, secretBox },
      {
        ownerId: owner.id,
        name: values.name,
        agentUrl: values.url,
        token,
        template: values.template,
      },
    );
    console.log(workspace.id);
    return 0;
  } catch (error) {
    console.error(`register-remote: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await database.close();
  }
}

runIfEntryPoint(import.meta.url, main);
