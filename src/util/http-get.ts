// A tiny GET over node:http. Needed because fetch (undici) refuses port 10080, the design's
// default HTTP port, which the WHATWG fetch spec lists as unsafe; node:http has no such list.
import http from 'node:http';

export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export async function httpGetJson<T>(url: string, timeoutMs = 2000): Promise<T> {
  const r = await httpGet(url, timeoutMs);
  if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return JSON.parse(r.body) as T;
}
