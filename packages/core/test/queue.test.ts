import { describe, expect, it } from 'vitest';
import { Queue } from '../src/queue.js';

describe('Queue (the byte queue of streams and the memory store history)', () => {
  it('is first in, first out, through many compactions', () => {
    const queue = new Queue<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let n = 0; n < 300; n++) queue.push(next++);
      for (let n = 0; n < 250; n++) expect(queue.shift()).toBe(expected++);
      expect(queue.length).toBe(next - expected);
      expect(queue.at(0)).toBe(expected);
      expect(queue.at(queue.length - 1)).toBe(next - 1);
      expect(queue.at(queue.length)).toBeUndefined();
    }
    expect(queue.slice(queue.length - 3)).toEqual([next - 3, next - 2, next - 1]);
    expect(queue.slice(-5)).toHaveLength(queue.length);
    while (queue.length > 0) expect(queue.shift()).toBe(expected++);
    expect(queue.shift()).toBeUndefined();
    expect(expected).toBe(next);
  });
});
