import type { CaseGroup } from '../harness.js';
import { backpressureCases } from './backpressure.js';
import { guardCases } from './guards.js';
import { http2Cases } from './http2.js';
import { lifecycleCases } from './lifecycle.js';
import { reconnectCases } from './reconnect.js';
import { topicCases } from './topics.js';
import { wireCases } from './wire.js';

/** Every case of the suite, in the order they run. */
export const CASE_GROUPS: readonly CaseGroup[] = [...wireCases, ...reconnectCases, ...guardCases, ...topicCases, ...lifecycleCases, ...backpressureCases, ...http2Cases];
