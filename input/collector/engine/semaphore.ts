// A counting semaphore: bounds how many streams poll at the same time without starving any (each stream
// takes a permit per poll, not for its lifetime, so a long-running collector with more streams than permits
// still serves them all).
export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private permits: number) {}

  async acquire(): Promise<void> {
    if (this.permits > 0) {
      this.permits--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.permits++;
  }
}
