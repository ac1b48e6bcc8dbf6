// HTTP helpers for tests against the running stack: one call that reads the whole answer (status,
// headers, body bytes), and the problem+json of an error answer.
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Uint8Array;
  /** The body as RFC 9457 problem details (fails the test when it is not JSON). */
  problem(): { type: string; title: string; status: number; detail?: string; errors?: { param: string; message: string }[] };
}

export async function fetchAnswer(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    bytes,
    problem: () => JSON.parse(new TextDecoder().decode(bytes)) as ReturnType<Answer['problem']>,
  };
}

/** `/v1/images?…` on `origin`, the query built from `params` as a browser form would. */
export function imageUrl(origin: string, params: Readonly<Record<string, string | number>>): string {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  return `${origin}/v1/images?${query.toString()}`;
}
