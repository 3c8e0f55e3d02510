// workerd: a request runs the probe against the SSE_CLIENT_TARGET binding and answers its result.
import { probe } from './client-probe.js';

export default {
  async fetch(_request: Request, env: { SSE_CLIENT_TARGET: string }): Promise<Response> {
    return Response.json(await probe(env.SSE_CLIENT_TARGET));
  },
};
