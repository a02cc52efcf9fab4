import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * GraphiQL at GET /graphql in a browser. Its scripts, styles and editor workers are inlined in the
 * page (@graphql-yoga/render-graphiql) instead of loaded from a CDN, so it works on a machine
 * without internet. The default document walks through a first session.
 */
export const renderOfflineGraphiQL = renderGraphiQL;

const FIRST_SESSION = `# Welcome to agentgraph.
#
# Every operation needs your API token: open "Headers" below and replace YOUR_API_TOKEN
# (the first admin's token is in DATA_DIR/admin-token; createApiToken makes more).
# Then run an operation with the ▶ button: who you are and your chats first.

query FirstLook {
  viewer {
    id
    username
    role
  }
  chats(first: 10) {
    edges {
      node {
        id
        title
        status
      }
    }
  }
}

# Starts a chat: the daemon runs its first turn with the default model.
mutation StartChat {
  createChat(input: { text: "Hello! What can you do?" }) {
    id
    status
  }
}

# Paste the id createChat returned: the answer streams in as parts, then the status turns WAITING.
subscription WatchChat {
  chatEvents(chatId: "CHAT_ID") {
    __typename
    ... on MessagePartEvent {
      part {
        ... on TextPart {
          text
        }
      }
    }
    ... on StatusEvent {
      status
      lastError
    }
  }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: 'agentgraph GraphiQL',
  defaultQuery: FIRST_SESSION,
  headers: JSON.stringify({ Authorization: 'Bearer YOUR_API_TOKEN' }, null, 2),
  // Subscriptions over graphql-ws on the same path, the transport the server offers for them.
  subscriptionsProtocol: 'WS',
};
