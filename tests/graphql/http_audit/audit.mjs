// Runs graphql-http's serverAudits against a live Portico and prints one JSON line per audit:
// {"id", "name", "status": "ok" | "warn" | "error", "reason"}. Argument: {"url", "authorization"}.
import { serverAudits } from 'graphql-http';

const { url, authorization } = JSON.parse(process.argv[2]);

// Every audit request carries the tenant's credentials (Portico authenticates first).
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
};

for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  const line = { id: audit.id, name: audit.name, status: result.status };
  if (result.status !== 'ok') {
    line.reason = result.reason;
    if (result.response) {
      line.httpStatus = result.response.status;
      try {
        line.body = (await result.response.text()).slice(0, 300);
      } catch {
        line.body = '(read by the audit)';
      }
    }
  }
  console.log(JSON.stringify(line));
}
