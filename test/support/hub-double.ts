// A local stand-in for the Hugging Face Hub: an HTTP server on 127.0.0.1 that serves fixture folders
// through the endpoints @huggingface/hub and the model downloader call, answering as huggingface.co
// does (status codes, X-Error-Code, the headers the clients read):
//   GET  /api/models/<repo>/revision/<rev>[?expand=…] model info; with expand, `sha`/`siblings` only if asked
//   POST /api/models/<repo>/paths-info/<rev>          {paths, expand} → size, git oid, lfs {oid, size}
//   GET  /api/models/<repo>/tree/<rev>[/<path>]       recursive listing, paginated with a Link header
//   GET  /<repo>/resolve/<rev>/<path>                 small files: the bytes (Range aware); LFS files:
//                                                     302 to /cdn/<sha256> with X-Linked-Etag/-Size
//   GET  <cdn origin>/cdn/<sha256>                    LFS bytes (Range aware), no auth, like a signed CDN URL
// It records every request, can cut or stall one transfer part-way (to test resuming), can serve a file
// with one byte flipped (to test hash checks), and can insist on a token.
import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildHubRepo, type HubRepo, type HubRepoSource, type RepoFile } from './hub-repo';

export interface HubDoubleOptions {
  readonly repos: readonly HubRepoSource[];
  /** When set, API and resolve requests need `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Entries per page of the tree API. @default 1000 */
  readonly treePageSize?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  readonly authorization: string | undefined;
  readonly range: string | undefined;
  /** Set for resolve and cdn requests: the repo path of the file asked for. */
  file: string | undefined;
  status: number;
  /** Body bytes written for this request. */
  bodyBytes: number;
}

export interface HubDouble {
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  repo(id: string): HubRepo;
  clearRequests(): void;
  /** The next transfer of `path` sends `afterBytes` of its body, then drops the connection. */
  cutNextTransfer(path: string, afterBytes: number): void;
  /** The next transfer of `path` sends `afterBytes`, then goes silent without closing. */
  stallNextTransfer(path: string, afterBytes: number): void;
  /** Serves `path` with one byte changed (same size) until `restore`. */
  corrupt(path: string): void;
  restore(path: string): void;
  /** Body bytes sent for a file over resolve and cdn requests since the last clearRequests. */
  bytesSentFor(path: string): number;
  close(): Promise<void>;
}

type Fault = { kind: 'cut' | 'stall'; afterBytes: number };

