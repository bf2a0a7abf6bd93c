/**
 * The messages between a {@linkcode WorkerPool} and its workers (application
 * messages ride in `app`). Private to the net package.
 *
 * @module
 */

/** The messages between the pool and its workers (application messages ride in `app`). */
export type ToWorker =
  | {
    kind: "start";
    index: number;
    generation: number;
    port: number;
    ports: Record<string, number>;
    data: unknown;
  }
  | { kind: "shutdown" }
  | { kind: "app"; message: unknown };
export type FromWorker =
  | { kind: "listening"; hostname: string; port: number; ports: Record<string, number> }
  | { kind: "failed"; name: string; message: string; hostname?: string; port?: number }
  | { kind: "stopped"; stats: Record<string, number> }
  | { kind: "app"; message: unknown };
