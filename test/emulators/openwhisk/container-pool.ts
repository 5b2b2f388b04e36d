/**
 * The emulator's container pool, like an OpenWhisk invoker's: warm containers reused per action
 * version (one activation at a time unless the action's concurrency limit is above 1), new ones
 * started up to `maxContainers`, idle containers of other actions evicted to make room, requests
 * queued when every container is busy, idle containers reaped, everything killed on `stop()`.
 */
import { Container, type ContainerSpec } from "./container.js";
import type { OpenWhiskEmulatorStats } from "./types.js";

/** What the pool needs to know about the action to run. */
export interface ContainerDemand {
  /** `path@version`: containers are shared only by the same code. */
  containerKey: string;
  concurrency: number;
  memoryMb: number;
}

/** A container lent to one activation. */
export interface Lease {
  container: Container;
  /** True when the container had served an activation before (a warm start). */
  warm: boolean;
}

interface Waiting {
  demand: ContainerDemand;
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
}

/** Lends containers to activations. */
export class ContainerPool {
  private readonly containers = new Set<Container>();
  private starting = 0;
  /** Requests waiting for a container, oldest first (served ones become undefined until compacted). */
  private queue: (Waiting | undefined)[] = [];
  private holes = 0;
  private readonly reaper: NodeJS.Timeout;
  private stopped = false;

  /**
   * @param spec - how containers are started
   * @param maxContainers - processes alive at once
   * @param idleMs - idle time after which a container is killed
   * @param stats - counters to update
   */
  constructor(
    private readonly spec: ContainerSpec,
    private readonly maxContainers: number,
    private readonly idleMs: number,
    private readonly stats: OpenWhiskEmulatorStats,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), Math.max(50, Math.min(idleMs / 4, 5_000)));
    this.reaper.unref();
  }

  /**
   * Lend a container for one activation: a warm one for the same code if one has room, else a new
   * one (evicting an idle container of other code when the pool is full), else wait in line.
   * @param demand - the action to run
   * @returns the lease; give it back with {@link release} or {@link discard}
   * @throws Error when the pool is stopped or a container cannot start
   */
  acquire(demand: ContainerDemand): Promise<Lease> {
    if (this.stopped) return Promise.reject(new Error("the emulator is stopping"));
    return new Promise((resolve, reject) => {
      this.queue.push({ demand, resolve, reject });
      this.serveQueue();
    });
  }

  /**
   * Give back a healthy container.
   * @param container - the container lent
   */
  release(container: Container): void {
    container.active--;
    container.lastUsedMs = Date.now();
    if (container.dead) this.forget(container);
    this.serveQueue();
  }

  /**
   * Give back a container that must not be reused (developer error, timeout): it is killed.
   * @param container - the container lent
   * @returns when the process has exited
   */
  async discard(container: Container): Promise<void> {
    container.active--;
    this.forget(container);
    await this.killContainer(container);
    this.serveQueue();
  }

  /**
   * Kill every container and fail every waiting request.
   * @returns when every process has exited
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    for (const waiting of this.queue.splice(0)) waiting?.reject(new Error("the emulator is stopping"));
    this.holes = 0;
    const all = [...this.containers];
    this.containers.clear();
    await Promise.all(all.map((c) => this.killContainer(c)));
  }

  private serveQueue(): void {
    for (let i = 0; i < this.queue.length && this.hasRoom(); i++) {
      if (this.tryServe(this.queue[i])) {
        this.queue[i] = undefined;
        this.holes++;
      }
    }
    while (this.queue.length > 0 && this.queue[0] === undefined) {
      this.queue.shift();
      this.holes--;
    }
    if (this.holes > 64 && this.holes * 2 > this.queue.length) {
      this.queue = this.queue.filter((w) => w !== undefined);
      this.holes = 0;
    }
  }

  /** Whether any request could be served now: a container with room, a free slot or an idle one. */
  private hasRoom(): boolean {
    if (this.containers.size + this.starting < this.maxContainers) return true;
    for (const c of this.containers) if (!c.dead && (c.active === 0 || c.active < c.concurrency)) return true;
    return false;
  }

  private tryServe(waiting: Waiting | undefined): boolean {
    if (waiting === undefined) return false;
    const { demand } = waiting;
    for (const c of this.containers) {
      if (c.key === demand.containerKey && !c.dead && c.active < c.concurrency) {
        const warm = c.served > 0;
        if (warm) this.stats.warmStarts++;
        c.active++;
        c.served++;
        waiting.resolve({ container: c, warm });
        return true;
      }
    }
    if (this.containers.size + this.starting >= this.maxContainers && !this.evictIdle()) return false;
    this.startFor(waiting);
    return true;
  }

  private evictIdle(): boolean {
    let oldest: Container | undefined;
    for (const c of this.containers) if (c.active === 0 && (!oldest || c.lastUsedMs < oldest.lastUsedMs)) oldest = c;
    if (!oldest) return false;
    this.forget(oldest);
    void this.killContainer(oldest);
    return true;
  }

  private startFor(waiting: Waiting): void {
    this.starting++;
    const { containerKey, concurrency, memoryMb } = waiting.demand;
    Container.start(this.spec, containerKey, concurrency, memoryMb).then(
      (container) => {
        this.starting--;
        this.stats.containersStarted++;
        this.stats.containersAlive++;
        if (this.stopped) {
          void this.killContainer(container);
          waiting.reject(new Error("the emulator is stopping"));
          return;
        }
        this.containers.add(container);
        void container.exitedPromise().then(() => this.onExit(container));
        container.active = 1;
        container.served = 1;
        waiting.resolve({ container, warm: false });
      },
      (err: unknown) => {
        this.starting--;
        waiting.reject(err instanceof Error ? err : new Error(String(err)));
        this.serveQueue();
      },
    );
  }

  private onExit(container: Container): void {
    this.stats.containersAlive--;
    if (container.active === 0) this.forget(container);
    this.serveQueue();
  }

  private forget(container: Container): void {
    this.containers.delete(container);
  }

  private async killContainer(container: Container): Promise<void> {
    if (!container.dead) this.stats.containersKilled++;
    await container.kill();
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const c of [...this.containers]) {
      if (c.active === 0 && now - c.lastUsedMs > this.idleMs) {
        this.forget(c);
        void this.killContainer(c);
      }
    }
  }
}