export async function startHubDouble(options: HubDoubleOptions): Promise<HubDouble> {
  const repos = new Map<string, HubRepo>();
  for (const source of options.repos) repos.set(source.id, await buildHubRepo(source));
  const requests: RecordedRequest[] = [];
  const faults = new Map<string, Fault>();
  const corrupted = new Set<string>();
  const pageSize = options.treePageSize ?? 1000;
  let baseUrl = '';

  const handlerFor = (origin: 'hub' | 'cdn') => (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        authorization: req.headers.authorization,
        range: req.headers.range,
        file: undefined,
        status: 0,
        bodyBytes: 0,
      };
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));
      res.on('close', () => (record.status ||= res.statusCode));
      route(origin, req, res, record, Buffer.concat(chunks).toString('utf8'));
    });
  };
  // LFS bytes come from another origin, as huggingface.co redirects them to its CDN: clients must follow
  // a cross-origin redirect (which drops the Authorization header), and Python's huggingface_hub, which
  // only follows same-host redirects when reading metadata, sees the Hub's own headers.
  const server = createServer(handlerFor('hub'));
  const cdn = createServer(handlerFor('cdn'));
  let cdnUrl = '';

  function route(origin: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse, record: RecordedRequest, body: string): void {
    const url = new URL(req.url ?? '/', baseUrl);
    const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (origin === 'cdn' || segments[0] === 'cdn') {
      if (origin === 'cdn' && segments[0] === 'cdn') return serveCdn(req, res, record, segments[1] ?? '');
      return hubError(res, 404, undefined, 'Not found');
    }
    const api = segments[0] === 'api' && segments[1] === 'models';
    const [org, name, action, revision, ...rest] = api ? segments.slice(2) : segments;
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return hubError(res, 401, 'RepositoryNotFound', 'Repository not found');
    }
    const repo = repos.get(`${org}/${name}`);
    if (repo === undefined) return hubError(res, 401, 'RepositoryNotFound', 'Repository not found');
    if (revision === undefined || (revision !== repo.commit && !repo.branches.includes(revision))) {
      return hubError(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision ?? ''}`);
    }
    if (api && action === 'revision' && req.method === 'GET') return modelInfo(res, repo, url);
    if (api && action === 'paths-info' && req.method === 'POST') return pathsInfo(res, repo, body);
    if (api && action === 'tree' && req.method === 'GET') return tree(res, repo, rest.join('/'), url);
    if (!api && action === 'resolve') return resolve(req, res, record, repo, rest.join('/'));
    return hubError(res, 404, undefined, 'Not found');
  }

  function modelInfo(res: ServerResponse, repo: HubRepo, url: URL): void {
    // Without `expand` the Hub answers its default field set (sha and siblings included, as Python's
    // huggingface_hub relies on); with `expand` only what was asked for (as @huggingface/hub asks).
    const asked = url.searchParams.getAll('expand');
    const expand = asked.length === 0 ? ['sha', 'siblings'] : asked;
    sendJson(res, 200, {
      _id: repo.commit.slice(0, 24),
      id: repo.id,
      private: false,
      gated: false,
      pipeline_tag: 'text-to-image',
      downloads: 0,
      likes: 0,
      lastModified: '2024-01-01T00:00:00.000Z',
      ...(expand.includes('sha') ? { sha: repo.commit } : {}),
      ...(expand.includes('siblings') ? { siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })) } : {}),
    });
  }

  function pathsInfo(res: ServerResponse, repo: HubRepo, body: string): void {
    const request = JSON.parse(body) as { paths?: string[]; expand?: boolean };
    const entries = (request.paths ?? []).flatMap((path) => {
      const file = repo.files.get(path);
      if (file !== undefined) return [fileEntry(repo, file, request.expand === true)];
      return repo.directories.includes(path) ? [{ type: 'directory', oid: repo.commit, size: 0, path }] : [];
    });
    sendJson(res, 200, entries);
  }

  function tree(res: ServerResponse, repo: HubRepo, prefix: string, url: URL): void {
    const recursive = url.searchParams.get('recursive') === 'true';
    const under = (path: string) =>
      (prefix === '' || path.startsWith(`${prefix}/`)) &&
      (recursive || !path.slice(prefix === '' ? 0 : prefix.length + 1).includes('/'));
    const entries = [
      ...repo.directories.filter(under).map((path) => ({ type: 'directory', oid: repo.commit, size: 0, path })),
      ...[...repo.files.values()].filter((file) => under(file.path)).map((file) => fileEntry(repo, file, false)),
    ].sort((a, b) => (a.path < b.path ? -1 : 1));
    const start = Number(url.searchParams.get('cursor') ?? '0');
    const next = start + pageSize;
    if (next < entries.length) {
      const nextUrl = new URL(url);
      nextUrl.searchParams.set('cursor', String(next));
      res.setHeader('Link', `<${nextUrl.href}>; rel="next"`);
    }
    sendJson(res, 200, entries.slice(start, next));
  }

  function resolve(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, repo: HubRepo, path: string): void {
    record.file = path;
    const file = repo.files.get(path);
    if (file === undefined) return hubError(res, 404, 'EntryNotFound', `Entry not found: ${path}`);
    res.setHeader('X-Repo-Commit', repo.commit);
    if (file.lfs !== undefined) {
      res.setHeader('X-Linked-Etag', `"${file.lfs.oid}"`);
      res.setHeader('X-Linked-Size', String(file.lfs.size));
      res.setHeader('ETag', `"${file.oid}"`);
      res.setHeader('Location', `${cdnUrl}/cdn/${file.lfs.oid}`);
      res.statusCode = 302;
      res.end();
      return;
    }
    res.setHeader('ETag', `"${file.oid}"`);
    sendBytes(req, res, record, file);
  }

  function serveCdn(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, sha256: string): void {
    const file = [...repos.values()].flatMap((repo) => [...repo.files.values()]).find((f) => f.lfs?.oid === sha256);
    if (file === undefined) return hubError(res, 404, undefined, 'NoSuchKey');
    record.file = file.path;
    res.setHeader('ETag', `"${sha256}"`);
    sendBytes(req, res, record, file);
  }

  function sendBytes(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, file: RepoFile): void {
    let content = file.content;
    if (corrupted.has(file.path) && content.length > 0) {
      content = Buffer.from(content);
      const middle = Math.floor(content.length / 2);
      content[middle] = (content[middle] ?? 0) ^ 0xff;
    }
    const size = content.length;
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    let start = 0;
    let end = size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range !== null) {
      start = Number(range[1]);
      end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      if (start >= size) {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${size}`);
        res.end();
        return;
      }
      res.statusCode = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    } else {
      res.statusCode = 200;
    }
    const body = content.subarray(start, end + 1);
    res.setHeader('Content-Length', String(body.length));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const fault = faults.get(file.path);
    if (fault === undefined) {
      record.bodyBytes += body.length;
      res.end(body);
      return;
    }
    faults.delete(file.path);
    const part = body.subarray(0, Math.min(fault.afterBytes, body.length));
    record.bodyBytes += part.length;
    res.flushHeaders();
    res.write(part);
    // 'cut': close the connection once `part` is flushed (end, not destroy, which could drop queued bytes).
    // 'stall': leave the response open and silent; the client gives up and closes it.
    if (fault.kind === 'cut') res.socket?.end();
  }

  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  // Another host name for the CDN (Python compares host names, not ports), on the address it resolves to.
  const localhost = await lookup('localhost');
  await new Promise<void>((resolveListen) => cdn.listen(0, localhost.address, resolveListen));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cdnUrl = `http://localhost:${(cdn.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    repo(id) {
      const repo = repos.get(id);
      if (repo === undefined) throw new Error(`the double serves no repo ${id}`);
      return repo;
    },
    clearRequests: () => void requests.splice(0),
    cutNextTransfer: (path, afterBytes) => void faults.set(path, { kind: 'cut', afterBytes }),
    stallNextTransfer: (path, afterBytes) => void faults.set(path, { kind: 'stall', afterBytes }),
    corrupt: (path) => void corrupted.add(path),
    restore: (path) => void corrupted.delete(path),
    bytesSentFor: (path) => requests.filter((r) => r.file === path).reduce((sum, r) => sum + r.bodyBytes, 0),
    close: async () => {
      for (const each of [server, cdn]) {
        each.closeAllConnections();
        await new Promise<void>((resolveClose, reject) => each.close((error) => (error ? reject(error) : resolveClose())));
      }
    },
  };
}

function fileEntry(repo: HubRepo, file: RepoFile, expand: boolean): { path: string } & Record<string, unknown> {
  return {
    type: 'file',
    oid: file.oid,
    size: file.content.length,
    path: file.path,
    ...(file.lfs === undefined ? {} : { lfs: file.lfs }),
    ...(expand
      ? { lastCommit: { id: repo.commit, title: 'Add fixture', date: '2024-01-01T00:00:00.000Z' }, securityFileStatus: { status: 'safe' } }
      : {}),
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}

function hubError(res: ServerResponse, status: number, code: string | undefined, message: string): void {
  if (code !== undefined) res.setHeader('X-Error-Code', code);
  res.setHeader('X-Error-Message', message);
  sendJson(res, status, { error: message });
}
