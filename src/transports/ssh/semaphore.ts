/** At most `size` holders at once; the rest wait in order. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.size) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Whether a slot is free (then nobody waits: a released slot passes straight to a waiter). */
  get free(): boolean {
    return this.held < this.size;
  }

  /** Takes a slot only if one is free. */
  tryAcquire(): boolean {
    if (!this.free) return false;
    this.held++;
    return true;
  }

  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(); // the slot passes straight to the next waiter
    else this.held--;
  }
}
