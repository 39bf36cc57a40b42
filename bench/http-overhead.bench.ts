/**
 * Cost of the SDK's HTTP layer (deadline, retry bookkeeping, typed errors, redacted logging) against raw
 * axios, on the same loopback server in one run. Prints one JSON line per measurement.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import axios from 'axios';
import { HttpClient } from '../src/core/http.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const body = JSON.stringify({ thingId: 'org.acme:lamp-1', features: { temperature: { properties: { value: 21.5 } } } });
const server = createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.setHeader('etag', '"rev:1"');
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function measure(name: string, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i += 1) await call();
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i += 1) {
    const t0 = performance.now();
    await call();
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const opsPerSec = REQUESTS / seconds;
  console.log(
    JSON.stringify({
      bench: 'http-overhead',
      name,
      requests: REQUESTS,
      opsPerSec: Math.round(opsPerSec),
      p50Ms: Number(percentile(latencies, 50).toFixed(3)),
      p99Ms: Number(percentile(latencies, 99).toFixed(3)),
    }),
  );
  return opsPerSec;
}

const raw = axios.create({ httpAgent: new http.Agent({ keepAlive: true }), proxy: false });
const sdk = new HttpClient({ baseUrl: base, service: 'bench', credentials: { type: 'basic', username: 'ditto', password: 'ditto' } });
const rawRate = await measure('raw-axios', () =>
  raw.get(`${base}/api/2/things/org.acme%3Alamp-1`, { headers: { authorization: 'Basic ZGl0dG86ZGl0dG8=' } }),
);
const sdkRate = await measure('twinledger-http', () => sdk.request({ method: 'GET', path: '/api/2/things/org.acme%3Alamp-1' }));
console.log(JSON.stringify({ bench: 'http-overhead', name: 'ratio', sdkVsRaw: Number((sdkRate / rawRate).toFixed(3)) }));
server.close();
process.exit(0);
