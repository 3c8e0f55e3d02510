// The Workers entry (a module worker, run by workerd under Miniflare). SSE_BRIDGE_CTRL is a
// plain-text binding with the control server's URL.
import { createBridge } from './app.js';

interface Env {
  SSE_BRIDGE_CTRL: string;
}
let bridge: ReturnType<typeof createBridge> | undefined;

export default {
  fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    const base = env.SSE_BRIDGE_CTRL;
    bridge ??= createBridge((path, body) => fetch(base + path, { method: 'POST', body: JSON.stringify(body) }));
    return bridge(request, env, ctx);
  },
};
