// Apollo Client with its persisted-queries link (automatic persisted queries), run by
// tests/access/test_persisted_queries.py. Argument: a JSON job
// {url, authorization, query, variables, get, times}. It runs the query `times` times
// (network-only) and prints one JSON line: {results: [...], requests: [...]}, where each
// request is {method, hasQuery, hash, query} as this client sent it. With {print: true} it
// prints the document text it would send instead.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { addTypenameToDocument } from "@apollo/client/utilities";
import { print } from "graphql";

const job = JSON.parse(process.argv[2]);
if (job.print) {
  // The text this client sends for job.query (with the __typename fields it adds): what a
  // trusted-documents manifest lists.
  process.stdout.write(JSON.stringify({ text: print(addTypenameToDocument(gql(job.query))) }) + "\n");
  process.exit(0);
}
const requests = [];

async function recordingFetch(input, init) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const method = (init && init.method) || "GET";
  let body = {};
  if (method === "GET") {
    body = {
      query: url.searchParams.get("query"),
      extensions: JSON.parse(url.searchParams.get("extensions") || "{}"),
    };
  } else if (init && init.body) {
    body = JSON.parse(init.body);
  }
  requests.push({
    method,
    hasQuery: typeof body.query === "string" && body.query.length > 0,
    hash: body.extensions?.persistedQuery?.sha256Hash ?? null,
    query: body.query ?? null,
  });
  return fetch(input, init);
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: !!job.get }).concat(
  new HttpLink({
    uri: job.url,
    headers: { Authorization: job.authorization },
    fetch: recordingFetch,
  }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const results = [];
for (let i = 0; i < (job.times ?? 2); i++) {
  try {
    const { data, error } = await client.query({
      query: gql(job.query),
      variables: job.variables ?? {},
      fetchPolicy: "network-only",
      errorPolicy: "all",
    });
    results.push({ data: data ?? null, error: error ? String(error.message) : null });
  } catch (e) {
    results.push({ data: null, error: String(e && e.message) });
  }
}
process.stdout.write(JSON.stringify({ results, requests }) + "\n");
