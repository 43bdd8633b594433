// The route's logic behind a bare node:http server, without Next.js: the repository's e2e test
// (tests/e2e/test_revalidate.py) points `make dev`'s webhook here to check that the dev server's
// requests pass the same checks the Next.js route applies. Prints one JSON line per event:
//   {"listening": <port>} first, then {"status": 204, "revalidated": ["tag", ...]} per request.
// Run: node build/scripts/receiver.js  (env REVALIDATE_API_KEY, PORT; 0 picks a free port)
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import { createRevalidateHandler } from "../lib/revalidate";

// the tags revalidated while handling the current request
const revalidated = new AsyncLocalStorage<string[]>();
const handle = createRevalidateHandler({
  apiKeys: [process.env.REVALIDATE_API_KEY],
  revalidateTag: (tag) => revalidated.getStore()?.push(tag),
  log: (message) => console.error(`[receiver] ${message}`),
});

async function toRequest(message: IncomingMessage): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
  return new Request(`http://${message.headers.host ?? "localhost"}${message.url ?? "/"}`, {
    method: message.method ?? "GET",
    headers,
    body: message.method === "GET" || message.method === "HEAD" ? undefined : body,
  });
}

const server = createServer((message, reply) => {
  toRequest(message)
    .then(async (request) => {
      const tags: string[] = [];
      const response = await revalidated.run(tags, () => handle(request));
      console.log(JSON.stringify({ status: response.status, method: request.method, revalidated: tags }));
      reply.writeHead(response.status, Object.fromEntries(response.headers));
      reply.end(Buffer.from(await response.arrayBuffer()));
    })
    .catch((error: unknown) => {
      console.error(`[receiver] ${String(error)}`);
      reply.writeHead(500).end();
    });
});

server.listen(Number(process.env.PORT ?? "0"), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: (server.address() as AddressInfo).port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
