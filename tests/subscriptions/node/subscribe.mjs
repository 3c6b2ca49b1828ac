// The graphql-ws npm client (graphql-transport-ws protocol) under Node, driven by
// tests/subscriptions/test_node_client.py. Input: one JSON object on argv[2]:
//   {url, authorization, query, variables, count}
// Output, one JSON object per line: {"connected": true}, then {"next": <result>} for each
// result, then {"done": true} once it has received `count` results and completed the
// subscription. Failures: {"error": ...} and exit code 1.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { url, authorization, query, variables, count } = JSON.parse(process.argv[2]);
const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: authorization },
  lazy: false,
  retryAttempts: 0,
  on: {
    connected: () => print({ connected: true }),
    closed: (event) => print({ closed: { code: event.code, reason: event.reason } }),
  },
});

try {
  const results = client.iterate({ query, variables });
  let seen = 0;
  for await (const result of results) {
    print({ next: result });
    seen += 1;
    if (seen >= count) break; // completes the subscription: the client sends `complete`
  }
  await client.dispose();
  print({ done: true });
} catch (err) {
  const detail = err instanceof Error ? err.message : err;
  print({ error: detail });
  await client.dispose();
  process.exit(1);
}
