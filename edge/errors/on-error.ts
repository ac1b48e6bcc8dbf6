// The app's single onError: a ProblemError becomes its problem; anything else is our bug (or a
// binding failing), logged and answered as a bare 500 that reveals nothing internal.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { log } from '../log';
import { ProblemError } from '../../contract';
import { problemResponse } from './problem-response';
import { internalError } from './problems';

export function onError(error: Error, c: Context): Response {
  if (error instanceof ProblemError) return problemResponse(error.problem);
  if (error instanceof HTTPException && error.status < 500) {
    return problemResponse({ type: 'about:blank', title: error.message || 'Bad Request', status: error.status });
  }
  log('error', 'unhandled', { path: new URL(c.req.url).pathname, error: describe(error) });
  return problemResponse(internalError().problem);
}

function describe(error: Error): string {
  return `${error.name}: ${error.message}`;
}
