/** HTTP requests the server tests send. */

/** POSTs `body` as JSON to `base` + `route`; the status and the parsed answer, so a test reads the error it names. */
export async function postJson(base: string, route: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
