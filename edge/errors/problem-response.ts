// The contract's problem response with the edge's CORS fields, so a page on any origin can read why
// its picture failed (a 400's parameter list, a 429's Retry-After).
import { type ProblemInit, problemResponse as contractProblemResponse } from '../../contract';
import { CORS_HEADERS } from '../http/cors';

export function problemResponse(problem: ProblemInit): Response {
  return contractProblemResponse(problem, CORS_HEADERS);
}
