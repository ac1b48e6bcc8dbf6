// `GET /v1/model`: which model this instance serves (`<id>@<revision>`, exactly the X-Model of its
// pictures) and the defaults and limits it applies. `npm start` reads it to configure the edge's model
// profile, so the edge resolves defaults and checks limits exactly as this instance will.
import type { Handler } from 'hono';
import type { AppEnv } from '../app-env';
import { modelLoading } from '../problems';
import type { ServiceState } from '../service-state';

export function modelInfoHandler(state: ServiceState): Handler<AppEnv> {
  return function modelInfo(c) {
    const model = state.model;
    // Warm-up is part of loading: a client that read /v1/model may send work at once.
    if (model === undefined || state.phase === 'loading' || state.phase === 'warming') throw modelLoading();
    return c.json(model.params.modelInfo(model.identity), 200, { 'Cache-Control': 'no-store' });
  };
}
