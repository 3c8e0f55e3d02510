/**
 * A first-in first-out queue over an array with a moving head: `shift` is O(1) and the array is
 * compacted only once most of it is spent, so a long queue never pays for `Array#shift`. The
 * stream's byte queue and the memory store's history both use it.
 */
export class Queue<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  /** Items in the queue. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the head (it becomes the oldest). */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /** The item `index` places behind the head (0 is the oldest), or `undefined`. */
  at(index: number): T | undefined {
    return this.#items[this.#head + index];
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // let the item be collected now
    this.#compact();
    return item;
  }

  /** The items from `start` places behind the head to the end, as a new array. */
  slice(start = 0): T[] {
    return this.#items.slice(this.#head + Math.max(0, start)) as T[];
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
