// The bench's baseline Worker: what serving a stored picture costs with nothing else. It returns
// the R2 object named by the path (`/images/<key>.png`) with its HTTP metadata, and does no query
// validation, no keying, no Cache API and no conditional-request handling — the floor the edge's
// hit path (bench/edge-hit-path.ts) is compared against. Plain JavaScript, so miniflare runs it as is.
export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1);
    const object = await env.IMAGES.get(key);
    if (object === null) return new Response('not found', { status: 404 });
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set('Content-Length', String(object.size));
    return new Response(object.body, { headers });
  },
};
